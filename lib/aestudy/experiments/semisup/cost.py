"""What the semisup run costs, from its parameters alone, in the unit of autoencode's cost model (the
forward multiply-accumulates of training, `UNIT`): the stage has one run, so the runner's ETA has no
sibling to scale it from; sharing the unit, it is scaled from the autoencoders' seconds as they
finish (`runner.eta`). Torch-free, and no run imports it: a change here stales no run."""

from __future__ import annotations

from ...architecture import AEConfig
from ..autoencode.cost import UNIT, encoder_macs_per_image  # noqa: F401 (UNIT: the unit it shares)
from .params import SemisupParams

CLASSES = 10
HEAD_SECOND = 100  # the head's second layer: h1 -> 100 -> 10 (models.Classifier)


def relative_cost(params: dict) -> float | None:
    """Forward multiply-accumulates of the run's training: every step of the search (candidates x
    folds x its steps) and of the evaluated label draws, each step the labelled images and two views
    of the unlabelled batch (a weak one pseudo-labels, a strong one trains), through the study's
    encoder (the d = 10, num_conv = 2 autoencoder's, as every profile takes) and the MLP head. None
    where the parameters do not say, or where the recipe trains another network (Conv-Small)."""
    try:
        p = SemisupParams.model_validate({k: v for k, v in params.items() if k in SemisupParams.model_fields})
        recipe, encoder = p.recipe, AEConfig()
        if recipe.network != "study":
            return None
        per_image = encoder_macs_per_image(encoder) + (
            encoder.latent_dim * p.h1 + p.h1 * HEAD_SECOND + HEAD_SECOND * CLASSES
        )
        steps = recipe.steps
        search = p.candidates * p.folds * (p.cv_steps or steps)
        images = p.n_labels + 2 * recipe.unlabelled_batch
        return float(per_image * images * (search + len(p.label_seeds) * steps))
    except (TypeError, ValueError, KeyError):
        return None
