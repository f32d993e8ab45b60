"""Analyses of experiments 2-4 and of the whole sweep, and the verdicts on the original study.

Mostly pure functions over arrays, tensors and tidy tables (easy to test):
- experiment 2: `interpolate_latents`, `interpolate`, `nearest_distance`;
- experiment 3: `latent_correlation` (mean |corr| off the diagonal, and with it);
- statistics: `mean_ci` (t-distribution), `summarise` (grouped means with CIs over a unit),
  `trend` (Spearman), `difference_verdict` (a mean difference and its CI);
- the sweep: `ProfileData` reads what the runs wrote under reports/<profile>/ (tables, runs.json,
  per-run metrics.json) and splits usable (ok / cached) rows from failed / skipped ones;
- verdicts: one function per conclusion of STUDY.md, each returning the conclusion, this run's
  numbers and a verdict (supported / not supported / inconclusive), gathered by `verdicts`.

The orchestration of experiments 2 and 3 for their notebooks (`interpolation_study`,
`correlation_study`) and the stand-in models a notebook trains when it runs on its defaults
without upstream checkpoints (`stand_in_checkpoints`) live here too; torch is imported lazily so
that the analyses notebook, which reads files only, does not pay for it.
"""
from __future__ import annotations

import datetime
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

OK_STATUSES = ("ok", "cached")
SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE = "supported", "not supported", "inconclusive"
ALPHA = 0.05                 # significance level of the trend verdicts
CONFIDENCE = 0.95            # confidence level of every interval
H1_MARGIN_PP = 2.0           # "h1 matters little": spread of the h1 means below 2 percentage points
SMALL_D_MARGIN = 0.10        # "d < 10 clearly worse": at least 10 % more error, in every comparison
CHANCE = 0.10                # ten classes
DEFAULT_TITLE = "Convolutional autoencoders on {dataset}: latent size, interpolation, latent correlations and transfer with 100 labels"
DATASET_NAMES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}


# ------------------------------------------------------------------ formatting

