"""Latency and throughput of models, and the results store the dashboard reads.

- :mod:`rfnet.bench.store`: :class:`ResultsStore` (SQLite, append-only) of :class:`Measurement` and
  :class:`Evaluation` rows.
"""

from .store import Evaluation, Measurement, ResultsStore, default_store_path

__all__ = ["Evaluation", "Measurement", "ResultsStore", "default_store_path"]
