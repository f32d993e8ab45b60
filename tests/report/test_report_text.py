"""The report's tables and text on constructed tables: failed runs named, the verdict table and
its rules, page 1 (abstract, compact table), captions and chapters, and two profiles compared."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from aestudy import cli
from aestudy.experiments.autoencode import report as autoencode
from aestudy.experiments.correlate import report as correlate
from aestudy.experiments.transfer import summaries as transfer_data
from aestudy.report import appendix, compare, decide, profile, prose, sentences, tables, text, verdicts
from aestudy.report.claims import SEED_COUNT
from aestudy.report.decide import CONTRADICTED, INCONCLUSIVE, SUPPORTED
from aestudy.report.experiments import claims as all_claims
from aestudy.report_params import ReportParams
from constructed import (
    SEEDS,
    _ae,
    _good_error,
    _interp,
    _study_like,
    _study_profile,
    _transfer,
    _write_profile,
)

# ------------------------------------------------------------------ tables, failed runs, the summary


def test_usable_rows_and_problem_runs_warnings(tmp_path):
    table = pd.DataFrame(
        {
            "run_id": ["d5", "d10", "d10", "d15", "d20"],
            "status": ["ok", "failed", "failed", "cached", "skipped"],
            "error": [
                np.nan,
                "RuntimeError: boom",
                "RuntimeError: boom",
                np.nan,
                "upstream run autoencode/d20-nc2 failed",
            ],
            "accuracy": [0.7, np.nan, np.nan, 0.8, np.nan],
        }
    )
    assert profile.usable_rows(table)["run_id"].tolist() == ["d5", "d15"]
    probs = profile.problem_runs(table)
    assert probs["run_id"].tolist() == ["d10", "d20"]
    data = profile.ProfileData(tmp_path, tables={"transfer": table})
    warning = sentences.status_markdown(data, "transfer")
    assert "`d10` failed**: RuntimeError: boom" in warning
    assert "`d20` skipped**: upstream run autoencode/d20-nc2 failed" in warning
    assert "No usable" not in warning
    only_failed = profile.ProfileData(tmp_path, tables={"transfer": table[table.status == "failed"]})
    assert "No usable transfer runs" in sentences.status_markdown(only_failed, "transfer")
    assert "No usable correlate runs" in sentences.status_markdown(data, "correlate")


def test_the_report_notebook_on_a_profile_that_never_ran_says_so_in_one_line(tmp_path):
    """Opened in JupyterLab before any study has run, the report notebook stops with one line
    naming the folder and what to do, not a report of zero seeds; it creates nothing there."""
    from aestudy.schema import ParamsError

    with pytest.raises(ParamsError, match=r"^profile_dir \S+/nowhere: no runs there; run the study first"):
        profile.read_profile(tmp_path / "nowhere", require_runs=True)
    assert not (tmp_path / "nowhere").exists()
    (tmp_path / "ran" / "runs").mkdir(parents=True)
    assert profile.read_profile(tmp_path / "ran", require_runs=True).dir == tmp_path / "ran"


@pytest.mark.parametrize(
    "content, reason",
    [
        (bytes(range(256)) * 2, "unreadable"),
        (b"", "unreadable"),
        (b"a,b\n1,2\n", "no run_id or status column"),
    ],
    ids=["binary", "empty", "other-columns"],
)
def test_a_damaged_table_is_one_line_naming_it_not_a_report_of_zero_runs(tmp_path, content, reason):
    """Read as no runs, it made a report of "0 autoencoder seeds" (exit 0) and an "agree" in compare."""
    from aestudy.schema import ParamsError

    (tmp_path / "runs").mkdir()
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "autoencode.csv").write_bytes(content)
    with pytest.raises(ParamsError, match=rf"tables/autoencode.csv: not a table the runner wrote \({reason}"):
        profile.read_profile(tmp_path, require_runs=True)


def test_verdicts_on_an_empty_profile_are_inconclusive_not_errors(tmp_path):
    data = profile.read_profile(tmp_path)
    v = verdicts.verdicts(data)
    n = len(all_claims())  # every claim of every experiment of the registry
    assert list(v.index) == list(all_claims()) and set(v["verdict"]) == {INCONCLUSIVE}
    assert list(v.columns) == [
        "experiment",
        "conclusion",
        "this run's numbers",
        "verdict",
        "seeds",
        "holds",
        "of seeds",
        "key number",
        "decides",
        "would decide it",
        "note",
        "detail",
        "unadjusted",
        "p",
        "p (Holm)",
        "df",
    ]
    assert set(v["key number"]) == {"n/a"}
    assert verdicts.summary_counts(v) == f"0 supported, 0 contradicted, {n} inconclusive"
    assert "0</b>" not in prose.abstract_markdown(data, v) and "supports **0**" in prose.abstract_markdown(
        data, v
    )


def test_rules_come_from_the_profile_params_with_defaults(tmp_path):
    assert profile.ProfileData(tmp_path).rules == ReportParams()
    data = profile.ProfileData(
        tmp_path,
        tables={"transfer": _transfer(_study_like)},
        params={"report": {"h1_margin": 0.001, "confidence": 0.9}},
    )
    assert data.rules.h1_margin == 0.001
    v = verdicts.verdicts(data)
    assert v.loc["h1_matters_little", "verdict"] != SUPPORTED  # 0.1 points: too strict
    assert "90 % t-interval" in v.loc["finetune_beats_frozen", "this run's numbers"]
    rules = verdicts.rules_markdown(data.rules)
    assert "±0.1 percentage points" in rules and "90 %" in rules
    for word in ("**supported**", "**contradicted**", "**inconclusive**"):
        assert word in rules


def test_verdict_table_uses_only_the_three_words():
    data = profile.ProfileData(
        Path("."),
        tables={
            "autoencode": _ae(_good_error),
            "transfer": _transfer(_study_like),
            "interpolate": _interp([0.5] * 3, [0.7] * 3, [0.8] * 3, [0.6] * 3),
        },
    )
    v = verdicts.verdicts(data)
    assert (
        set(v["verdict"]) <= set(decide.WORDS)
        and v["seeds"].str.match(r"(holds in \d of \d seeds|no seeds|untested)$").all()
    )
    assert "not supported" not in text.markdown_table(v) + verdicts.rules_markdown(ReportParams())


def test_markdown_table_escapes_and_prints_three_significant_digits():
    md = text.markdown_table(pd.DataFrame({"a|b": ["x|y", None], "v": [0.123456, float("nan")]}))
    lines = md.splitlines()
    assert lines[0] == "| a\\|b | v |" and lines[1] == "|---|---|"
    assert lines[2] == "| x\\|y | 0.123 |" and lines[3] == "|  | n/a |"


def test_ci_tables():
    s = transfer_data.transfer_summaries(_transfer(_study_like))
    by_d = s["by_d"]
    assert set(by_d["n"]) == {3}  # 3 autoencoder seeds, for every mode
    t = tables.ci_table(by_d, "latent_dim", "mode")
    assert list(t.columns) == ["d", "frozen", "finetune", "scratch", "augmented"]
    assert t.iloc[0]["finetune"].startswith(
        text.fmt_pct(by_d.set_index(["latent_dim", "mode"]).loc[(5, "finetune"), "mean"])
    )
    assert len(s["baselines"]) == 2 and set(s["baselines"]["n"]) == {3}  # over the seeds their draws follow
    grid = autoencode.fidelity.table(_ae(_good_error))
    assert list(grid.columns) == ["d", "num_conv", "autoencoders", "seeds"] and "[" in grid.iloc[0, 2]
    corr = pd.DataFrame(
        [
            {
                "latent_dim": d,
                "num_conv": 1,
                "seed": s,
                "offdiag": 0.1 * (1 + s),
                "with_diag": 0.5,
                "n_constant": 1,
            }
            for d in (5, 20)
            for s in SEEDS
        ]
    )
    ct = correlate.table(corr)
    assert list(ct.columns) == ["num_conv", "d", "off-diagonal", "with diagonal", "seeds", "constant dims"]
    assert ct["seeds"].tolist() == [3, 3] and ct["constant dims"].tolist() == [3, 3]


# ------------------------------------------------------------------ two profiles compared


def test_compare_two_profile_folders(tmp_path, capsys):
    full = _write_profile(tmp_path / "full", "full", _ae(_good_error), _transfer(_study_like))
    # same conclusions, but too few seeds for anything in autoencode: inconclusive does not disagree
    default = _write_profile(
        tmp_path / "default", "default", _ae(_good_error, seeds=(0,)), _transfer(_study_like)
    )
    out = compare.compare(full, default)
    lines = out.splitlines()
    head = "[1] Reconstruction error falls as d grows  <- only full decides"
    assert head in lines
    block = lines[lines.index(head) + 1 :]
    assert block[0].split()[:2] == ["full", "supported"]
    default_line = next(line for line in block if line.split()[:1] == ["default"])
    assert default_line.split()[1] == "inconclusive"
    full_text = " ".join(line.strip() for line in block[: block.index(default_line)])
    assert "3 autoencoder seeds, df 2" in full_text and "this run's numbers" not in out
    assert all(len(line) <= 100 for line in lines if line.startswith("  ") and "decides" not in line)
    assert (
        lines[-1] == "agree: the same verdict on all 6 conclusions both decide (neither finds inconclusive)"
    )
    alone = lines[lines.index("decided by one profile only (the other inconclusive): 2") + 1 :][:2]
    assert alone[0] == "  [1] Reconstruction error falls as d grows: full supported"  # named by title, no id
    assert not any("error_falls_with_d" in line for line in lines)
    # --detail: the report's whole paragraph of numbers
    detailed = compare.compare(full, default, detail=True)
    assert "least-squares slope" in detailed and "least-squares slope" not in out
    # a profile where the error rises with d, judged with a stricter h1 margin
    rising = _write_profile(
        tmp_path / "rising",
        "rising",
        _ae(lambda d, nc, s: (0.02 + 0.001 * d) * (1 + 0.05 * s)),
        _transfer(_study_like),
        report={"h1_margin": 0.001},
    )
    lines = compare.compare(full, rising).splitlines()
    assert lines[-1].startswith("DISAGREE on 1 of the ") and lines[-1].endswith(
        "both decide (neither finds inconclusive)"
    )
    assert "  [1] Reconstruction error falls as d grows: full supported, rising contradicted" in lines
    assert "[1] Reconstruction error falls as d grows  <- the verdicts differ" in lines
    assert (
        "note: the profiles decide by different report: rules (h1_margin: full 0.02, rising 0.001)" in lines
    )
    assert cli.main(["compare", str(full), str(default)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[-1].startswith("agree") and printed[0].startswith("verdicts: full")
    assert cli.main(["compare", str(full), str(tmp_path / "nowhere")]) == 2


def test_compare_given_a_parameter_file_decides_its_side_by_the_files_report_rules(
    tmp_path, capsys, monkeypatch
):
    """As `render params/x.yaml` does: the file's `report:` section, not that of the runs' copy."""
    monkeypatch.setenv("REPORTS_DIR", str(tmp_path / "reports"))
    full = _write_profile(tmp_path / "reports" / "full", "full", _ae(_good_error), _transfer(_study_like))
    strict = tmp_path / "full.yaml"
    strict.write_text("profile: full\nreport: {confidence: 0.8}\n")
    assert compare.report_section(str(strict)) == {"confidence": 0.8}
    assert compare.report_section(str(full)) is None
    assert cli.main(["compare", str(strict), str(full)]) == 0
    out = capsys.readouterr().out
    assert "80 % t-interval" in out and "95 % t-interval" in out
    assert "note: the profiles decide by different report: rules" in out
    strict.write_text("profile: full\nreport: {confidence: 2}\n")
    assert cli.main(["compare", str(strict), str(full)]) == 2
    assert f"{strict}: report.confidence:" in capsys.readouterr().err


# ------------------------------------------------------------------ the report as read: page 1, captions, contents


def test_key_numbers_are_short_and_page_one_table_has_every_row():
    data = _study_profile()
    v = verdicts.verdicts(data)
    by_d = _ae(_good_error).groupby("latent_dim")["final_test_error"].mean()
    assert (
        v.loc["error_falls_with_d", "key number"]
        == f"{text.fmt(by_d.iloc[0])} at d=5 → {text.fmt(by_d.iloc[-1])} at d=20"
    )
    key = v.loc["finetune_beats_frozen", "key number"]
    assert re.fullmatch(r"[+-]\d+\.\d \[[+-]\d+\.\d, [+-]\d+\.\d\] points", key), key
    assert (v["key number"].str.len() <= 60).all()
    html = verdicts.page_one_table(v)
    assert html.count("<tr>") == len(v) + 1 and "holds in" in html and "key number" in html
    assert "this run's numbers" not in html and "d &lt; 10 is clearly worse" in html
    for word in set(v["verdict"]):
        assert f"verdict-{word}" in html
    assert "holds in 3 of 3 seeds" not in html and ">3 of 3<" in html
    words = v[v["holds"].isna()]  # no decision: its words ("untested", "no seeds"), never "nan of 0"
    assert len(words) and all(f">{w}<" in html for w in words["seeds"]) and "nan" not in html


def test_abstract_counts_and_names_the_contradicted_claims():
    data = _study_profile()
    v = verdicts.verdicts(data).copy()
    v.loc["correlation_falls", "verdict"] = CONTRADICTED
    v.loc["correlation_falls", "key number"] = "0.181 at d=5 → 0.248 at d=20"
    a = prose.abstract_markdown(data, v)
    counts = v["verdict"].value_counts()
    added = sum(c.experiment.endswith("+") for c in all_claims().values())
    assert a.startswith(
        f"**Abstract.** Of the {len(v)} conclusions ({len(v) - added} of the original study, "
        f"{added} added here)"
    )
    assert f"supports **{counts.get(SUPPORTED, 0)}**, contradicts **{counts.get(CONTRADICTED, 0)}**" in a
    assert "Contradicted: latent correlation falls as d grows (0.181 at d=5 → 0.248 at d=20)." in a
    if (v["seeds"] == "untested").sum() == 1:  # the study's grid cannot test "d < 10 clearly worse"
        assert "inconclusive, 1 of them because the design cannot test it (" in a
    assert (
        "Key effects: test reconstruction error" in a
        and v.loc["pretraining_beats_scratch", "key number"] in a
    )
    assert 3 <= a.count(". ") + 1 <= 5
    assert all(a.count(k) <= 1 for k in v["key number"] if k not in ("", "n/a"))  # a contradicted one: once


def test_a_contradicted_claim_in_the_abstract_carries_its_note():
    """A caveat that changes how a verdict reads (the two modes' protocols differ in augmentation)
    stands beside it on page 1, not only in the detailed block."""
    data = _study_profile()
    v = verdicts.verdicts(data).copy()
    v.loc["correlation_falls", "verdict"] = CONTRADICTED
    v.loc["correlation_falls", "key number"] = "0.181 at d=5 → 0.248 at d=20"
    v.loc["correlation_falls", verdicts.NOTE] = "measured on one encoder only."
    a = prose.abstract_markdown(data, v)
    assert (
        "latent correlation falls as d grows (0.181 at d=5 → 0.248 at d=20; note: measured on one encoder only)"
        in a
    )


def test_captions_are_numbered_in_order_and_escaped():
    c = text.Captions()
    assert (
        c.figure("a < b, `x`")
        == '<p class="caption figure-caption"><b>Figure 1.</b> a &lt; b, <code>x</code></p>'
    )
    assert c.table("t").startswith('<p class="caption table-caption"><b>Table 1.</b>')
    assert c.figure("f").startswith('<p class="caption figure-caption"><b>Figure 2.</b>')
    assert (c.figures, c.tables) == (2, 1)


def test_chapters_number_on_and_the_contents_link_every_section():
    import nbformat

    from aestudy.report import html as report_html
    from aestudy.report import render

    ana = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                outputs=[
                    nbformat.v4.new_output(
                        "display_data", data={"text/markdown": text.Captions(figures=2, tables=3).table("x")}
                    )
                ]
            )
        ]
    )
    captions = render.numbered_so_far(ana)
    assert (captions.figures, captions.tables) == (0, 4)
    chapter = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell(
                "# Theory\n\n## Question 2: Critical points\n\n### (b) Second order\n\n"
                "Text.\n\n| H | says |\n|---|---|\n| pos. def. | minimum |\n\nMore."
            ),
            nbformat.v4.new_markdown_cell("The loss for target $\\alpha=0$."),
            nbformat.v4.new_code_cell(
                outputs=[nbformat.v4.new_output("display_data", data={"image/png": "iVBOR"})]
            ),
        ]
    )
    render.number_chapter(chapter, captions)
    src = [c.source for c in chapter.cells]
    assert len(src) == 3 and "<b>Table 5.</b> Question 2, (b) Second order. Columns: H, says." in src[0]
    assert src[0].index("Table 5.") < src[0].index("| H | says |")
    assert src[2].startswith('<p class="caption figure-caption"><b>Figure 1.</b> The loss for target $')
    body = (
        '<h1 id="T">Title</h1><nav class="report-toc" id="contents"></nav><h2 id="A">A<a class="anchor-link" '
        'href="#A">¶</a></h2><h1 id="Theory">Theory</h1><h2 id="Q1">Q1</h2><h3 id="x">x</h3>'
    )
    toc = report_html.fill_toc(body)
    nav = toc[toc.index("<nav") : toc.index("</nav>")]
    assert 'href="#T"' not in nav and "¶" not in nav and 'href="#x"' not in nav
    assert (
        '<li><a href="#A">A</a></li><li><a href="#Theory">Theory</a><ul><li><a href="#Q1">Q1</a></li></ul></li>'
        in nav
    )


def test_a_difference_that_rounds_to_zero_never_prints_a_signed_zero():
    from aestudy.report.text import fmt_pp, fmt_pp_ci

    assert (
        fmt_pp(-0.0004) == "-0.04 points" and fmt_pp(0.0) == "+0.0 points" and fmt_pp(0.086) == "+8.6 points"
    )
    ci = {"mean": -0.004, "lo": -0.008, "hi": -0.0004, "n": 16}
    assert fmt_pp_ci(ci) == "-0.4 [-0.8, -0.04] points"


def test_the_title_counts_the_runs_the_sweep_executed_apart_from_the_cached_ones(tmp_path):
    from aestudy.report import prose

    runs = [{"status": "cached"}] * 2 + [{"status": "ok"}] * 3 + [{"status": "failed"}]
    words = prose.title_markdown(profile.ProfileData(tmp_path, runs=runs), date="2026-12-05")
    assert words.endswith("runs of the last sweep: 2 cached, 3 executed, 1 failed.")


def test_the_error_curves_caption_says_which_epochs_used_a_test_subset():
    from aestudy.experiments.autoencode import report as autoencode

    ae = pd.DataFrame({"epoch_test_size": [2000, 2000]})
    assert (
        autoencode._subset_words(ae)
        == " (before the last epoch on a fixed subset of 2,000 test images, the last on all)"
    )
    assert autoencode._subset_words(pd.DataFrame({"epoch_test_size": [None, None]})) == ""
    assert autoencode._subset_words(pd.DataFrame({"seed": [0]})) == ""


def test_the_nearest_training_image_is_said_to_be_the_nearest_of_the_images_searched():
    from aestudy.experiments.interpolate import report as interpolate
    from constructed import _interp

    interp = _interp([0.5] * 3, [0.7] * 3, [0.8] * 3, [0.6] * 3).assign(n_reference=5000)
    assert "distance to the nearest of 5,000 training images is" in interpolate.findings(interp)
    assert "not recognised at the ends either" not in interpolate.findings(interp.assign(end_pair_mass=0.9))
    # blank decodes (smoke): a ratio of 1 is two unrecognised images, not a midpoint as recognisable as its ends
    assert (
        "puts only 0.250 on the two endpoint digits (a uniform guess: 0.2), so these decodes are not "
        "recognised at the ends either" in interpolate.findings(interp.assign(end_pair_mass=0.25))
    )
    # the section's intervals and the verdicts' are over seeds (the model pairs of a seed share its batch order)
    assert (
        "every interval of this section's tables and figures is over autoencoder seeds, and so are the verdicts'"
        in interpolate.findings(interp)
    )
    _, caption = interpolate.measures_table(
        profile.ProfileData(Path("."), tables={"interpolate": interp}), False
    )
    assert "distance to the nearest of 5,000 training images (a proxy" in caption
    # a seed's value averages its models of that d too (one per num_conv), each with its own image pairs
    many = interp.assign(num_conv=[1, 2, 3] * (len(interp) // 3) + [1, 2, 3][: len(interp) % 3])
    _, caption = interpolate.measures_table(profile.ProfileData(Path("."), tables={"interpolate": many}))
    assert (
        "Each seed's value is the mean over its 3 models of that d (num_conv 1, 2 and 3, each with image pairs "
        "of its own) and their image pairs of the digit pair" in caption
    )
    _, one = interpolate.measures_table(
        profile.ProfileData(Path("."), tables={"interpolate": many.assign(num_conv=1)})
    )
    assert "Each seed's value is the mean over the image pairs of the digit pair" in one


def test_a_count_takes_its_nouns_number_never_a_parenthesised_plural():
    assert text.count(1, "epoch") == "1 epoch" and text.count(3, "digit pair") == "3 digit pairs"


def test_a_listing_joins_with_commas_and_a_final_and():
    from aestudy.report.text import listing

    assert [listing(w) for w in ([], ["a"], ["a", "b"], ["a", "b", "c"])] == [
        "",
        "a",
        "a and b",
        "a, b and c",
    ]


def test_numbers_side_by_side_show_the_same_precision_and_settings_read_as_written():
    """Three significant digits keep their trailing zeros (0.170 beside 0.207, not 0.17); a whole
    number stays whole; a parameter's value reads as the parameter file writes it."""
    assert [text.fmt(v) for v in (0.17, 0.207, 0.016, 1.5, 20.0, 1.4e-18, 12345.0)] == [
        "0.170",
        "0.207",
        "0.0160",
        "1.50",
        "20",
        "1.40e-18",
        "1.23e+04",
    ]
    assert [text.as_written(v) for v in (0.003, 0.0001, 1e-05, 1.0, 100, "yes")] == [
        "0.003",
        "0.0001",
        "1e-05",
        "1",
        100,
        "yes",
    ]


def test_a_table_cell_never_wraps_inside_an_interval_or_between_a_number_and_its_percent_sign():
    import html

    import pandas as pd

    from aestudy.report import text

    df = pd.DataFrame(
        {"test": ["90.6 % [89.2 %, 92.0 %]"], "train": ["100.0 %"], "error": ["0.0357 [0.0345, 0.0369]"]}
    )
    for shown in (text.markdown_table(df), text.html_table(df)):
        assert (
            "[89.2\u00a0%,\u00a092.0\u00a0%]" in html.unescape(shown)
            and "100.0\u00a0%" in shown
            and " %" not in shown
        )
        assert "0.0357 [0.0345,\u00a00.0369]" in html.unescape(shown)  # it may wrap before the interval


def test_a_profile_of_every_training_image_says_what_the_autoencoders_held_out():
    """full.yaml takes every training image, and its autoencoders hold 1,000 of them out for
    validation (`load_train_val`): 'all 60,000 training images' alone overstated their training set."""
    from aestudy.experiments import about

    def said(data: dict, ae: dict) -> str:
        params = {"data": data, "stages": {"autoencode": {"params": ae}}}
        return about.training_images(profile.ProfileData(Path("."), params=params))

    assert said({"train_size": None}, {"val_size": 1000}) == (
        "all 60,000 training images (1,000 of them held out from the autoencoders' training for validation)"
    )
    assert said({"train_size": None}, {"val_size": 0}) == "all 60,000 training images"
    assert said({"train_size": 16000}, {"val_size": 1000}) == "16,000 training images"


def test_one_unit_everywhere_promises_no_interval():
    """With one seed, the captions said 'bars: 95 % t-interval over 1 autoencoder seed' where every
    bar was of zero length and no band was drawn."""
    assert text.interval_words(0.95, [1, 1]) == "no interval (n = 1 autoencoder seed)"
    assert text.interval_words(0.95, [1, 4]) == "95 % t-interval over 1-4 autoencoder seeds"
    assert text.interval_words(0.95, [3]) == "95 % t-interval over 3 autoencoder seeds"


def test_one_seed_one_slurm_job_and_a_family_short_of_runs_are_counted_as_they_are():
    from aestudy.report import provenance
    from aestudy.report.decide import holds_text

    assert holds_text({"holds": 1, "seeds": 1}) == "holds in 1 of 1 seed"
    assert provenance.where_line(
        [{"status": "ok", "where": {"host": "node1", "slurm_job_id": "4242"}}] * 3
    ) == ("node1 (3 runs, 1 SLURM job)")
    v = pd.DataFrame(
        {"p": [0.01, float("nan"), float("nan")], "seeds": ["holds in 2 of 3 seeds", "untested", "no seeds"]}
    )
    assert verdicts.family_words(v) == "1 claim with a p-value (1 more has no p-value: too few usable runs)"
    assert verdicts.family_words(v.iloc[:2]) == "1 claim the design can test"


def test_the_abstract_says_when_a_stage_that_lost_a_seed_left_verdicts_with_fewer_seeds():
    """'over every model, 3 autoencoder seeds' was said even where a later stage's runs of one seed
    had failed, and its verdicts rested on 2."""
    data = _study_profile()
    v = verdicts.verdicts(data).copy()
    seeds = prose._seeds(data)[0]
    a = prose.abstract_markdown(data, v)
    assert f"{seeds} autoencoder seeds;" in a and "fewer for" not in a
    for claim in ("h1_matters_little", "larger_d_better"):
        v.loc[claim, "seeds"] = f"holds in 1 of {seeds - 1} seeds"
        v.loc[claim, SEED_COUNT] = seeds - 1
    a = prose.abstract_markdown(data, v)
    assert (
        f'{seeds} autoencoder seeds (fewer for 2 verdicts, whose stage lost a seed\'s runs: see their "holds in");'
        in a
    )


def test_a_parameter_file_prints_within_the_page_and_reads_as_the_same_yaml():
    """The appendix's parameter file: the page wrapped its long lines to the left margin, where a
    comment's second half read as a key. Re-flowed, every shipped file fits the page's columns and
    parses to what it says."""
    import yaml

    root = Path(__file__).resolve().parents[2]
    for path in sorted((root / "params").glob("*.yaml")):
        written = path.read_text()
        shown = appendix.yaml_for_page(written)
        assert yaml.safe_load(shown) == yaml.safe_load(written), path.name
        assert max(len(line) for line in shown.splitlines()) <= appendix.PAGE_COLUMNS, path.name
        assert shown != written or max(len(line) for line in written.splitlines()) <= appendix.PAGE_COLUMNS


def test_a_long_comment_continues_in_its_own_column_and_a_quoted_hash_stays_put():
    line = "  data_seed: 0            # " + " ".join(["word"] * 30)
    shown = appendix.wrap_comments(line, width=60).splitlines()
    assert len(shown) > 1 and all(len(s) <= 60 for s in shown)
    assert all(s.index("#") == line.index("#") for s in shown)
    assert " ".join(s.split("#", 1)[1].strip() for s in shown) == " ".join(["word"] * 30)
    quoted = '  title: "a # b ' + "x" * 80 + '"'
    assert appendix.yaml_for_page(quoted, width=60) == quoted  # its '#' is no comment: nothing moves
    cramped = "    uses: {autoencode: {latent_dim: [10, 20]}}" + " " * 30 + "# " + "too little room " * 4
    below = appendix.wrap_comments(cramped, width=92).splitlines()
    assert below[0] == "    uses: {autoencode: {latent_dim: [10, 20]}}"  # the comment moves under its code
    assert all(s.startswith("    # ") for s in below[1:]) and len(below) > 1
