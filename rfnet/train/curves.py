"""A run's learning curves from its ``metrics.jsonl``: loss, and top-1 / top-5 error per epoch, as a PNG."""

from __future__ import annotations

import os

from matplotlib.figure import Figure

from rfnet.data.atomic import atomic_output

from .metrics import read_metrics


def plot_learning_curves(metrics_path: str | os.PathLike, png_path: str | os.PathLike) -> None:
    """Two panels against the epoch: train and val loss; val top-1 and top-5 error in percent.

    The learning rate's drops are marked by vertical dotted lines. Written atomically.
    """
    records = read_metrics(metrics_path)
    train = [r for r in records if r["split"] == "train"]
    val = [r for r in records if r["split"] == "val"]
    figure = Figure(figsize=(10, 4))
    loss_axes, error_axes = figure.subplots(1, 2)
    loss_axes.plot([r["epoch"] for r in train], [r["loss"] for r in train], marker="o", label="train")
    loss_axes.plot([r["epoch"] for r in val], [r["loss"] for r in val], marker="s", label="val")
    loss_axes.set(xlabel="epoch", ylabel="cross-entropy loss", title="Loss")
    for key, name in (("accuracy", "top-1"), ("top5_accuracy", "top-5")):
        epochs = [r["epoch"] for r in val if key in r]
        error_axes.plot(epochs, [100 * (1 - r[key]) for r in val if key in r], marker="o", label=f"val {name}")
    error_axes.set(xlabel="epoch", ylabel="error (%)", title="Validation error")
    for before, after in zip(val, val[1:]):
        if after["lr"] < before["lr"]:
            for axes in (loss_axes, error_axes):
                axes.axvline(after["epoch"] - 0.5, color="grey", linestyle=":", linewidth=1)
    for axes in (loss_axes, error_axes):
        axes.grid(alpha=0.3)
        axes.legend()
    with atomic_output(png_path, suffix=".png") as temporary:
        figure.savefig(temporary, format="png", dpi=120, bbox_inches="tight")
