"""The Pareto front of latency against accuracy: the models no other model beats on both."""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["pareto_front"]


def pareto_front(latency: Sequence[float], accuracy: Sequence[float]) -> list[bool]:
    """Whether each point is on the front of lower latency and higher accuracy.

    A point is off the front when another point is at least as fast and at least as accurate and
    strictly better in one of the two. Equal points are all on it. Latencies are positive numbers
    (any unit), accuracies numbers; ``ValueError`` for unequal lengths or a non-finite value.
    """
    if len(latency) != len(accuracy):
        raise ValueError(f"pareto_front: {len(latency)} latencies but {len(accuracy)} accuracies")
    points = [(float(t), float(a)) for t, a in zip(latency, accuracy)]
    if not all(math.isfinite(t) and math.isfinite(a) for t, a in points):
        raise ValueError("pareto_front: latencies and accuracies must be finite numbers")
    return [not any(t2 <= t and a2 >= a and (t2, a2) != (t, a) for t2, a2 in points) for t, a in points]
