"""Names the study's parts share, as the science side imports them; stated once, in the shared
vocabulary (`aestudy.vocabulary`: torch-free, so the schema and the report import it cheaply)."""

from ..vocabulary import BASELINES, DATASETS, MODES, OPTIMIZERS, PRECISIONS, SCHEDULES  # noqa: F401
