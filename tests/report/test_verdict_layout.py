"""The detailed verdicts as a reader scans them (verdicts.detail_html): one compact block per claim."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from aestudy.report import verdicts
from aestudy.report.claims import row
from aestudy.report.decide import INCONCLUSIVE, SUPPORTED


def _family():
    need = {"effect": 0.5, "se": 1 / np.sqrt(5), "seeds": 5, "df": 4, "df_per_seed": 1, "two_sided": True}
    a = row(
        "1",
        "Error falls as d grows",
        "long numbers <with> every step",
        {"verdict": SUPPORTED, "holds": 3, "seeds": 3, "p": 1e-6},
        key="0.03 at d=5 → 0.016 at d=20",
        decides="-4.3 % per unit of d [-4.5 %, -4.0 %]",
    )
    b = row(
        "4",
        "Fine-tuning beats frozen",
        "the other numbers",
        {"verdict": INCONCLUSIVE, "holds": 2, "seeds": 3, "p": 0.4, "need": need},
        key="-0.0 [-1.1, +1.0] points",
    )
    return verdicts.family(pd.DataFrame([a, b], index=["a", "b"]), 0.05)


def test_each_claim_is_one_block_with_its_verdict_decisive_number_and_folded_full_numbers():
    out = verdicts.detail_html(_family())
    blocks = re.findall(r'<div class="verdict-block">(.*?)</div>', out, flags=re.S)
    assert len(blocks) == 2
    first, second = blocks
    assert '<span class="verdict-supported">supported</span>' in first
    assert "decided on: -4.3 % per unit of d [-4.5 %, -4.0 %]" in first and "holds in 3 of 3 seeds" in first
    assert re.search(
        r'<details><summary aria-label="All numbers: [^"]+">All numbers</summary>'
        r"<p>long numbers &lt;with&gt; every step</p></details>",
        first,
    )  # each fold's label names its claim for a screen reader
    assert '<span class="verdict-inconclusive">inconclusive</span>' in second and "decided on" not in second
    assert re.search(
        r"<p class=\"verdict-line\">At this effect and spread, about \d+ autoencoder seeds \(now 5\) would decide it",
        second,
    )


def test_a_trend_row_decides_on_its_slope_with_unit_and_df():
    from aestudy.experiments.autoencode import report as autoencode
    from aestudy.report_params import ReportParams

    rows = [
        {"latent_dim": d, "num_conv": nc, "seed": s, "final_test_error": (0.01 + 0.2 / d) * (1 + 0.01 * s)}
        for d in (5, 10, 15, 20)
        for nc in (1, 2)
        for s in range(3)
    ]
    r = autoencode.verdict_error_falls_with_d(pd.DataFrame(rows), ReportParams())
    assert re.match(
        r"[-+]\d+\.\d % relative per unit of d \[[-+]\d+\.\d %, [-+]\d+\.\d %\], 3 autoencoder seeds, df 2; steps significantly against",
        r["decides"],
    )


def test_every_decided_claim_names_the_unit_n_and_df_of_the_number_it_is_decided_on():
    from constructed import _study_profile

    v = verdicts.verdicts(_study_profile())
    decided = v[v["p"].notna()]
    assert len(decided) >= 8
    for cid, r in decided.iterrows():
        assert re.search(r"\b\d+ autoencoder seeds?\b.*, df \d+", r["decides"]), (
            cid,
            r["decides"],
        )
    html = verdicts.detail_html(v)
    assert html.count("decided on:") == len(decided)


def test_a_claims_detail_is_a_line_of_its_block_not_only_in_the_folded_numbers():
    """The difference at every d is a line of the detailed block (and in the numbers), kept apart
    from the caveats (`Claim.note`) that page 1 says too."""
    from constructed import _study_profile

    v = verdicts.verdicts(_study_profile())
    detail = v.at["beats_baselines", verdicts.DETAIL]
    assert detail.startswith("finetune − the better baseline at every d") and all(
        f"d={d}:" in detail for d in (5, 10, 15, 20)
    )
    assert (
        v.at["beats_baselines", verdicts.NOTE] == "" and detail in v.at["beats_baselines", verdicts.NUMBERS]
    )
    block = re.search(
        r'<div class="verdict-block">(?:(?!</div>).)*raw-pixel baselines(?:(?!</div>).)*</div>',
        verdicts.detail_html(v),
        flags=re.S,
    ).group(0)
    assert f'<p class="verdict-line">F{detail[1:]}.</p>' in block
    assert v.at["beats_baselines", "key number"].endswith("over the better baseline")
    # the mode it is decided on, as the other 4+ rows name theirs
    assert v.at["beats_baselines", "conclusion"].endswith("(finetune vs logistic regression, 1-NN)")


def test_the_rules_state_no_count_or_example_that_the_run_did_not_produce():
    from aestudy.report_params import ReportParams

    text = verdicts.rules_markdown(ReportParams())
    assert not re.search(r"the \d+ claims", text) and "60 autoencoders" not in text and "df 44" not in text


def test_a_factor_the_design_holds_at_one_level_is_untested_not_short_of_seeds():
    from aestudy.experiments.autoencode import report as autoencode
    from aestudy.experiments.transfer import report as transfer
    from constructed import _ae, _good_error, _study_like, _transfer

    one_nc = _ae(_good_error, ncs=(1,))
    r = autoencode.verdict_error_falls_with_size(one_nc)
    assert r["seeds"] == "untested" and "one value of num_conv only" in r["this run's numbers"]
    assert r["would decide it"].endswith("a design with at least two values of num_conv would")
    tr = _transfer(_study_like)
    r = transfer.verdict_h1_matters_little(tr[tr["h1"] == tr["h1"].min()])
    assert r["seeds"] == "untested" and r["key number"] == "one h1 only"
    assert r["would decide it"].endswith("a design with at least two values of h1 would")


def test_an_accuracy_trend_says_it_is_decided_on_the_error_so_a_falling_number_reads_right():
    """ "Larger d is better" is decided on the log of 1 − accuracy, which falls as accuracy grows:
    the compact line names that quantity, or a reader sees accuracy falling by 1.9 % per unit of d."""
    from constructed import _study_profile

    v = verdicts.verdicts(_study_profile())
    decides = v.at["larger_d_better", verdicts.DECIDES]
    assert decides.startswith("its error (1 − accuracy), "), decides
    assert re.match(r"its error \(1 − accuracy\), [-+]\d+\.\d % relative per unit of d \[", decides), decides
    assert not v.at["error_falls_with_d", verdicts.DECIDES].startswith("its error")  # an error already


def test_a_trend_names_the_factor_it_is_taken_within_as_the_reader_knows_it():
    """'within each d', not the parameter's name 'latent_dim' (the num_conv trend's block)."""
    from aestudy.experiments.autoencode import report as autoencode
    from aestudy.report.claims import NUMBERS
    from aestudy.report_params import ReportParams

    rows = [
        {
            "latent_dim": d,
            "num_conv": nc,
            "seed": s,
            "final_test_error": (0.01 + 0.2 / d) / nc * (1 + 0.01 * s),
        }
        for d in (5, 10)
        for nc in (1, 2, 3)
        for s in range(3)
    ]
    r = autoencode.verdict_error_falls_with_size(pd.DataFrame(rows), ReportParams())
    assert (
        "within each d (each seed's least-squares slope of the log over its models' num_conv," in r[NUMBERS]
    )
    assert "latent_dim" not in r[NUMBERS]
    one_d = autoencode.verdict_error_falls_with_size(
        pd.DataFrame([x for x in rows if x["latent_dim"] == 5]), ReportParams()
    )
    assert ", at d = 5, a t-interval over the seeds)" in one_d[NUMBERS]
