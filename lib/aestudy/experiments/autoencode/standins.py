"""Stand-in models for a notebook run on its defaults (in JupyterLab, without upstream checkpoints)."""

from __future__ import annotations

from pathlib import Path


def stand_in_checkpoints(
    latent_dims,
    out_dir,
    num_conv: int = 1,
    dataset: str = "mnist",
    data_dir=None,
    n_images: int = 5000,
    batch_size: int = 16,
    seed: int = 0,
) -> list[str]:
    """When a notebook runs on its defaults (no `checkpoints` injected): train small stand-in
    autoencoders (one per latent size, `n_images` training images, one epoch) and save them
    under out_dir/stand_in/. Their numbers illustrate the method only. (One epoch of 5,000
    images in batches of 16 with num_conv = 1 takes seconds and gives a usable code; with
    batches of 64 the code is still nearly constant after one epoch.)"""
    from ...science import artifacts, data, models
    from . import run as train

    split = data.load_split(dataset, train=True, data_dir=data_dir, limit=n_images, seed=seed)
    test = data.load_split(dataset, train=False, data_dir=data_dir, limit=1000, seed=seed)
    print(
        f"No checkpoints given: training {len(latent_dims)} stand-in autoencoder(s) (d = "
        f"{', '.join(map(str, latent_dims))}, num_conv = {num_conv}) on {len(split)} training images "
        "for one epoch; the numbers below illustrate the method, not the study."
    )
    paths = []
    for d in latent_dims:
        train.setup(seed)
        cfg = models.AEConfig(latent_dim=d, num_conv=num_conv)
        model = models.AutoEncoder(cfg)
        train.run(
            model, split.images, test.images, epochs=1, batch_size=batch_size, seed=seed, progress=False
        )
        paths.append(
            str(
                artifacts.save_checkpoint(
                    Path(out_dir) / "stand_in" / f"d{d}-nc{num_conv}.pt",
                    model,
                    cfg.to_dict(),
                    dataset=dataset,
                    seed=seed,
                )
            )
        )
    return paths
