"""Run a classifier over a dataset and keep what it said: logits, true labels and SNRs."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm


@dataclass(frozen=True)
class Predictions:
    """A model's outputs over a labelled dataset, on the CPU.

    Attributes:
        logits: float32 ``[N, C]``, unnormalised class scores.
        labels: int64 ``[N]``, true class indices in ``[0, C)``.
        snrs: float32 ``[N]``, each example's SNR in dB.
    """

    logits: torch.Tensor
    labels: torch.Tensor
    snrs: torch.Tensor

    def __post_init__(self):
        if self.logits.ndim != 2 or self.logits.shape[0] == 0 or self.logits.shape[1] == 0:
            raise ValueError(f"predictions: logits must be [N, C] with N, C > 0, got {tuple(self.logits.shape)}")
        n = self.logits.shape[0]
        if self.labels.shape != (n,) or self.snrs.shape != (n,):
            raise ValueError(
                f"predictions: labels {tuple(self.labels.shape)} and snrs {tuple(self.snrs.shape)} "
                f"must both be [{n}] to match logits {tuple(self.logits.shape)}"
            )
        if not torch.isfinite(self.logits).all():
            bad = int((~torch.isfinite(self.logits)).any(dim=1).sum())
            raise ValueError(
                f"predictions: {bad} of {n} examples have NaN or infinite logits (NaN samples in the input?)"
            )
        if self.labels.min() < 0 or self.labels.max() >= self.num_classes:
            raise ValueError(
                f"predictions: labels must lie in [0, {self.num_classes}), "
                f"got {int(self.labels.min())}..{int(self.labels.max())}"
            )
        object.__setattr__(self, "logits", self.logits.detach().to("cpu", torch.float32))
        object.__setattr__(self, "labels", self.labels.detach().to("cpu", torch.int64))
        object.__setattr__(self, "snrs", self.snrs.detach().to("cpu", torch.float32))

    def __len__(self) -> int:
        return self.logits.shape[0]

    @property
    def num_classes(self) -> int:
        """C, the number of classes the model scores."""
        return self.logits.shape[1]

    @property
    def predicted(self) -> torch.Tensor:
        """int64 ``[N]``: the arg-max class of each example."""
        return self.logits.argmax(dim=1)

    @property
    def correct(self) -> torch.Tensor:
        """bool ``[N]``: whether the predicted class is the true one."""
        return self.predicted == self.labels

    def probabilities(self, temperature: float = 1.0) -> torch.Tensor:
        """float32 ``[N, C]``: ``softmax(logits / temperature)``; rows sum to 1."""
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        return torch.softmax(self.logits / temperature, dim=1)

    def subset(self, mask: torch.Tensor) -> Predictions:
        """The examples where the bool ``[N]`` ``mask`` is true (raises ValueError if none is)."""
        if mask.dtype != torch.bool or mask.shape != (len(self),):
            raise ValueError(f"subset: mask must be bool [{len(self)}], got {mask.dtype} {tuple(mask.shape)}")
        return Predictions(self.logits[mask], self.labels[mask], self.snrs[mask])


def predict(
    model: nn.Module,
    dataset: Dataset,
    *,
    batch_size: int = 256,
    device: str | torch.device = "cpu",
    num_workers: int = 0,
    progress: bool = True,
) -> Predictions:
    """Run ``model`` in eval mode without gradients over every item of ``dataset``.

    Args:
        model: maps complex64 IQ ``[B, L]`` to logits ``[B, C]``; moved to ``device``; its
            train/eval mode is restored afterwards.
        dataset: items ``(iq complex64 [L], label int, snr_db number)``, in a fixed order.
        batch_size: examples per forward pass.
        device: where the model runs.
        num_workers: DataLoader worker processes.
        progress: show a tqdm bar.

    Returns:
        :class:`Predictions` in dataset order.
    """
    if len(dataset) == 0:
        raise ValueError("predict: the dataset is empty")
    if batch_size < 1:
        raise ValueError(f"predict: batch_size must be >= 1, got {batch_size}")
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers)
    was_training = model.training
    model.to(device).eval()
    logits, labels, snrs = [], [], []
    try:
        with torch.inference_mode():
            for iq, label, snr in tqdm(loader, desc="predict", unit="batch", disable=not progress):
                logits.append(model(iq.to(device)).float().cpu())
                labels.append(torch.as_tensor(label, dtype=torch.int64))
                snrs.append(torch.as_tensor(snr, dtype=torch.float32))
    finally:
        model.train(was_training)
    return Predictions(torch.cat(logits), torch.cat(labels), torch.cat(snrs))