def fmt(x, digits: int = 4) -> str:
    """A number for prose and tables: 4 significant digits, 'n/a' for None or nan."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    return f"{float(x):.{digits}g}"


def fmt_pct(x, digits: int = 1) -> str:
    """An accuracy (fraction) as a percentage."""
    if x is None or not math.isfinite(float(x)):
        return "n/a"
    return f"{100 * float(x):.{digits}f} %"


def fmt_p(p) -> str:
    if p is None or not math.isfinite(float(p)):
        return "p n/a"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def fmt_pp(x, digits: int = 1) -> str:
    """An accuracy difference (fraction) in percentage points, signed."""
    if x is None or not math.isfinite(float(x)):
        return "n/a"
    return f"{100 * float(x):+.{digits}f} points"


def fmt_ci(ci: dict, pct: bool = False, f=None) -> str:
    """'0.812 [0.79, 0.83]' (or in %), the interval omitted when it is undefined (n < 2)."""
    f = f or (fmt_pct if pct else fmt)
    if ci["n"] < 2 or not math.isfinite(ci["lo"]):
        return f"{f(ci['mean'])} (n = {ci['n']}, no interval)"
    return f"{f(ci['mean'])} [{f(ci['lo'])}, {f(ci['hi'])}]"


def markdown_table(df: pd.DataFrame, floatfmt=fmt) -> str:
    """A pipe table for Markdown output (no tabulate dependency); '|' in cells is escaped.
    Missing values print as 'n/a' in numeric columns and as nothing in text columns."""
    numeric = [pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]) for c in df.columns]

    def cell(v, is_num):
        if v is None or (isinstance(v, (float, np.floating)) and math.isnan(v)):
            s = "n/a" if is_num else ""
        elif isinstance(v, (float, np.floating)):
            s = floatfmt(v)
        else:
            s = str(v)
        return s.replace("|", "\\|").replace("\n", " ")

    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(c.replace("|", "\\|") for c in cols) + " |",
             "|" + "|".join("---" for _ in cols) + "|"]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(cell(v, n) for v, n in zip(row, numeric)) + " |")
    return "\n".join(lines)


# ------------------------------------------------------------------ experiment 3: correlations

def latent_correlation(z) -> dict:
    """Pearson correlation matrix of the latent dimensions of `z` (n_samples x d).

    A constant dimension has no defined correlation (np.corrcoef gives nan): it is counted in
    `constant_dims` and its correlations are taken as 0; the diagonal is 1 by definition.
    Returns the matrix, the mean absolute off-diagonal correlation (`offdiag`, nan when d = 1)
    and the mean absolute correlation over the whole matrix including its diagonal of ones
    (`with_diag`, the original's figure).
    """
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 2 or z.shape[0] < 2:
        raise ValueError(f"need a (n_samples >= 2, d) array, got shape {z.shape}")
    d = z.shape[1]
    constant = np.flatnonzero(np.ptp(z, axis=0) == 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.atleast_2d(np.corrcoef(z, rowvar=False))
    corr = np.nan_to_num(corr, nan=0.0)
    np.fill_diagonal(corr, 1.0)
    a = np.abs(corr)
    off = a[~np.eye(d, dtype=bool)]
    return {"matrix": corr, "offdiag": float(off.mean()) if off.size else float("nan"),
            "with_diag": float(a.mean()), "constant_dims": [int(i) for i in constant]}


# ------------------------------------------------------------------ experiment 2: interpolation

def interpolate_latents(z1, z2, steps: int):
    """(1 - a) z1 + a z2 for `steps` values of a from 0 to 1 (exactly z1 and z2 at the ends)."""
    import torch

    if steps < 2:
        raise ValueError(f"steps must be >= 2, got {steps}")
    a = torch.linspace(0.0, 1.0, steps, dtype=z1.dtype, device=z1.device).unsqueeze(1)
    return (1 - a) * z1.unsqueeze(0) + a * z2.unsqueeze(0)


def interpolate(model, x1, x2, steps: int):
    """Decodes of the interpolated codes between two images (each 1x28x28): (steps, 1, 28, 28)."""
    import torch

    model.eval()
    with torch.inference_mode():
        z = model.encoder(torch.stack([x1, x2]))
        return model.decoder(interpolate_latents(z[0], z[1], steps))


def nearest_distance(images, reference, chunk: int = 64) -> np.ndarray:
    """For each image, the mean squared pixel distance to its nearest image in `reference`."""
    x = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    r = np.asarray(reference, dtype=np.float64).reshape(len(reference), -1)
    out = np.empty(len(x))
    r2 = (r ** 2).sum(1)
    for i in range(0, len(x), chunk):
        xi = x[i:i + chunk]
        d2 = (xi ** 2).sum(1)[:, None] + r2[None, :] - 2 * xi @ r.T
        out[i:i + chunk] = np.maximum(d2.min(1), 0.0) / x.shape[1]
    return out


def pick_image(labels, digit: int, seed: int) -> int:
    """Index of one image of `digit`, chosen by `seed` (the same digit and seed give the same image)."""
    import torch

    idx = (torch.as_tensor(labels) == digit).nonzero().flatten()
    if len(idx) == 0:
        raise ValueError(f"no image of digit {digit} in the split")
    g = torch.Generator().manual_seed(seed)
    return int(idx[torch.randperm(len(idx), generator=g)[0]])


def model_label(cfg: dict) -> str:
    return f"d={cfg['latent_dim']}, num_conv={cfg['num_conv']}"


def interpolation_study(models: list, test, reference_images, pairs, steps: int, seed: int) -> dict:
    """Experiment 2 for every model and digit pair.

    models: list of (config dict, AutoEncoder); test: a Split to pick the images from;
    reference_images: the training images the 'digit-likeness' distance is measured against.
    Returns the figures' data (per pair: the two inputs, one row of decodes per model) and the
    metrics: per pair and model, the pixel MSE of the a=0 and a=1 decodes against the inputs
    (end_mse_a, end_mse_b) and the distance of the a~0.5 decode to its nearest reference image
    (mid_nn_distance), beside the same distance for the two inputs (input_nn_distance).
    """
    import torch

    alphas = np.linspace(0.0, 1.0, steps)
    mid = int(np.argmin(np.abs(alphas - 0.5)))
    out_pairs, records = [], []
    for a, b in pairs:
        ia, ib = pick_image(test.labels, a, seed), pick_image(test.labels, b, seed)
        xa, xb = test.images[ia], test.images[ib]
        input_nn = nearest_distance(torch.stack([xa, xb]).numpy(), reference_images)
        rows = []
        for cfg, model in models:
            dec = interpolate(model, xa, xb, steps)
            end_a = float(torch.mean((dec[0] - xa) ** 2))
            end_b = float(torch.mean((dec[-1] - xb) ** 2))
            mid_nn = float(nearest_distance(dec[mid:mid + 1].numpy(), reference_images)[0])
            rows.append({"label": model_label(cfg), "decodes": dec})
            records.append({"pair": f"{a}-{b}", "digit_a": a, "digit_b": b, "index_a": ia, "index_b": ib,
                            "latent_dim": cfg["latent_dim"], "num_conv": cfg["num_conv"],
                            "end_mse_a": end_a, "end_mse_b": end_b, "end_mse": (end_a + end_b) / 2,
                            "mid_nn_distance": mid_nn, "input_nn_distance": float(input_nn.mean())})
        out_pairs.append({"pair": (a, b), "inputs": (xa, xb), "rows": rows})
    metrics = {"steps": steps, "alphas": alphas.tolist(), "mid_alpha": float(alphas[mid]),
               "n_reference": int(len(reference_images)), "records": records}
    return {"pairs": out_pairs, "alphas": alphas, "metrics": metrics}


def encode(model, images, batch_size: int = 1000) -> np.ndarray:
    import torch

    model.eval()
    with torch.inference_mode():
        return torch.cat([model.encoder(images[i:i + batch_size])
                          for i in range(0, len(images), batch_size)]).double().numpy()


def correlation_study(models: list, images) -> dict:
    """Experiment 3 for every model: the correlation matrix of its codes of `images`.

    Returns metrics: one record per model (latent_dim, num_conv, offdiag, with_diag, n_constant)
    and the matrices (for the heat-maps), keyed 'd{latent_dim}-nc{num_conv}'."""
    records, matrices, notes = [], {}, []
    for cfg, model in models:
        res = latent_correlation(encode(model, images))
        key = f"d{cfg['latent_dim']}-nc{cfg['num_conv']}"
        if res["constant_dims"]:
            notes.append(f"{model_label(cfg)}: latent dims {res['constant_dims']} are constant over these "
                         "images; their correlations (nan in np.corrcoef) are counted as 0")
        records.append({"model": key, "latent_dim": cfg["latent_dim"], "num_conv": cfg["num_conv"],
                        "c_factor": cfg.get("c_factor"), "offdiag": res["offdiag"],
                        "with_diag": res["with_diag"], "n_constant": len(res["constant_dims"])})
        matrices[key] = res["matrix"].tolist()
    records.sort(key=lambda r: (r["num_conv"], r["latent_dim"]))
    return {"metrics": {"n_encoded": int(len(images)), "records": records, "matrices": matrices},
            "notes": notes}


def stand_in_checkpoints(latent_dims, out_dir, num_conv: int = 1, dataset: str = "mnist",
                         data_dir=None, n_images: int = 5000, batch_size: int = 16, seed: int = 0) -> list[str]:
    """When a notebook runs on its defaults (no `checkpoints` injected): train small stand-in
    autoencoders (one per latent size, `n_images` training images, one epoch) and save them
    under out_dir/stand_in/. Their numbers illustrate the method only. (One epoch of 5,000
    images in batches of 16 with num_conv = 1 takes seconds and gives a usable code; with
    batches of 64 the code is still nearly constant after one epoch.)"""
    from . import artifacts, data, models, train

    split = data.load_split(dataset, train=True, data_dir=data_dir, limit=n_images, seed=seed)
    test = data.load_split(dataset, train=False, data_dir=data_dir, limit=1000, seed=seed)
    paths = []
    for d in latent_dims:
        train.setup(seed)
        cfg = models.AEConfig(latent_dim=d, num_conv=num_conv)
        model = models.AutoEncoder(cfg)
        train.train_autoencoder(model, split.images, test.images, epochs=1, batch_size=batch_size, seed=seed,
                                progress=False)
        paths.append(str(artifacts.save_checkpoint(Path(out_dir) / "stand_in" / f"d{d}-nc{num_conv}.pt",
                                                   model, cfg.to_dict(), dataset=dataset)))
    print(f"No checkpoints given: trained {len(paths)} stand-in autoencoder(s) (d = "
          f"{', '.join(map(str, latent_dims))}, num_conv = {num_conv}) on {len(split)} training images "
          "for one epoch; the numbers below illustrate the method, not the study.")
    return paths


def load_models(checkpoints) -> list:
    """(config dict, AutoEncoder) for each checkpoint path, sorted by (num_conv, latent_dim)."""
    from . import artifacts

    out = []
    for p in checkpoints:
        cfg = artifacts.load_checkpoint(p)["config"]
        out.append((dict(cfg), artifacts.load_autoencoder(p)))
    return sorted(out, key=lambda m: (m[0]["num_conv"], m[0]["latent_dim"]))


# ------------------------------------------------------------------ statistics

def mean_ci(values, confidence: float = CONFIDENCE) -> dict:
    """Mean and two-sided t-interval (n - 1 degrees of freedom); nan values are dropped.
    With fewer than two values the interval is undefined (nan)."""
    from scipy import stats

    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return {"mean": float("nan"), "lo": float("nan"), "hi": float("nan"), "n": 0, "sd": float("nan")}
    mean = float(x.mean())
    if n < 2:
        return {"mean": mean, "lo": float("nan"), "hi": float("nan"), "n": 1, "sd": float("nan")}
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf((1 + confidence) / 2, n - 1)) * sd / math.sqrt(n)
    return {"mean": mean, "lo": mean - half, "hi": mean + half, "n": n, "sd": sd}


def summarise(df: pd.DataFrame, by, value: str, unit: str | None = None,
              confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Mean of `value` per group of `by` with a t-interval.

    With `unit` (e.g. "seed"), values are first averaged within each (group, unit), so the
    interval is over units (n = number of seeds), not over every row."""
    by = [by] if isinstance(by, str) else list(by)
    cols = by + ["mean", "ci_lo", "ci_hi", "n", "min", "max"]
    if df is None or len(df) == 0:
        return pd.DataFrame(columns=cols)
    d = df.dropna(subset=[value])
    if unit:
        d = d.groupby(by + [unit], dropna=False)[value].mean().reset_index()
    rows = []
    for key, g in d.groupby(by, dropna=False, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        ci = mean_ci(g[value], confidence)
        rows.append({**dict(zip(by, key)), "mean": ci["mean"], "ci_lo": ci["lo"], "ci_hi": ci["hi"],
                     "n": ci["n"], "min": float(g[value].min()), "max": float(g[value].max())})
    return pd.DataFrame(rows, columns=cols)


def param_correlations(df: pd.DataFrame, params, target: str) -> pd.DataFrame:
    """Pearson and Spearman correlation (with p-values) of each parameter with `target`."""
    from scipy import stats

    rows = []
    for p in params:
        d = df[[p, target]].dropna()
        x, y = d[p].to_numpy(float), d[target].to_numpy(float)
        if len(d) >= 3 and np.unique(x).size > 1 and np.unique(y).size > 1:
            pr, pp = stats.pearsonr(x, y)
            sr, sp = stats.spearmanr(x, y)
        else:
            pr = pp = sr = sp = float("nan")
        rows.append({"parameter": p, "pearson_r": float(pr), "pearson_p": float(pp),
                     "spearman_rho": float(sr), "spearman_p": float(sp), "n": len(d)})
    return pd.DataFrame(rows)


def trend(x, y, expected: int, alpha: float = ALPHA) -> dict:
    """Spearman trend of y against x and its verdict for the expected sign (+1 rises, -1 falls):
    supported when rho has the expected sign and p < alpha; not supported when rho has the
    other sign or is 0; inconclusive otherwise (or with fewer than 3 points / one x value)."""
    from scipy import stats

    x, y = np.asarray(x, float), np.asarray(y, float)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    n = len(x)
    if n < 3 or np.unique(x).size < 2:
        return {"rho": float("nan"), "p": float("nan"), "n": n, "verdict": INCONCLUSIVE}
    if np.unique(y).size < 2:
        return {"rho": 0.0, "p": 1.0, "n": n, "verdict": NOT_SUPPORTED}
    rho, p = stats.spearmanr(x, y)
    rho, p = float(rho), float(p)
    if rho * expected <= 0:
        verdict = NOT_SUPPORTED
    elif p < alpha:
        verdict = SUPPORTED
    else:
        verdict = INCONCLUSIVE
    return {"rho": rho, "p": p, "n": n, "verdict": verdict}


def difference_verdict(diffs, expected: int = 1, confidence: float = CONFIDENCE) -> dict:
    """A mean difference with its t-interval: supported when the whole interval lies on the
    expected side of 0; not supported when the mean is on the other side (or 0); else
    inconclusive (also with fewer than two values)."""
    ci = mean_ci(diffs, confidence)
    if ci["n"] == 0:
        verdict = INCONCLUSIVE
    elif ci["mean"] * expected <= 0:
        verdict = NOT_SUPPORTED
    elif ci["n"] >= 2 and (ci["lo"] > 0 if expected > 0 else ci["hi"] < 0):
        verdict = SUPPORTED
    else:
        verdict = INCONCLUSIVE
    return {**ci, "verdict": verdict}


# ------------------------------------------------------------------ what the runs wrote

@dataclass
class ProfileData:
    """Everything under reports/<profile>/ that the analyses read: the tidy tables (all rows,
    failed and skipped ones included), runs.json and params.yaml."""
    dir: Path
    tables: dict = field(default_factory=dict)
    runs: list = field(default_factory=list)
    params: dict = field(default_factory=dict)

    def table(self, stage: str) -> pd.DataFrame | None:
        return self.tables.get(stage)

    def usable(self, stage: str) -> pd.DataFrame:
        """Rows of runs that completed (status ok or cached); empty when there are none."""
        return usable_rows(self.tables.get(stage))

    def problems(self, stage: str) -> pd.DataFrame:
        return problem_runs(self.tables.get(stage))

    def run_dir(self, stage: str, run_id: str) -> Path:
        return self.dir / "runs" / stage / str(run_id)

    def run_metrics(self, stage: str, run_id: str) -> dict | None:
        p = self.run_dir(stage, run_id) / "metrics.json"
        try:
            return json.loads(p.read_text())
        except (OSError, ValueError):
            return None

    @property
    def dataset(self) -> str:
        return (self.params.get("data") or {}).get("dataset", "mnist")

    @property
    def profile(self) -> str:
        return self.params.get("profile") or self.dir.name


def resolve_profile_dir(profile_dir) -> Path:
    """A relative path is taken from the project root (so the notebook runs from any folder)."""
    p = Path(profile_dir).expanduser()
    if not p.is_absolute():
        root = Path(__file__).resolve().parent.parent
        p = (root / p) if not p.exists() else p.resolve()
    return p


def read_profile(profile_dir) -> ProfileData:
    import yaml

    pdir = resolve_profile_dir(profile_dir)
    tables = {}
    for csv in sorted((pdir / "tables").glob("*.csv")):
        try:
            tables[csv.stem] = pd.read_csv(csv, keep_default_na=True)
        except (OSError, ValueError, pd.errors.EmptyDataError):
            continue
    runs, params = [], {}
    try:
        runs = json.loads((pdir / "runs.json").read_text()).get("runs", [])
    except (OSError, ValueError):
        pass
    try:
        params = yaml.safe_load((pdir / "params.yaml").read_text()) or {}
    except (OSError, yaml.YAMLError):
        pass
    return ProfileData(pdir, tables, runs, params)


def usable_rows(df: pd.DataFrame | None) -> pd.DataFrame:
    if df is None or "status" not in df:
        return pd.DataFrame()
    return df[df["status"].isin(OK_STATUSES)].reset_index(drop=True)


def problem_runs(df: pd.DataFrame | None) -> pd.DataFrame:
    """One row per run whose status is neither ok nor cached: run_id, status, error."""
    cols = ["run_id", "status", "error"]
    if df is None or "status" not in df:
        return pd.DataFrame(columns=cols)
    bad = df[~df["status"].isin(OK_STATUSES)]
    bad = bad.reindex(columns=cols).fillna({"error": ""}).drop_duplicates("run_id")
    return bad.reset_index(drop=True)


def status_markdown(data: ProfileData, stage: str) -> str:
    """Visible warnings for failed / skipped runs of a stage (empty string when all are fine),
    or a note that the stage has no usable run."""
    lines = []
    for r in data.problems(stage).itertuples(index=False):
        err = str(r.error) if isinstance(r.error, str) and r.error else "no error recorded"
        lines.append(f"> **Warning: {stage} run `{r.run_id}` {r.status}**: {err}")
    if lines:
        lines.append("> The analyses of this section use the completed runs only.")
    if data.usable(stage).empty:
        lines.append(f"> **No usable {stage} runs in this profile** (stage not run, or every run "
                     "failed): this section has nothing to show.")
    return "\n>\n".join(lines) if lines else ""


def title_markdown(data: ProfileData, date: str | None = None) -> str:
    date = date or datetime.date.today().isoformat()
    name = DATASET_NAMES.get(data.dataset, data.dataset)
    counts: dict = {}
    for r in data.runs:
        counts[r.get("status", "?")] = counts.get(r.get("status", "?"), 0) + 1
    status = ", ".join(f"{n} {s}" for s, n in counts.items()) or "no runs.json"
    return (f"# {DEFAULT_TITLE.format(dataset=name)}\n\n"
            f"Rendered {date} from profile **{data.profile}** (`{data.dir}`); runs of the last sweep: {status}.")


# ------------------------------------------------------------------ experiment 1 helpers

def autoencode_history(data: ProfileData) -> pd.DataFrame:
    """Test error per epoch of every usable autoencode run (long format), read from the runs'
    metrics.json (the tables hold final numbers only)."""
    rows = []
    for r in data.usable("autoencode").itertuples(index=False):
        m = data.run_metrics("autoencode", r.run_id)
        hist = (m or {}).get("history") or {}
        for ep, te, tr in zip(hist.get("epoch", []), hist.get("test_error", []), hist.get("train_error", [])):
            rows.append({"run_id": r.run_id, "latent_dim": int(r.latent_dim), "num_conv": int(r.num_conv),
                         "epoch": int(ep), "test_error": float(te), "train_error": float(tr)})
    return pd.DataFrame(rows, columns=["run_id", "latent_dim", "num_conv", "epoch", "test_error", "train_error"])


def error_grid(ae: pd.DataFrame) -> pd.DataFrame:
    """Final test error as a d x num_conv table."""
    if ae.empty:
        return pd.DataFrame()
    t = ae.pivot_table(index="latent_dim", columns="num_conv", values="final_test_error", aggfunc="mean")
    t.columns = [f"num_conv={c}" for c in t.columns]
    return t.reset_index().rename(columns={"latent_dim": "d"})


# ------------------------------------------------------------------ verdicts

def _row(experiment: str, conclusion: str, numbers: str, verdict: str) -> dict:
    return {"experiment": experiment, "conclusion": conclusion, "this run's numbers": numbers, "verdict": verdict}


def _by_mean(df: pd.DataFrame, by: str, value: str, f=fmt) -> str:
    m = df.groupby(by)[value].mean()
    return ", ".join(f"{by_label(by)}={_int(k)}: {f(v)}" for k, v in m.items())


def by_label(col: str) -> str:
    return {"latent_dim": "d"}.get(col, col)


def _int(v):
    try:
        return int(v) if float(v).is_integer() else v
    except (TypeError, ValueError):
        return v


def _trend_text(t: dict, what: str) -> str:
    return f"Spearman ρ({what}) = {fmt(t['rho'], 3)} ({fmt_p(t['p'])}, n = {t['n']})"


NO_RUNS = "no usable runs"


def _trend_row(experiment: str, c: str, df: pd.DataFrame | None, x: str, y: str, expected: int,
               label: str, what: str, f=fmt, extra=lambda t: "") -> dict:
    """A trend conclusion: means of `y` by `x`, Spearman's rho and its verdict (+ `extra(t)`)."""
    if df is None or df.empty:
        return _row(experiment, c, NO_RUNS, INCONCLUSIVE)
    t = trend(df[x], df[y], expected=expected)
    return _row(experiment, c, f"{label}: {_by_mean(df, x, y, f)}; " + _trend_text(t, what) + extra(t),
                t["verdict"])


def verdict_error_falls_with_d(ae: pd.DataFrame) -> dict:
    return _trend_row("1", "Reconstruction error falls as d grows", ae, "latent_dim", "final_test_error",
                      -1, "mean final test error by d", "d, error")


def verdict_small_d_worse(ae: pd.DataFrame, threshold: int = 10, margin: float = SMALL_D_MARGIN) -> dict:
    """d < threshold clearly worse: every run with d < threshold has at least `margin` more error
    than every run with d >= threshold of the same num_conv -> supported; the mean error of the
    small-d runs not above that of the others -> not supported; otherwise inconclusive."""
    c = f"d < {threshold} is clearly worse"
    if ae is None or ae.empty:
        return _row("1", c, NO_RUNS, INCONCLUSIVE)
    small, large = ae[ae["latent_dim"] < threshold], ae[ae["latent_dim"] >= threshold]
    if small.empty or large.empty:
        return _row("1", c, f"the grid needs d below and at or above {threshold} (has d = "
                    f"{sorted(ae['latent_dim'].astype(int).unique().tolist())})", INCONCLUSIVE)
    ratios = []
    for nc, g in ae.groupby("num_conv"):
        s, l = g[g["latent_dim"] < threshold], g[g["latent_dim"] >= threshold]
        ratios += [se / le for se in s["final_test_error"] for le in l["final_test_error"]]
    ratios = np.asarray(ratios)
    if len(ratios) == 0:
        return _row("1", c, f"no num_conv has runs on both sides of d = {threshold}", INCONCLUSIVE)
    ms, ml = small["final_test_error"].mean(), large["final_test_error"].mean()
    excess = ms / ml - 1
    clear = bool(np.all(ratios >= 1 + margin))
    frac = float(np.mean(ratios > 1))
    numbers = (f"mean error d<{threshold}: {fmt(ms)}, d≥{threshold}: {fmt(ml)} ({100 * excess:+.0f} %); "
               f"worse in {int(round(frac * len(ratios)))}/{len(ratios)} comparisons at equal num_conv, "
               f"smallest excess {100 * (ratios.min() - 1):+.0f} % (needs ≥ +{100 * margin:.0f} % in all)")
    verdict = NOT_SUPPORTED if ms <= ml else (SUPPORTED if clear else INCONCLUSIVE)
    return _row("1", c, numbers, verdict)


def verdict_error_falls_with_size(ae: pd.DataFrame) -> dict:
    def less(t):
        td = trend(ae["latent_dim"], ae["final_test_error"], expected=-1)
        if not (math.isfinite(t["rho"]) and math.isfinite(td["rho"])):
            return ""
        return f"; |ρ| {'below' if abs(t['rho']) < abs(td['rho']) else 'not below'} that of d ({fmt(abs(td['rho']), 3)})"

    return _trend_row("1", "Error also falls, less clearly, as the model grows (num_conv)", ae, "num_conv",
                      "final_test_error", -1, "mean final test error by num_conv", "num_conv, error", extra=less)


def _two_models(interp: pd.DataFrame):
    ds = sorted(interp["latent_dim"].astype(int).unique())
    return (ds[0], ds[-1]) if len(ds) >= 2 else (None, None)


def verdict_sharper_ends(interp: pd.DataFrame) -> dict:
    """The larger d reconstructs the interpolation end points (a = 0 and 1) with lower pixel MSE
    than the smaller d: the paired difference over the end images must be below 0 with its
    whole 95 % interval."""
    if interp is None or interp.empty:
        return _row("2", "The larger d (20) is sharper at the ends (a = 0, 1)", NO_RUNS, INCONCLUSIVE)
    lo, hi = _two_models(interp)
    c = f"d = {hi if hi else 20} is sharper at the ends (a = 0, 1) than d = {lo if lo else 10}"
    if lo is None:
        return _row("2", c, "needs two latent sizes", INCONCLUSIVE)
    g = interp.groupby(["pair", "latent_dim"])[["end_mse_a", "end_mse_b"]].mean()
    diffs = np.concatenate([(g.xs(hi, level="latent_dim")[k] - g.xs(lo, level="latent_dim")[k]).to_numpy()
                            for k in ("end_mse_a", "end_mse_b")])
    v = difference_verdict(diffs, expected=-1)
    m = interp.groupby("latent_dim")["end_mse"].mean()
    numbers = (f"end-point pixel MSE d={lo}: {fmt(m[lo])}, d={hi}: {fmt(m[hi])}; "
               f"paired difference (d={hi} − d={lo}) over {v['n']} end images: {fmt_ci(v)}")
    return _row("2", c, numbers, v["verdict"])


def verdict_mid_digit_like(interp: pd.DataFrame) -> dict:
    """The smaller d's a~0.5 decode lies closer to a real training digit (mean squared pixel
    distance to its nearest neighbour in a seeded sample): paired over pairs, interval below 0."""
    if interp is None or interp.empty:
        return _row("2", "d = 10 gives more digit-like images near a = 0.5", NO_RUNS, INCONCLUSIVE)
    lo, hi = _two_models(interp)
    c = f"d = {lo if lo else 10} gives more digit-like images near a = 0.5 than d = {hi if hi else 20}"
    if lo is None:
        return _row("2", c, "needs two latent sizes", INCONCLUSIVE)
    g = interp.groupby(["pair", "latent_dim"])["mid_nn_distance"].mean().unstack("latent_dim")
    diffs = (g[lo] - g[hi]).to_numpy()
    v = difference_verdict(diffs, expected=-1)
    numbers = (f"distance of the a≈0.5 decode to its nearest training image d={lo}: {fmt(g[lo].mean())}, "
               f"d={hi}: {fmt(g[hi].mean())} (real test digits: {fmt(interp['input_nn_distance'].mean())}); "
               f"paired difference (d={lo} − d={hi}) over {v['n']} pairs: {fmt_ci(v)}")
    return _row("2", c, numbers, v["verdict"])


def verdict_correlation_falls(corr: pd.DataFrame) -> dict:
    def with_diagonal(t):
        tw = trend(corr["latent_dim"], corr["with_diag"], expected=-1)
        return (f"; with the diagonal (original's figure): {_by_mean(corr, 'latent_dim', 'with_diag')}, "
                f"ρ = {fmt(tw['rho'], 3)}")

    return _trend_row("3", "Latent correlation (mean |corr| off the diagonal) falls as d grows", corr,
                      "latent_dim", "offdiag", -1, "off-diagonal by d", "d, off-diag", extra=with_diagonal)


def transfer_parts(tr: pd.DataFrame):
    """(classifier records, baseline records) of the usable transfer rows; the baselines are
    the same for every encoder (same seed, same images), so duplicates are averaged away."""
    if tr is None or tr.empty or "mode" not in tr:
        return pd.DataFrame(), pd.DataFrame()
    tr = tr.copy()
    is_base = tr["mode"].isin(["logreg", "1nn"])
    clf = tr[~is_base].copy()
    if not clf.empty:
        clf["h1"] = clf["h1"].astype(int)
        clf["latent_dim"] = clf["latent_dim"].astype(int)
    base = tr[is_base].groupby(["mode", "seed"], as_index=False)["accuracy"].mean()
    return clf.reset_index(drop=True), base


def _per_seed(clf: pd.DataFrame, mode_a: str, mode_b: str) -> pd.Series:
    """Per seed: mean over (d, h1) of accuracy(mode_a) - accuracy(mode_b), matched cells only."""
    p = clf.pivot_table(index=["latent_dim", "h1", "seed"], columns="mode", values="accuracy", aggfunc="mean")
    if mode_a not in p or mode_b not in p:
        return pd.Series(dtype=float)
    diff = (p[mode_a] - p[mode_b]).dropna()
    return diff.groupby(level="seed").mean()


def verdict_h1_matters_little(tr: pd.DataFrame, margin_pp: float = H1_MARGIN_PP) -> dict:
    """Spread (max - min) of the per-h1 mean accuracy (frozen and finetune, averaged over d and
    seeds) below `margin_pp` points -> supported; at or above it with the per-seed difference
    best - worst h1 clear of 0 -> not supported; otherwise (or classifiers near chance) inconclusive."""
    c = "h1 matters little (a slight edge for a small MLP)"
    clf, _ = transfer_parts(tr)
    clf = clf[clf["mode"].isin(["frozen", "finetune"])] if not clf.empty else clf
    if clf.empty:
        return _row("4", c, NO_RUNS, INCONCLUSIVE)
    per = clf.groupby(["h1", "seed"])["accuracy"].mean().unstack("h1")
    means = per.mean()
    spread = 100 * (means.max() - means.min())
    best, worst = means.idxmax(), means.idxmin()
    v = mean_ci((per[best] - per[worst]).to_numpy())
    numbers = (f"mean accuracy by h1 (frozen+finetune): "
               + ", ".join(f"{h}: {fmt_pct(m)}" for h, m in means.items())
               + f"; spread {spread:.1f} points (threshold {margin_pp:g}); best h1 = {best}"
               + (" (the smallest)" if best == means.index.min() else ""))
    if len(means) < 2:
        verdict = INCONCLUSIVE
    elif means.max() < 2 * CHANCE:
        verdict, numbers = INCONCLUSIVE, numbers + "; classifiers near chance"
    elif spread < margin_pp:
        verdict = SUPPORTED
    elif v["n"] >= 2 and v["lo"] > 0:
        verdict = NOT_SUPPORTED
    else:
        verdict = INCONCLUSIVE
    return _row("4", c, numbers, verdict)


def verdict_larger_d_better(tr: pd.DataFrame) -> dict:
    c = "Larger d is better (transfer accuracy)"
    clf, _ = transfer_parts(tr)
    clf = clf[clf["mode"].isin(["frozen", "finetune"])] if not clf.empty else clf
    if clf.empty:
        return _row("4", c, NO_RUNS, INCONCLUSIVE)
    per = clf.groupby(["latent_dim", "seed"], as_index=False)["accuracy"].mean()
    return _trend_row("4", c, per, "latent_dim", "accuracy", +1, "mean accuracy by d (frozen+finetune)",
                      "d, accuracy", f=fmt_pct, extra=lambda t: " over (d, seed) means")


def _mode_verdict(tr, a: str, b: str, c: str, experiment: str) -> dict:
    clf, _ = transfer_parts(tr)
    if clf.empty or not {a, b} <= set(clf["mode"]):
        return _row(experiment, c, f"needs modes {a} and {b}" if not clf.empty else NO_RUNS, INCONCLUSIVE)
    v = difference_verdict(_per_seed(clf, a, b).to_numpy(), expected=+1)
    m = clf.groupby("mode")["accuracy"].mean()
    return _row(experiment, c, f"mean accuracy {a}: {fmt_pct(m[a])}, {b}: {fmt_pct(m[b])}; "
                f"per-seed difference ({a} − {b}) over {v['n']} seeds: {fmt_ci(v, f=fmt_pp)}", v["verdict"])


def verdict_finetune_beats_frozen(tr: pd.DataFrame) -> dict:
    return _mode_verdict(tr, "finetune", "frozen", "Fine-tuning beats the frozen encoder", "4")


def verdict_pretraining_beats_scratch(tr: pd.DataFrame) -> dict:
    return _mode_verdict(tr, "finetune", "scratch",
                         "Pre-training beats the same network trained from scratch (finetune vs scratch)", "4+")


def verdict_beats_baselines(tr: pd.DataFrame) -> dict:
    """Fine-tuned pre-trained encoder at the largest d (mean over h1) against the stronger of the
    two raw-pixel baselines, per seed; supported when the interval of the difference is above 0."""
    c = "Pre-training beats raw-pixel baselines (logistic regression, 1-NN)"
    clf, base = transfer_parts(tr)
    if clf.empty or base.empty:
        return _row("4+", c, NO_RUNS if clf.empty else "no baseline records", INCONCLUSIVE)
    dmax = int(clf["latent_dim"].max())
    top = clf[(clf["latent_dim"] == dmax)]
    bpiv = base.pivot_table(index="seed", columns="mode", values="accuracy")
    strongest = bpiv.max(axis=1)
    parts = []
    for mode in ("finetune", "frozen"):
        s = top[top["mode"] == mode].groupby("seed")["accuracy"].mean()
        if not s.empty:
            parts.append(f"{mode} (d={dmax}): {fmt_pct(s.mean())}")
    mode = "finetune" if "finetune" in set(top["mode"]) else ("frozen" if "frozen" in set(top["mode"]) else None)
    if mode is None:
        return _row("4+", c, "needs frozen or finetune records", INCONCLUSIVE)
    s = top[top["mode"] == mode].groupby("seed")["accuracy"].mean()
    diff = (s - strongest).dropna()
    v = difference_verdict(diff.to_numpy(), expected=+1)
    numbers = (", ".join(parts) + "; " + ", ".join(f"{m}: {fmt_pct(bpiv[m].mean())}" for m in bpiv.columns)
               + f"; per-seed difference ({mode} − stronger baseline) over {v['n']} seeds: {fmt_ci(v, f=fmt_pp)}")
    return _row("4+", c, numbers, v["verdict"])


def verdicts(data: ProfileData) -> pd.DataFrame:
    """Every conclusion of the original study (and the project's two additions) with this
    run's numbers and a verdict, from the usable rows of the tables."""
    ae, interp = data.usable("autoencode"), data.usable("interpolate")
    corr, tr = data.usable("correlate"), data.usable("transfer")
    rows = [verdict_error_falls_with_d(ae), verdict_small_d_worse(ae), verdict_error_falls_with_size(ae),
            verdict_sharper_ends(interp), verdict_mid_digit_like(interp), verdict_correlation_falls(corr),
            verdict_h1_matters_little(tr), verdict_larger_d_better(tr), verdict_finetune_beats_frozen(tr),
            verdict_pretraining_beats_scratch(tr), verdict_beats_baselines(tr)]
    return pd.DataFrame(rows)


VERDICT_RULES = f"""\
How the verdicts are computed (all intervals are two-sided {int(CONFIDENCE * 100)} % t-intervals):
- *Trends* ("falls / grows as ... grows"): Spearman's ρ over the runs. **supported** when ρ has the
  claimed sign and p < {ALPHA}; **not supported** when ρ has the other sign (or is 0);
  **inconclusive** when the sign is right but p ≥ {ALPHA}, or there are fewer than 3 points.
- *Differences* (A beats B): the mean difference and its interval (over seeds for experiment 4,
  over end images or digit pairs for experiment 2). **supported** when the whole interval is on
  the claimed side of 0; **not supported** when the mean is on the other side; else **inconclusive**.
- *d < 10 clearly worse*: every d < 10 run has at least {int(SMALL_D_MARGIN * 100)} % more test error than
  every d ≥ 10 run with the same num_conv.
- *h1 matters little*: the spread of the mean accuracy over h1 is below {H1_MARGIN_PP:g} percentage points.
"""


# ------------------------------------------------------------------ interpretation sentences

def describe_trend(values: pd.Series, unit: str = "", f=fmt) -> str:
    """A predicate: 'goes from A at <unit>x0 to B at <unit>x1 and falls at every step'."""
    if len(values) < 2:
        return f"is {f(values.iloc[0]) if len(values) else 'n/a'} (one value only)"
    first, last = values.iloc[0], values.iloc[-1]
    diffs = np.diff(values.to_numpy(float))
    shape = ("falls at every step" if np.all(diffs < 0) else "rises at every step" if np.all(diffs > 0)
             else "does not change monotonically")
    return (f"goes from {f(first)} at {unit}{_int(values.index[0])} to {f(last)} at "
            f"{unit}{_int(values.index[-1])} and {shape}")


# ------------------------------------------------------------------ helpers of the notebooks

def sample_images(images, n: int, seed: int):
    """`n` images drawn without replacement by `seed` (all of them, in order, when n >= len)."""
    import torch

    if n >= len(images):
        return images
    g = torch.Generator().manual_seed(seed)
    return images[torch.randperm(len(images), generator=g)[:n].sort().values]


def heatmap_keys(records: pd.DataFrame) -> list[str]:
    """The models whose matrices are shown: every num_conv at the smallest and the largest d."""
    if records.empty:
        return []
    ds = records["latent_dim"].astype(int)
    keep = records[(ds == ds.min()) | (ds == ds.max())]
    keep = keep.sort_values(["num_conv", "latent_dim"])
    return keep["model"].tolist() if "model" in keep else []


def ci_table(summary: pd.DataFrame, index: str, columns: str, pct: bool = True) -> pd.DataFrame:
    """A summarise() frame as a table of 'mean [lo, hi]' strings."""
    if summary.empty:
        return pd.DataFrame()
    s = summary.copy()
    s["cell"] = [fmt_ci({"mean": m, "lo": lo, "hi": hi, "n": n}, pct=pct)
                 for m, lo, hi, n in zip(s["mean"], s["ci_lo"], s["ci_hi"], s["n"])]
    t = s.pivot(index=index, columns=columns, values="cell")
    t = t[[c for c in ["frozen", "finetune", "scratch"] if c in t.columns] +
          [c for c in t.columns if c not in ("frozen", "finetune", "scratch")]]
    t.columns.name = None
    return t.reset_index().rename(columns={"latent_dim": "d"})


def transfer_summaries(tr: pd.DataFrame) -> dict:
    """Accuracy by (h1, mode), (d, mode), mode and (d, mode, h1): means with t-intervals over seeds."""
    clf, base = transfer_parts(tr)
    if clf.empty:
        return {}
    return {"by_h1": summarise(clf, ["h1", "mode"], "accuracy", unit="seed"),
            "by_d": summarise(clf, ["latent_dim", "mode"], "accuracy", unit="seed"),
            "by_mode": summarise(clf, ["mode"], "accuracy", unit="seed"),
            "by_cell": summarise(clf, ["latent_dim", "mode", "h1"], "accuracy", unit="seed"),
            "baselines": summarise(base, ["mode"], "accuracy", unit="seed") if not base.empty else pd.DataFrame(),
            "clf": clf, "base": base}


def interpret_autoencode(ae: pd.DataFrame) -> str:
    if ae.empty:
        return ""
    by_d = ae.groupby("latent_dim")["final_test_error"].mean()
    by_nc = ae.groupby("num_conv")["final_test_error"].mean()
    td = trend(ae["latent_dim"], ae["final_test_error"], -1)
    tn = trend(ae["num_conv"], ae["final_test_error"], -1)
    best = ae.loc[ae["final_test_error"].idxmin()]
    return (f"Averaged over model sizes, the final test error {describe_trend(by_d, 'd=')}; "
            f"averaged over d, it {describe_trend(by_nc, 'num_conv=')}. "
            f"Spearman ρ with the final error: d {fmt(td['rho'], 3)} ({fmt_p(td['p'])}), "
            f"num_conv {fmt(tn['rho'], 3)} ({fmt_p(tn['p'])}), over {len(ae)} runs. "
            f"The lowest error, {fmt(best['final_test_error'])}, is at d={int(best['latent_dim'])}, "
            f"num_conv={int(best['num_conv'])}.")


def interpret_interpolation(interp: pd.DataFrame) -> str:
    if interp.empty:
        return ""
    lo, hi = _two_models(interp)
    if lo is None:
        return f"Only one latent size (d={int(interp['latent_dim'].iloc[0])}) was interpolated: no comparison."
    g = interp.groupby(["pair", "latent_dim"])[["end_mse_a", "end_mse_b", "mid_nn_distance"]].mean()
    ends_hi = np.concatenate([g.xs(hi, level=1)[k].to_numpy() for k in ("end_mse_a", "end_mse_b")])
    ends_lo = np.concatenate([g.xs(lo, level=1)[k].to_numpy() for k in ("end_mse_a", "end_mse_b")])
    mid = g["mid_nn_distance"].unstack("latent_dim")
    return (f"At the ends (a = 0 and 1, i.e. plain reconstructions), d={hi} has pixel MSE "
            f"{fmt(ends_hi.mean())} against {fmt(ends_lo.mean())} for d={lo}, lower in "
            f"{int((ends_hi < ends_lo).sum())} of {len(ends_hi)} end images. Near a = 0.5 the d={lo} decode "
            f"lies at {fmt(mid[lo].mean())} (mean squared pixel distance) from its nearest training image, "
            f"the d={hi} decode at {fmt(mid[hi].mean())}, closer for d={lo} in {int((mid[lo] < mid[hi]).sum())} "
            f"of {len(mid)} pairs; real test digits lie at {fmt(interp['input_nn_distance'].mean())}. "
            "This distance is a proxy for 'digit-like': a blurred average of two digits can also lie "
            "close to real digits in pixel distance, so look at the images too.")


def interpret_correlation(corr: pd.DataFrame) -> str:
    if corr.empty:
        return ""
    off = corr.groupby("latent_dim")["offdiag"].mean()
    wd = corr.groupby("latent_dim")["with_diag"].mean()
    t = trend(corr["latent_dim"], corr["offdiag"], -1)
    return (f"Averaged over model sizes, the mean absolute off-diagonal correlation "
            f"{describe_trend(off, 'd=')} (Spearman ρ = {fmt(t['rho'], 3)}, {fmt_p(t['p'])}). "
            f"With the diagonal included (the original's figure) it {describe_trend(wd, 'd=')}: "
            "that figure equals (1 + (d − 1) · off-diagonal) / d, so it falls with d through the "
            "diagonal of ones alone, even when the off-diagonal correlation does not change.")


def interpret_transfer(tr: pd.DataFrame) -> str:
    s = transfer_summaries(tr)
    if not s:
        return ""
    clf, base = s["clf"], s["base"]
    modes = s["by_mode"].set_index("mode")
    parts = [f"{m} {fmt_ci(dict(mean=r['mean'], lo=r['ci_lo'], hi=r['ci_hi'], n=r['n']), pct=True)}"
             for m, r in modes.iterrows()]
    text = f"Mean test accuracy over seeds (averaged over d and h1) with 95 % intervals: {'; '.join(parts)}."
    if not base.empty:
        b = base.groupby("mode")["accuracy"].mean()
        text += " Raw-pixel baselines on the same labelled images: " + ", ".join(
            f"{BASELINE_LABELS.get(k, k)} {fmt_pct(v)}" for k, v in b.items()) + "."
    cell = s["by_cell"].loc[s["by_cell"]["mean"].idxmax()]
    text += (f" The best configuration is d={int(cell['latent_dim'])}, {cell['mode']}, h1={int(cell['h1'])} "
             f"at {fmt_pct(cell['mean'])}. Chance is {fmt_pct(CHANCE)}; each seed draws its own "
             f"{int(tr['n_labels'].iloc[0]) if 'n_labels' in tr else 'n'} labelled images, "
             f"so the intervals include the variation between draws.")
    return text


BASELINE_LABELS = {"logreg": "logistic regression", "1nn": "1-nearest-neighbour"}


def swept_params(df: pd.DataFrame, candidates=("latent_dim", "num_conv", "c_factor", "kernel_size", "fc_hidden",
                                               "epochs", "batch_size", "lr", "seed")) -> list[str]:
    """The parameters that take more than one value in a table (the swept ones)."""
    return [c for c in candidates if c in df and df[c].nunique(dropna=True) > 1]


def reconstruction_images(data: ProfileData, ae: pd.DataFrame) -> list[tuple[str, Path]]:
    """(caption, path) of the saved reconstructions of the smallest- and largest-d runs at the
    largest num_conv (the ones that exist)."""
    if ae.empty:
        return []
    nc = int(ae["num_conv"].max())
    sub = ae[ae["num_conv"] == nc].sort_values("latent_dim")
    picks = [sub.iloc[0]] + ([sub.iloc[-1]] if len(sub) > 1 else [])
    out = []
    for r in picks:
        p = data.run_dir("autoencode", r["run_id"]) / "reconstructions.png"
        if p.exists():
            out.append((f"Run `{r['run_id']}` (d={int(r['latent_dim'])}, num_conv={nc}, final test error "
                        f"{fmt(r['final_test_error'])}): test inputs on top, reconstructions below.", p))
    return out


def run_figures(data: ProfileData, stage: str, pattern: str) -> list[Path]:
    """Saved PNGs of a stage's usable runs matching `pattern` (e.g. 'interpolation_*.png')."""
    out = []
    for run_id in data.usable(stage).get("run_id", pd.Series(dtype=str)).drop_duplicates():
        out += sorted(data.run_dir(stage, run_id).glob(pattern))
    return out


def correlation_matrices(data: ProfileData) -> tuple[dict, pd.DataFrame]:
    """The matrices of the smallest and largest d (every num_conv) from the correlate runs' metrics."""
    corr = data.usable("correlate")
    mats = {}
    for run_id in corr.get("run_id", pd.Series(dtype=str)).drop_duplicates():
        mats.update(((data.run_metrics("correlate", run_id) or {}).get("matrices") or {}))
    keys = [k for k in heatmap_keys(corr) if k in mats]
    return {k: mats[k] for k in keys}, corr


def summary_counts(v: pd.DataFrame) -> str:
    c = v["verdict"].value_counts()
    return ", ".join(f"{c.get(k, 0)} {k}" for k in (SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE))
