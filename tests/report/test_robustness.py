"""The check of how far the verdicts rest on the units an experiment sets aside
(`report.robustness`): the rows that go with a unit, the verdicts decided again without them,
and what the report says of it. The default's verdict on experiment 2's sharpness rested on one
collapsed autoencoder; the report did not say so."""

from __future__ import annotations

import pandas as pd

from aestudy.experiments.autoencode import outliers
from aestudy.report import choices, profile, prose, robustness, verdicts
from constructed import _good_error, _study_profile

COLLAPSED = {"latent_dim": 20, "num_conv": 3, "seed": 0}


def _collapsed_error(d, nc, s):
    """The constructed study's errors, with one model (d=20, num_conv=3, seed 0) 20 times as large."""
    return _good_error(d, nc, s) * (20.0 if (d, nc, s) == (20, 3, 0) else 1.0)


def _profile(error=_collapsed_error) -> profile.ProfileData:
    return _study_profile(error)


def test_a_unit_takes_its_rows_from_every_table_that_names_all_its_columns():
    data = _profile()
    data.tables["semisup"] = pd.DataFrame({"latent_dim": [20], "num_conv": [3], "accuracy": [0.9]})
    kept = robustness.without(data, [COLLAPSED])
    for stage in ("autoencode", "transfer", "interpolate"):
        t, before = kept.tables[stage], data.tables[stage]
        hit = (before["latent_dim"] == 20) & (before["num_conv"] == 3) & (before["seed"] == 0)
        assert len(t) == len(before) - int(hit.sum())
        assert not ((t["latent_dim"] == 20) & (t["num_conv"] == 3) & (t["seed"] == 0)).any()
    assert (
        int(
            ((data.tables["autoencode"]["latent_dim"] == 20) & (data.tables["autoencode"]["seed"] == 0)).sum()
        )
        == 3
    )
    assert len(kept.tables["semisup"]) == 1  # no seed column: not a row of that unit
    assert len(data.tables["autoencode"]) == 36  # the profile itself is left as it was


def test_the_collapsed_model_is_set_aside_and_the_verdict_it_turned_is_named():
    data = _profile()
    assert outliers.set_aside(data.usable("autoencode"), data.rules.outlier_excess)[1] == [COLLAPSED]
    v = verdicts.verdicts(data)
    clean = verdicts.verdicts(robustness.without(data, [COLLAPSED]))
    (aside,) = robustness.of(data, v)
    assert aside.experiment == "autoencode" and aside.n == 1
    assert "d=20, num_conv=3, seed 0" in aside.words
    turned = {c for c in v.index if v.at[c, "verdict"] != clean.at[c, "verdict"]}
    assert turned and set(aside.changed) == turned
    for c in turned:
        assert aside.changed[c] == (v.at[c, "verdict"], clean.at[c, "verdict"])

    said = robustness.sentence(aside, v)
    c = next(iter(turned))
    assert f"{v.at[c, 'conclusion']}: {v.at[c, 'verdict']} → {clean.at[c, 'verdict']}" in said
    assert "not a verdict" in said
    assert said in choices.limitations(data, v, [aside])
    assert "a check, not a verdict" in prose.abstract_markdown(data, v, None, [aside])
    assert "Set aside (a check, not the verdict" in verdicts.detail_html(v, None, [aside])


def test_without_a_model_that_trains_clearly_worse_nothing_is_set_aside_or_said():
    data = _profile(_good_error)
    v = verdicts.verdicts(data)
    assert robustness.of(data, v) == []
    assert "Decided again without" not in choices.limitations(data, v)
    assert "Set aside" not in verdicts.detail_html(v, None, [])


def test_a_set_aside_that_changes_nothing_says_every_verdict_stays():
    data = _profile()
    v = verdicts.verdicts(data)
    same = robustness.SetAside("autoencode", "the 1 model that ...", 1)
    assert "every verdict stays as it is" in robustness.sentence(same, v)
    assert "would change" not in prose.abstract_markdown(data, v, None, [same])


def test_verdicts_json_carries_the_check_for_scripts(tmp_path):
    from aestudy.files import read_json

    data = _profile()
    v = verdicts.verdicts(data)
    aside = robustness.of(data, v)
    verdicts.save(v, tmp_path, None, aside)
    (saved,) = read_json(tmp_path / "verdicts.json")["set_aside"]
    assert saved["experiment"] == "autoencode" and "d=20, num_conv=3, seed 0" in saved["units"]
    assert saved["changed"] == {c: {"verdict": a, "without": b} for c, (a, b) in aside[0].changed.items()}
    verdicts.save(v, tmp_path, None, [])  # checked, nothing set aside: a script can tell it from unchecked
    assert read_json(tmp_path / "verdicts.json")["set_aside"] == []
    verdicts.save(v, tmp_path, None)
    assert "set_aside" not in read_json(tmp_path / "verdicts.json")


def test_models_set_aside_from_every_cell_of_a_size_are_named_and_the_check_still_reads(monkeypatch):
    """Two of three seeds of each d=20 cell ten times as bad: 6 models set aside; the sentence names
    them in the plural, and a check that cannot be decided again is said, not raised."""

    def worse(d, nc, s):
        return _good_error(d, nc, s) * (10.0 if d == 20 and s > 0 else 1.0)

    data = _profile(worse)
    v = verdicts.verdicts(data)
    (aside,) = robustness.of(data, v)
    assert aside.n == 6 and not aside.failed
    said = robustness.sentence(aside, v)
    assert (
        "the 6 models that train clearly worse than their seed siblings" in said
        and "they were set aside" in said
    )

    def broken(data):
        raise ValueError("no cell left")

    monkeypatch.setattr(
        robustness, "verdicts", lambda d, _real=verdicts.verdicts: broken(d) if d is not data else _real(d)
    )
    (aside,) = robustness.of(data, v)
    assert aside.failed == "ValueError: no cell left" and not aside.changed
    assert robustness.sentence(aside, v).endswith("could not be decided again (ValueError: no cell left).")
