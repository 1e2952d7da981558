"""Seeds mixed from integer keys, so every random stream of a run (data order, workers, augmentation of
one example in one epoch, an attack's batch) is a pure function of the run's seed and its own position;
and :func:`torch_seeded`, under which a fresh model's starting weights are a function of one seed."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np


def seed_for(*keys: int) -> int:
    """A 63-bit seed mixed from integer ``keys`` (numpy SeedSequence), distinct for distinct keys."""
    words = np.random.SeedSequence(list(keys)).generate_state(2, dtype=np.uint32)
    return int(words[0]) << 31 ^ int(words[1])


@contextlib.contextmanager
def torch_seeded(seed: int) -> Iterator[None]:
    """Inside, torch's global CPU generator is seeded with ``seed`` (layers draw their initial weights from
    it); afterwards it is back in the state it was in, so the caller's random stream is untouched."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield
