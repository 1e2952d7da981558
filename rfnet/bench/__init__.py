"""Latency and throughput of models, and the results store the dashboard reads.

- :mod:`rfnet.bench.store`: :class:`ResultsStore` (SQLite, append-only) of :class:`Measurement` and
  :class:`Evaluation` rows; :func:`default_store_path`.
- :mod:`rfnet.bench.timing`: warm-up, repeated calls, median / p90 / p99 (CUDA events on a GPU).
- :mod:`rfnet.bench.modes`: eager, compile, channels_last, bf16, fp16, cuda_graphs, int8, onnxruntime.
- :mod:`rfnet.bench.flops`: FLOPs per example and the device's peak FLOP/s.
- :mod:`rfnet.bench.machine`: the machine and software versions a row records.
- :mod:`rfnet.bench.measure`: one model over modes and batch sizes → :class:`Measurement` rows.

``rfnet bench`` itself (saved model folders measured into the store) is a job: :mod:`rfnet.jobs.bench`.
"""

from .store import Evaluation, Measurement, ResultsStore, default_store_path

__all__ = ["Evaluation", "Measurement", "ResultsStore", "default_store_path"]
