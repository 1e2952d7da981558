"""A dataset of labelled IQ examples held in memory."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset


class IQExamples(Dataset):
    """Labelled complex IQ examples in memory; items are ``(iq complex64 [samples], label, snr_db)``.

    Attributes:
        iq: complex64 ``[N, samples]``.
        labels: int64 ``[N]``, indices into ``classes``.
        example_snrs: int64 ``[N]``, SNR of each example in dB.
        classes: class names in label order.
        source: where the examples came from (a path), for messages.
    """

    def __init__(
        self,
        iq: torch.Tensor,
        labels: np.ndarray,
        example_snrs: np.ndarray,
        classes: tuple[str, ...],
        source: str,
    ):
        self.iq = iq
        self.labels = np.asarray(labels, dtype=np.int64)
        self.example_snrs = np.asarray(example_snrs)
        self.classes = tuple(classes)
        self.source = source

    @property
    def snrs(self) -> list[int | float]:
        """Sorted unique SNRs in dB."""
        return np.unique(self.example_snrs).tolist()

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int, int | float]:
        return self.iq[index], int(self.labels[index]), self.example_snrs[index].item()
