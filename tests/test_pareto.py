"""rfnet.bench.pareto: the latency-accuracy front."""

import pytest

from rfnet.bench.pareto import pareto_front


def test_front_keeps_the_points_nothing_beats_on_both():
    latency = [1.0, 4.0, 5.0, 10.0, 4.0, 2.0]
    accuracy = [0.6, 0.9, 0.9, 0.5, 0.9, 0.6]
    # 5 ms at 0.9 is beaten by 4 ms at 0.9; 10 ms at 0.5 by everything; 2 ms at 0.6 by 1 ms at 0.6.
    # The two identical (4 ms, 0.9) points are both on it.
    assert pareto_front(latency, accuracy) == [True, True, False, False, True, False]


def test_single_and_empty_and_bad_input():
    assert pareto_front([3.0], [0.1]) == [True]
    assert pareto_front([], []) == []
    with pytest.raises(ValueError, match="2 latencies but 1 accuracies"):
        pareto_front([1.0, 2.0], [0.5])
    with pytest.raises(ValueError, match="finite"):
        pareto_front([float("nan")], [0.5])
