"""The study's vocabulary, stated once: the datasets, optimisers, precisions and schedules a
parameter may name, the transfer modes and baselines (and their order), the names a reader sees
for parameters, datasets and baselines, and the colours of the modes.

Shared by the science side (the schema, a run's figures) and the report; torch-free and free of
matplotlib, so anything may import it cheaply."""

from __future__ import annotations

DATASETS = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST"}  # parameter value -> torchvision class
DATASET_SIZES = {"mnist": (60_000, 10_000), "fashion_mnist": (60_000, 10_000)}  # (training, test) images
OPTIMIZERS = ("adam", "sgd")
PRECISIONS = ("float32", "bfloat16", "auto")  # of a stage's training (science.training.resolved_precision)
SCHEDULES = (
    "constant",
    "cosine",
)  # the autoencoder's learning rate after its warm-up (experiments.autoencode.run.learning_rate)
OUTPUT_BIASES = ("mean", "torch")  # where the decoder's output starts (science.models.start_output_at_mean)
MODES = ("frozen", "finetune", "scratch", "augmented")  # how a transfer classifier is trained, in study order
BASELINES = ("logreg", "1nn")  # raw-pixel baselines on the same labels

# what a reader sees for a parameter (table columns, axis ticks, 'd=10' in prose)
LABELS = {"latent_dim": "d", "num_conv": "num_conv", "h1": "h1", "seed": "seed"}
# what an axis says about a parameter
AXES = {"latent_dim": "latent size d", "num_conv": "num_conv", "h1": "MLP width h1", "mode": "mode"}
DATASET_NAMES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}  # parameter value -> in prose
BASELINE_LABELS = {"logreg": "logistic regression", "1nn": "1-nearest-neighbour"}  # in prose
BASELINE_NAMES = {"logreg": "logistic regression (pixels)", "1nn": "1-NN (pixels)"}  # in a figure's legend
BASELINE_STYLE = {"logreg": dict(color="0.35", ls="--"), "1nn": dict(color="0.55", ls=":")}

# seaborn's "deep" palette (the figures' theme), one colour per mode: a fifth mode needs a fifth colour
DEEP = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C")
assert len(DEEP) >= len(MODES), "a colour for every mode"
assert set(BASELINES) == set(BASELINE_LABELS) == set(BASELINE_NAMES) == set(BASELINE_STYLE)


def label(param: str) -> str:
    """'latent_dim' -> 'd'; a name without a label is shown as it is."""
    return LABELS.get(param, param)


def axis(param: str) -> str:
    return AXES.get(param, label(param))


def dataset_name(value: str) -> str:
    return DATASET_NAMES.get(value, value)


def mode_rank(mode) -> int:
    """A mode's place in study order; anything else (a baseline, an unknown name) after them."""
    return MODES.index(mode) if mode in MODES else len(MODES)


def mode_sort_key(column):
    """`sort_values("mode", key=mode_sort_key)`: modes in study order."""
    return column.map(mode_rank)


def in_mode_order(values) -> list[str]:
    """The modes among `values`, in study order."""
    present = set(values)
    return [m for m in MODES if m in present]


def mode_palette() -> dict[str, str]:
    """One distinct colour per mode (as many colours as modes)."""
    return dict(zip(MODES, DEEP))
