"""Names the study's parts share (torch-free, so the schema and the report import them cheaply).
The modes and baselines are stated once, in the shared vocabulary (`aestudy.vocabulary`)."""
from ..vocabulary import BASELINES, MODES  # noqa: F401

DATASETS = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST"}   # parameter value -> torchvision class
OPTIMIZERS = ("adam", "sgd")
PRECISIONS = ("float32", "bfloat16")   # of a stage's training (science.steps.autocast_for)
SCHEDULES = ("constant", "cosine")     # the autoencoder's learning rate after its warm-up (science.train.learning_rate)
