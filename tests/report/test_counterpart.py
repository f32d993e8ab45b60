"""The counterpart: the verdicts of a profile of higher fidelity shown beside the report's own
(the `report:` section's `compare_with`), as `aestudy compare` judges the two."""

from __future__ import annotations

import json

import pytest

from aestudy.report import counterpart, prose, verdicts
from aestudy.report.profile import read_profile
from aestudy.report_params import ReportParams
from constructed import _ae, _good_error, _study_like, _transfer, _write_profile


def _finished(folder):
    """A profile folder as a finished sweep leaves it: its tables and its runs.json."""
    (folder / "runs.json").write_text(json.dumps({"runs": []}))
    return folder


@pytest.fixture
def reports(tmp_path, monkeypatch):
    monkeypatch.setenv("REPORTS_DIR", str(tmp_path))
    return tmp_path


def _default(reports, named=("full", "large"), seeds=(0,)):
    """A default profile with one seed: experiment 1's claims are inconclusive there."""
    _write_profile(
        reports / "default",
        "default",
        _ae(_good_error, seeds=seeds),
        _transfer(_study_like),
        report={"compare_with": list(named)},
    )
    data = read_profile(reports / "default")
    return data, verdicts.verdicts(data)


def test_the_first_named_profile_a_sweep_finished_is_compared_with_and_its_verdicts_stand_beside(reports):
    data, v = _default(reports)
    _finished(_write_profile(reports / "large", "large", _ae(_good_error), _transfer(_study_like)))
    _write_profile(
        reports / "full", "full", _ae(_good_error), _transfer(_study_like)
    )  # no runs.json: under way
    ref = counterpart.of(data, v)
    assert ref.name == "large" and ref.named == ["full", "large"] and ref.same_rules
    assert not ref.differ and ref.same
    assert ref.alone["error_falls_with_d"] == 1  # large decides it, the one-seed default cannot
    sentence = prose.abstract_markdown(data, v, ref)
    assert (
        "Compared with the profile **large** (" in sentence
        and "all 60,000 training images, 3 autoencoder seeds" in sentence
    )
    assert f"the same verdict on all {len(ref.same)} conclusions both decide" in sentence
    assert (
        "; large alone decides " in sentence
        and "reconstruction error falls as d grows: supported" in sentence
        and "Each block of Verdicts in detail gives large's verdict beside this run's." in sentence
    )
    html = verdicts.detail_html(v, ref)
    assert html.count('class="verdict-line verdict-counterpart"') == len(v)
    large_supported = f'large: <span class="verdict-{ref.table.at["error_falls_with_d", "verdict"]}">'
    assert large_supported in html and "(only large decides)" in html
    assert "the verdict of the profile this report is compared with, large" in verdicts.detail_caption(
        data, v, ref
    )
    # full finishes its sweep: it comes first
    _finished(reports / "full")
    assert counterpart.of(data, v).name == "full"


def test_a_counterpart_that_decides_the_other_way_is_named_in_the_abstract(reports):
    data, v = _default(reports, named=["rising"], seeds=(0, 1, 2))
    rising = _ae(lambda d, nc, s: (0.02 + 0.001 * d) * (1 + 0.05 * s))
    _finished(
        _write_profile(
            reports / "rising", "rising", rising, _transfer(_study_like), report={"h1_margin": 0.001}
        )
    )
    ref = counterpart.of(data, v)
    assert "error_falls_with_d" in ref.differ and not ref.same_rules
    a = prose.abstract_markdown(data, v, ref)
    assert "decided by its own `report:` rules, which differ from this report's" in a
    assert "reconstruction error falls as d grows: supported here, contradicted in rising" in a
    assert "(the verdicts differ)" in verdicts.detail_html(v, ref)


def test_one_profile_compared_with_and_not_on_disk_is_named_in_the_singular():
    """large compares with full alone: "None of the profiles … running one of them" was said of one."""
    from types import SimpleNamespace

    one = SimpleNamespace(named=["full"], unreadable="", data=None)
    said = verdicts.comparison_words(one)
    assert said.startswith(
        " The profile this report is compared with, full (the report: section's compare_with), has no"
    )
    assert "None of" not in said and "one of them" not in said


def test_without_a_counterpart_on_disk_the_report_says_so_and_the_abstract_is_unchanged(reports):
    data, v = _default(reports)
    ref = counterpart.of(data, v)
    assert ref is not None and ref.data is None
    assert prose.abstract_markdown(data, v, ref) == prose.abstract_markdown(data, v)
    assert (
        "None of the profiles this report is compared with has a finished sweep on disk (full, large"
        in verdicts.detail_caption(data, v, ref)
    )
    assert "verdict-counterpart" not in verdicts.detail_html(v, ref)
    # a profile that names none, or only itself: nothing to compare with, and no word of it
    data, v = _default(reports / "other", named=["default"])
    assert counterpart.of(data, v) is None and "compared with" not in verdicts.detail_caption(data, v, None)


