"""The jobs behind ``rfnet finetune``, ``rfnet evaluate`` and ``rfnet demo``, callable from Python too.

>>> from rfnet.jobs import FinetuneJob, finetune, EvaluateJob, evaluate, DemoConfig, run_demo
"""

from rfnet.jobs.datasets import DataSpec, LabelledData, open_data
from rfnet.jobs.demo import DemoConfig, run_demo
from rfnet.jobs.evaluate import EvaluateJob, evaluate
from rfnet.jobs.finetune import FinetuneJob, FinetuneOutcome, finetune

__all__ = [
    "DataSpec",
    "DemoConfig",
    "EvaluateJob",
    "FinetuneJob",
    "FinetuneOutcome",
    "LabelledData",
    "evaluate",
    "finetune",
    "open_data",
    "run_demo",
]
