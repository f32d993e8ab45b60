"""Names the study's parts share (torch-free, so the schema and the report import them cheaply)."""

DATASETS = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST"}   # parameter value -> torchvision class
MODES = ("frozen", "finetune", "scratch", "augmented")            # how a transfer classifier is trained
BASELINES = ("logreg", "1nn")                                     # raw-pixel baselines on the same labels
OPTIMIZERS = ("adam", "sgd")
