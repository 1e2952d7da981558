"""How each ``rfnet finetune --arch`` trains when the user does not say: one :class:`TrainingRecipe` per
model, as data, with its source.

    from rfnet.jobs.recipes import RECIPES
    RECIPES["vtcnn2"].batch_size   # 1024

Every recipe runs on the engine's ``"adamw"`` optimiser (:mod:`rfnet.train.optim`): with
``weight_decay=0`` AdamW's update is exactly Adam's (the decay is the only difference), which is what
both RadioML papers used.

**Early stopping.** Both RadioML recipes stop on the validation *loss* and keep the weights of the best
validation loss (Keras ``EarlyStopping`` / ``ModelCheckpoint(monitor="val_loss")``); their recipes say
``monitor="loss"``, which the engine (:class:`rfnet.train.Trainer`, ``TrainConfig.monitor``) applies to
both ``best/`` and the patience. AlexNet keeps the best epoch by validation accuracy.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class TrainingRecipe:
    """The optimiser settings and training length of one model.

    Attributes:
        lr: Adam / AdamW learning rate.
        weight_decay: AdamW's decoupled weight decay (0: plain Adam).
        batch_size: examples per optimiser step.
        epochs: the most epochs trained.
        early_stopping_patience: stop after this many epochs without a new best epoch (``None``: train
            every epoch).
        monitor: the validation metric that picks the best epoch and counts the patience
            (``"accuracy"`` or ``"loss"``; ``TrainConfig.monitor``).
        source: where the numbers come from.
        lr_schedule: ``"constant"`` or ``"cosine"`` (``TrainConfig.lr_schedule``: from ``lr`` down to
            ``TrainConfig.min_lr_ratio`` times it over the epochs). AlexNet's is cosine; the RadioML
            recipes keep Keras' constant rate.
    """

    lr: float
    weight_decay: float
    batch_size: int
    epochs: int
    early_stopping_patience: int | None
    monitor: str
    source: str
    lr_schedule: str = "constant"


ALEXNET_FINETUNE = TrainingRecipe(
    lr=3e-4, weight_decay=0.01, batch_size=64, epochs=10, early_stopping_patience=None, monitor="accuracy",
    source="rfnet's default for AlexNet on spectrograms (no published recipe for this use): AdamW, "
    "lr 3e-4 decayed to 0 by a cosine over the epochs (chosen over a constant lr by measurement: "
    "benchmarks/RESULTS.md), weight decay 0.01, batch 64, 10 epochs",
    lr_schedule="cosine",
)

VTCNN2_NOTEBOOK = TrainingRecipe(
    lr=1e-3, weight_decay=0.0, batch_size=1024, epochs=100, early_stopping_patience=5, monitor="loss",
    source="the official RadioML 2016 notebook, radioML/examples modulation_recognition/"
    "RML2016.10a_VTCNN2_example.ipynb (O'Shea, Corgan & Clancy 2016): Keras Adam with its default lr 0.001, "
    "batch_size 1024, nb_epoch 100, EarlyStopping(monitor='val_loss', patience=5), best weights by val_loss, "
    "dropout 0.5",
)

RADIOML_RESNET_2018 = dataclasses.replace(
    VTCNN2_NOTEBOOK,
    source="O'Shea, Roy & Clancy, 'Over-the-Air Deep Learning Based Radio Signal Classification', IEEE JSTSP "
    "12(1), 2018: Adam and categorical cross-entropy, trained until the validation loss stops improving; "
    "the paper gives no learning rate, batch size, epoch cap or patience, so those are the same group's "
    "RadioML 2016 notebook values (Adam default lr 0.001, batch 1024, at most 100 epochs, patience 5)",
)

RECIPES: dict[str, TrainingRecipe] = {
    "alexnet": ALEXNET_FINETUNE,
    "alexnet_tv": ALEXNET_FINETUNE,
    "vtcnn2": VTCNN2_NOTEBOOK,
    "radioml_resnet": RADIOML_RESNET_2018,
}
"""``rfnet finetune --arch`` name → its recipe. A saved AlexNet backbone or spectrogram classifier given
as ``--backbone`` trains with AlexNet's, a saved baseline with its own."""

RECIPE_OPTIONS = ("lr", "weight_decay", "batch_size", "epochs", "lr_schedule")
"""The recipe fields a job (and ``rfnet finetune``'s ``--lr``, ``--weight-decay``, ``--batch-size``,
``--epochs``, ``--lr-schedule``) may override; ``None`` there means the recipe's value."""
