"""Seeds mixed from integer keys, so every random stream of a run (data order, workers, augmentation of
one example in one epoch, an attack's batch) is a pure function of the run's seed and its own position."""

from __future__ import annotations

import numpy as np


def seed_for(*keys: int) -> int:
    """A 63-bit seed mixed from integer ``keys`` (numpy SeedSequence), distinct for distinct keys."""
    words = np.random.SeedSequence(list(keys)).generate_state(2, dtype=np.uint32)
    return int(words[0]) << 31 ^ int(words[1])
