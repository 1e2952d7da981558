"""A writer process for tests/test_bench.py's race test, in a module of its own so that a spawned process
imports only the results store (not torch) before it reaches the barrier."""

from rfnet.bench.store import Measurement, ResultsStore


def append_after_barrier(barrier, path: str, writer: int, rows: int) -> None:
    """Wait for every writer at ``barrier``, then open the store at ``path`` and append ``rows``
    measurements named ``writer-{writer}`` with batch sizes 1 .. ``rows``."""
    barrier.wait()
    store = ResultsStore(path)
    for batch_size in range(1, rows + 1):
        store.add_measurement(Measurement(
            model=f"writer-{writer}", model_path="", arch="vtcnn2", mode="eager", device="cpu",
            batch_size=batch_size, median_ms=1.0, p90_ms=1.0, p99_ms=1.0, examples_per_s=1000.0 * batch_size,
            flops_per_example=None, peak_fraction=None, machine="test", versions={}))
