"""benchmarks/independent_df.py (the df the trend verdicts would have were every model its own
unit): its Welch-Satterthwaite df is the textbook one where it can be worked by hand, and a
profile without tables is one line and exit 2."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("independent_df", ROOT / "benchmarks" / "independent_df.py")
independent_df = importlib.util.module_from_spec(spec)
spec.loader.exec_module(independent_df)


def _rows(cells: dict) -> pd.DataFrame:
    """(num_conv, latent_dim) -> the log measures of its models, as a table of the measure."""
    return pd.DataFrame(
        [
            {"num_conv": nc, "latent_dim": d, "final_test_error": np.exp(y), "seed": i, "status": "ok"}
            for (nc, d), ys in cells.items()
            for i, y in enumerate(ys)
        ]
    )


def test_two_cells_of_equal_spread_give_welch_s_df_and_unequal_spread_fewer():
    equal = _rows({(1, 5): [0.0, 1.0, 2.0], (1, 10): [5.0, 6.0, 7.0]})  # variance 1 each, 3 models each
    welch, pooled = independent_df.satterthwaite_df(equal, "final_test_error", "latent_dim", "num_conv")
    assert welch == pytest.approx(4.0) and pooled == 4
    # one cell 10x the spread: the sum's variance is that cell's, and so are its df (2)
    unequal = _rows({(1, 5): [0.0, 1.0, 2.0], (1, 10): [0.0, 10.0, 20.0]})
    welch, _ = independent_df.satterthwaite_df(unequal, "final_test_error", "latent_dim", "num_conv")
    assert 2.0 < welch < 2.1


def test_the_command_prints_each_trend_and_names_a_profile_without_tables(tmp_path, capsys):
    tables = tmp_path / "p" / "tables"
    tables.mkdir(parents=True)
    rng = np.random.default_rng(0)
    cells = {(nc, d): rng.normal(-d / 10, 0.1, 4) for nc in (1, 2) for d in (5, 10, 20)}
    _rows(cells).to_csv(tables / "autoencode.csv", index=False)
    assert independent_df.main([str(tmp_path / "p")]) == 0
    out = capsys.readouterr().out
    assert "error_falls_with_d: over the seeds df 3; models independent" in out
    assert "correlation_falls" not in out  # no correlate table: left out
    assert independent_df.main([str(tmp_path / "none")]) == 2
    assert "no tables/" in capsys.readouterr().err


def test_blocks_without_a_slope_are_left_out_and_undefined_df_is_said_not_printed_as_a_number():
    two = _rows(
        {(1, 5): [0.0, 1.0, 2.0], (1, 10): [5.0, 6.0, 7.0], (2, 5): [0.0, 1.0, 2.0], (2, 10): [5.0, 6.0, 7.0]}
    )
    welch, pooled = independent_df.satterthwaite_df(two, "final_test_error", "latent_dim", "num_conv")
    assert welch == pytest.approx(8.0) and pooled == 8  # two blocks of equal spread: their df add up
    lonely = pd.concat([two, _rows({(3, 5): [0.0, 1.0]})])  # a block with one d has no slope: left out
    assert independent_df.satterthwaite_df(lonely, "final_test_error", "latent_dim", "num_conv")[
        0
    ] == pytest.approx(8.0)
    steps = independent_df.step_dfs(two, "final_test_error", "latent_dim", "num_conv")
    assert steps == {"5→10": pytest.approx(8.0)}
    one_model = _rows({(1, 5): [0.0], (1, 10): [5.0, 6.0, 7.0]})
    assert np.isnan(
        independent_df.satterthwaite_df(one_model, "final_test_error", "latent_dim", "num_conv")[0]
    )