def test_the_report_key_follows_the_counterparts_tables(reports):
    key = counterpart.key_part(["full", "large"], reports / "default")
    assert key == counterpart.key_part(
        ["full", "large", "large"], reports / "default"
    )  # repeats change nothing
    large = _finished(_write_profile(reports / "large", "large", _ae(_good_error), _transfer(_study_like)))
    with_large = counterpart.key_part(["full", "large"], reports / "default")
    assert with_large != key
    (large / "tables" / "autoencode.csv").write_text("changed\n")
    assert counterpart.key_part(["full", "large"], reports / "default") != with_large


def test_which_profile_a_report_is_shown_beside_decides_nothing(reports):
    """`compare` notes profiles that decide by different rules; a different `compare_with` is none."""
    from aestudy.report import compare

    assert compare.deciding(ReportParams(compare_with=["full"])) == compare.deciding(ReportParams())
    # nor a time budget: "decided by its own report: rules, which differ" was said of a default whose only
    # difference from large was its time_budget_minutes
    assert compare.deciding(ReportParams(time_budget_minutes=15)) == compare.deciding(ReportParams())
    assert compare.deciding(ReportParams(confidence=0.9)) != compare.deciding(ReportParams())
    a = _finished(
        _write_profile(
            reports / "a", "a", _ae(_good_error), _transfer(_study_like), report={"compare_with": ["b"]}
        )
    )
    b = _finished(_write_profile(reports / "b", "b", _ae(_good_error), _transfer(_study_like)))
    assert "different report: rules" not in compare.compare(a, b)


def test_a_damaged_counterpart_is_said_in_one_line_and_the_report_still_renders(reports):
    data, v = _default(reports)
    large = _finished(_write_profile(reports / "large", "large", _ae(_good_error), _transfer(_study_like)))
    (large / "tables" / "autoencode.csv").write_text("not,a,table\n1,2,3\n")
    ref = counterpart.of(data, v)
    assert (
        ref.data is None
        and ref.found == "large"
        and "autoencode.csv: not a table the runner wrote" in ref.unreadable
    )
    caption = verdicts.detail_caption(data, v, ref)
    assert "The profile this report is compared with, large, could not be judged: " in caption
    assert prose.abstract_markdown(data, v, ref) == prose.abstract_markdown(data, v)
    assert "verdict-counterpart" not in verdicts.detail_html(v, ref)


def test_compare_given_one_profile_compares_it_with_the_profile_its_report_is_compared_with(reports, capsys):
    from aestudy import cli

    _default(reports)
    assert cli.main(["compare", str(reports / "default")]) == 2  # neither full nor large has run
    assert (
        "no profile to compare with: none of full, large (its report: compare_with) has a finished sweep on disk"
        in (capsys.readouterr().err)
    )
    _finished(_write_profile(reports / "large", "large", _ae(_good_error), _transfer(_study_like)))
    assert cli.main(["compare", str(reports / "default")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("verdicts: default (") and " vs large (" in out[0]


def test_the_verdicts_are_saved_for_scripts_and_the_command_prints_their_line(reports):
    from aestudy.report import console

    data, v = _default(reports)
    assert console.verdicts_line(data.dir) == ""  # nothing saved yet
    _finished(_write_profile(reports / "large", "large", _ae(_good_error), _transfer(_study_like)))
    ref = counterpart.of(data, v)
    saved = json.loads(verdicts.save(v, data.dir, ref).read_text())
    assert [c["claim"] for c in saved["claims"]] == list(v.index)
    assert saved["counts"] == [
        [w, int((v["verdict"] == w).sum())] for w in ("supported", "contradicted", "inconclusive")
    ]  # in the words' order
    assert (
        saved["compared_with"]["profile"] == "large"
        and saved["compared_with"]["alone"]["error_falls_with_d"] == "large"
    )
    counts = ", ".join(f"{n} {w}" for w, n in saved["counts"])
    n_alone = len(ref.alone)
    assert console.verdicts_line(data.dir) == (
        f"verdicts: {counts}; compared with large: the same verdict on all {len(ref.same)} conclusions "
        "both decide; "
        f"large alone decides {n_alone}"
    )
    (data.dir / console.VERDICTS_JSON).write_text("{damaged")
    assert console.verdicts_line(data.dir) == ""


def test_a_counterpart_its_claims_cannot_read_is_said_and_the_report_still_renders(reports, monkeypatch):
    """A profile made by older code may hold what a newer claim cannot read: named, not raised."""
    data, v = _default(reports)
    _finished(_write_profile(reports / "large", "large", _ae(_good_error), _transfer(_study_like)))

    def older(_data):
        raise KeyError("a column of a newer claim")

    monkeypatch.setattr(verdicts, "verdicts", older)
    ref = counterpart.of(data, v)
    assert ref.data is None and ref.unreadable == "KeyError: 'a column of a newer claim'"
    assert "large, could not be judged: KeyError: 'a column of a newer claim'." in verdicts.detail_caption(
        data, v, ref
    )
