"""The one training engine: fine-tuning and ImageNet recipes both run :class:`Trainer`.

>>> from rfnet.train import TrainConfig, Trainer
>>> result = Trainer(model, train_set, val_set, TrainConfig(epochs=5), "run/").fit()  # doctest: +SKIP
"""

from .checkpoint import check_run_folder, load_checkpoint, save_checkpoint
from .config import TrainConfig
from .distributed import DistributedContext, init_from_env, resolve_device
from .engine import Trainer, TrainResult
from .metrics import read_metrics
from .multicrop import crop_averaged_log_probs
from .optim import (
    LRSchedule,
    PaperSGD,
    PlateauLR,
    StepLR,
    WarmupCosineLR,
    build_optimizer,
    build_scheduler,
    split_bias_groups,
)

__all__ = [
    "DistributedContext",
    "LRSchedule",
    "PaperSGD",
    "PlateauLR",
    "StepLR",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "WarmupCosineLR",
    "build_optimizer",
    "build_scheduler",
    "check_run_folder",
    "crop_averaged_log_probs",
    "init_from_env",
    "load_checkpoint",
    "read_metrics",
    "resolve_device",
    "save_checkpoint",
    "split_bias_groups",
]
