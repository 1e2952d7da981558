"""The spectrogram classifier: complex IQ → spectrogram image → AlexNet backbone → class logits, as one
saveable module.

>>> from rfnet.models import SpectrogramClassifier, save, load
>>> model = SpectrogramClassifier(["BPSK", "QPSK"], {"image_size": [67, 67]}, backbone="alexnet_tv",
...                               num_samples=128)
>>> logits = model(iq)                     # iq: complex64 [B, N] → float32 [B, 2]
>>> save(model, "run/best"); model = load("run/best")   # classes, front end and input length come back too
>>> model.input_spec.num_samples           # 128: what it takes, asked of the model, never guessed
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from rfnet.dsp.power import check_iq
from rfnet.dsp.spectrogram import DEFAULTS_BY_LENGTH, Spectrogram, SpectrogramConfig

from .alexnet import AlexNetBackbone
from .baselines import check_class_names
from .config import Configured, InputSpec, check_num_samples, check_sample_rate
from .registry import create_model, register_model

DEFAULT_NUM_SAMPLES = 128
"""Samples per example of a classifier built without a front end or a length: RadioML 2016's."""

GROUP_ALIASES = {"features": 0, "classifier": None, "head": -1}
"""Layer-group names ``param_groups`` accepts besides layer names: the first feature layer, the first
classifier layer and the last layer (fc8)."""


@dataclass(frozen=True)
class ClassifierConfig:
    """What rebuilds a :class:`SpectrogramClassifier` (``model.settings``; its JSON form is ``config.json``'s
    ``config``): the constructor's keywords, resolved.

    classes: class names in logit order. frontend: the front end's settings. backbone: the backbone's
    registered name; backbone_config: its settings (JSON form). num_samples: IQ samples per example it is
    built and trained for. sample_rate_hz: sample rate of the training data (``None``: unknown).
    """

    classes: tuple[str, ...]
    frontend: SpectrogramConfig
    backbone: str
    backbone_config: dict
    num_samples: int
    sample_rate_hz: float | None


def length_for_frontend(front: SpectrogramConfig) -> int:
    """Samples per example of a classifier given a front end but no length (and of a ``config.json`` saved
    before ``num_samples`` was recorded): the length whose default front end
    (:data:`~rfnet.dsp.spectrogram.DEFAULTS_BY_LENGTH`) has this ``n_fft``, 128 for 16 and 1024 for 64.
    Any other ``n_fft`` is a ``ValueError`` asking for ``num_samples``."""
    lengths = [length for length, fields in DEFAULTS_BY_LENGTH.items() if fields["n_fft"] == front.n_fft]
    if len(lengths) != 1:
        defaults = ", ".join(f"n_fft={fields['n_fft']} for {length}" for length, fields in DEFAULTS_BY_LENGTH.items())
        raise ValueError(f"spectrogram_classifier: give num_samples; a front end with n_fft={front.n_fft} is not "
                         f"a default one it could be read from ({defaults})")
    return lengths[0]


@register_model("spectrogram_classifier")
class SpectrogramClassifier(Configured, nn.Module):
    """Front end (:class:`~rfnet.dsp.spectrogram.Spectrogram`) + AlexNet backbone + head (its fc8, sized to
    ``len(classes)``): complex64 IQ ``[B, N]`` → logits float32 ``[B, len(classes)]``.

    classes: the class names, in the order of the logits (and of the integer labels it was trained on).
    frontend: :class:`SpectrogramConfig` fields as a dict (over the config's defaults) or a
        ``SpectrogramConfig``; ``None``: ``SpectrogramConfig.for_length(num_samples)``. Set
        ``imagenet_normalize=True`` for an ImageNet-trained backbone.
    backbone: a registered AlexNet name (``"alexnet"``, ``"alexnet_tv"``) or an AlexNet backbone module
        to use as it is (see :meth:`from_backbone`, which also resets its fc8).
    backbone_config: keyword arguments of the backbone (``drop_rate``, ``init``, ...); ``num_classes`` is
        ``len(classes)`` and ``in_chans`` the front end's ``channels``, and a contradicting value is an
        error.
    num_samples: IQ samples per example it is built and trained for (any length from ``n_fft`` up goes
        through; this is the length readers such as ``rfnet classify`` cut windows to). ``None``:
        :data:`DEFAULT_NUM_SAMPLES` without a front end, else :func:`length_for_frontend`.
    sample_rate_hz: sample rate of the training data, or ``None`` where it is unknown.

    The front end has no learnt state, so the saved weights are the backbone's; ``config`` (classes,
    front end, backbone name and config, input length and sample rate) rebuilds the whole model with
    :func:`rfnet.models.load`, and ``input_spec`` says what it takes. Raises ``ValueError`` when the front
    end's images cannot go through the backbone (channels or size).
    """

    arch = "spectrogram_classifier"

    def __init__(
        self,
        classes: Sequence[str],
        frontend: Mapping | SpectrogramConfig | None = None,
        backbone: str | AlexNetBackbone = "alexnet",
        backbone_config: Mapping | None = None,
        num_samples: int | None = None,
        sample_rate_hz: float | None = None,
    ) -> None:
        super().__init__()
        names = check_class_names(classes)
        if frontend is None:
            num_samples = check_num_samples(self.arch, DEFAULT_NUM_SAMPLES if num_samples is None else num_samples)
            front = SpectrogramConfig.for_length(num_samples)
        elif isinstance(frontend, SpectrogramConfig):
            front = frontend
        elif isinstance(frontend, Mapping):
            try:
                front = SpectrogramConfig(**frontend)
            except TypeError as err:
                raise ValueError(f"frontend: not SpectrogramConfig fields ({err})") from None
        else:
            raise ValueError("frontend must be a dict of SpectrogramConfig fields, "
                             f"got {type(frontend).__name__}")
        if isinstance(backbone, AlexNetBackbone):
            if backbone_config is not None:
                raise ValueError("give backbone_config only with a backbone name, not with a backbone module")
            net = backbone
        elif isinstance(backbone, str):
            kwargs = dict(backbone_config or {})
            for key, value in (("num_classes", len(names)), ("in_chans", front.channels)):
                if kwargs.setdefault(key, value) != value:
                    raise ValueError(f"backbone_config {key}={kwargs[key]} contradicts the classifier's "
                                     f"{key}={value} (from classes / frontend channels)")
            try:
                net = create_model(backbone, **kwargs)
            except TypeError as err:
                raise ValueError(f"backbone_config does not fit backbone {backbone!r} ({err})") from None
            if not isinstance(net, AlexNetBackbone):
                raise ValueError(f"backbone {backbone!r} is not an AlexNet backbone")
        else:
            raise ValueError("backbone must be a model name or an AlexNet backbone, "
                             f"got {type(backbone).__name__}")
        num_samples = check_num_samples(self.arch, length_for_frontend(front) if num_samples is None else num_samples)
        if num_samples < front.n_fft:
            raise ValueError(f"{self.arch}: num_samples={num_samples} is shorter than the front end's STFT window "
                             f"(n_fft={front.n_fft})")
        self._check_fit(names, front, net)
        self.classes = names
        self.num_samples = num_samples
        self.sample_rate_hz = check_sample_rate(self.arch, sample_rate_hz)
        self.frontend = Spectrogram(front)
        self.backbone = net
        self.input_conv_key = f"backbone.{net.input_conv_key}"

    @staticmethod
    def _check_fit(classes: list[str], front: SpectrogramConfig, net: AlexNetBackbone) -> None:
        if net.in_chans != front.channels:
            raise ValueError(f"the front end makes {front.channels}-channel images but backbone {net.arch} "
                             f"takes in_chans={net.in_chans}")
        if net.num_classes != len(classes):
            raise ValueError(f"backbone {net.arch} has {net.num_classes} outputs for {len(classes)} classes")
        if front.image_size is not None and min(front.image_size) < net.min_input_size:
            raise ValueError(f"frontend image_size {front.image_size} is smaller than backbone {net.arch}'s "
                             f"minimum input of {net.min_input_size}x{net.min_input_size} pixels")

    @property
    def settings(self) -> ClassifierConfig:
        """The keywords that rebuild this model, resolved (the backbone's as they are now: its head may
        have been reset)."""
        return ClassifierConfig(tuple(self.classes), self.frontend.config, self.backbone.arch,
                                self.backbone.config, self.num_samples, self.sample_rate_hz)

    @property
    def input_spec(self) -> InputSpec:
        """Complex64 IQ ``[B, num_samples]`` (any length from ``n_fft`` up goes through), the front end's image
        and the backbone's native and smallest sizes."""
        front = self.frontend.config
        return InputSpec(classes=tuple(self.classes), num_samples=self.num_samples, fixed_length=False,
                         min_samples=front.n_fft, sample_rate_hz=self.sample_rate_hz, image_size=front.image_size,
                         channel_mapping=front.channel_mapping,
                         native_image_size=self.backbone.native_input_size,
                         min_image_size=self.backbone.min_input_size)

    @classmethod
    def from_backbone(
        cls,
        backbone: AlexNetBackbone,
        classes: Sequence[str],
        frontend: Mapping | SpectrogramConfig | None = None,
        num_samples: int | None = None,
        sample_rate_hz: float | None = None,
    ) -> "SpectrogramClassifier":
        """Wrap a trained AlexNet backbone (e.g. ``rfnet.models.load("imagenet_run/best")``) for fine-tuning.

        ``backbone`` is copied (the caller's model is not changed) and the copy's fc8 replaced by a fresh
        layer with ``len(classes)`` outputs. Its ``in_chans`` must equal the front end's ``channels``.
        For an ImageNet-trained backbone pass ``frontend={..., "imagenet_normalize": True}``. The other
        arguments are the constructor's.
        """
        if not isinstance(backbone, AlexNetBackbone):
            raise ValueError(f"from_backbone needs an AlexNet backbone, got {type(backbone).__name__}")
        names = check_class_names(classes)
        net = copy.deepcopy(backbone)
        net.reset_classifier(len(names))
        return cls(names, frontend, backbone=net, num_samples=num_samples, sample_rate_hz=sample_rate_hz)

    def forward(self, iq: torch.Tensor) -> torch.Tensor:
        """Complex64 IQ ``[B, N]`` → logits float32 ``[B, len(classes)]``."""
        self.check_input(iq)
        return self.backbone(self.frontend(iq))

    def check_input(self, iq: torch.Tensor) -> None:
        """``ValueError`` naming the expected input unless ``iq`` is finite complex64 ``[B, N]``, N >= n_fft
        (NaN / infinity checked outside ``torch.compile`` only)."""
        n_fft = self.frontend.config.n_fft
        expected = f"{self.arch} expects IQ as complex64 [batch, samples] with samples >= n_fft = {n_fft}"
        if not isinstance(iq, torch.Tensor):
            raise ValueError(f"{expected}; got {type(iq).__name__}")
        if iq.dtype != torch.complex64 or iq.dim() != 2 or iq.shape[0] == 0 or iq.shape[1] < n_fft:
            raise ValueError(f"{expected}; got {iq.dtype} {tuple(iq.shape)}")
        if not torch.compiler.is_compiling():
            check_iq(iq)

    def freeze(self, up_to: str | None) -> list[str]:
        """Freeze the backbone up to and including layer ``up_to`` (see ``AlexNetBackbone.freeze``)."""
        return [f"backbone.{name}" for name in self.backbone.freeze(up_to)]

    def param_groups(self, learning_rates: float | Mapping[str, float]) -> list[dict]:
        """Optimizer parameter groups with a learning rate per layer group; frozen parameters left out.

        ``learning_rates`` is one rate for everything, or a mapping from a layer to the rate that starts
        there and holds until the next layer named: paper layer names (``"conv1"`` … ``"fc8"``; see
        ``backbone.layer_names``) or the aliases ``"features"`` (the first conv), ``"classifier"`` (the
        first classifier layer) and ``"head"`` (fc8). ``{"features": 1e-4, "classifier": 1e-3}`` trains the
        convolutions at 1e-4 and fc6-fc8 at 1e-3; ``{"conv4": 1e-4, "head": 1e-2}`` needs conv1-conv3 frozen.
        Each group is ``{"params", "lr", "name"}`` (name: ``"conv1-pool5"``), ready for ``torch.optim``.
        Raises ``ValueError`` for unknown layers or trainable layers before the first one named.
        """
        stages = list(self.backbone.stages())
        layer_names = [name for name, _ in stages]
        if not isinstance(learning_rates, Mapping):
            learning_rates = {layer_names[0]: learning_rates}
        starts: dict[int, float] = {}
        for key, lr in learning_rates.items():
            if key in GROUP_ALIASES:
                index = GROUP_ALIASES[key]
                index = layer_names.index(self.backbone.classifier_names[0]) if index is None \
                    else index % len(layer_names)
            elif key in layer_names:
                index = layer_names.index(key)
            else:
                raise ValueError(f"param_groups: unknown layer {key!r}; use {sorted(GROUP_ALIASES)} "
                                 f"or a layer of {layer_names}")
            if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
                raise ValueError(f"param_groups: learning rate for {key!r} must be a positive number, "
                                 f"got {lr!r}")
            if index in starts:
                raise ValueError(f"param_groups: layer {layer_names[index]!r} given twice")
            starts[index] = float(lr)
        bounds = sorted(starts) + [len(stages)]
        untrained = [name for name, module in stages[: bounds[0]]
                     if any(p.requires_grad for p in module.parameters())]
        if untrained:
            raise ValueError(f"param_groups: trainable layers {untrained} come before the first layer given "
                             f"a learning rate; give one or freeze them")
        groups = []
        for begin, end in zip(bounds[:-1], bounds[1:]):
            params = [p for _, module in stages[begin:end] for p in module.parameters() if p.requires_grad]
            if params:
                first, last = layer_names[begin], layer_names[end - 1]
                name = first if first == last else f"{first}-{last}"
                groups.append({"params": params, "lr": starts[begin], "name": name})
        return groups


def check_classes(model: nn.Module, dataset_classes: Sequence[str]) -> None:
    """Raise a ``ValueError`` unless ``model.classes`` equals ``dataset_classes`` (same names, same order).

    The message says which classes the data has that the model lacks, which the model has that the data
    lacks, or, with the same names, where the order differs: a model's logits only mean something for
    the label order it was trained with.
    """
    model_classes = getattr(model, "classes", None)
    if model_classes is None:
        raise ValueError(f"{type(model).__name__} carries no class names (.classes) "
                         "to check against the data")
    have, want = list(model_classes), list(dataset_classes)
    if have == want:
        return
    missing = [name for name in want if name not in have]
    extra = [name for name in have if name not in want]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"data classes the model lacks: {missing}")
        if extra:
            parts.append(f"model classes not in the data: {extra}")
        raise ValueError(f"model classes do not match the data's ({'; '.join(parts)})")
    first = next(i for i, (a, b) in enumerate(zip(have, want)) if a != b)
    raise ValueError(f"model and data have the same classes in a different order (first difference at "
                     f"index {first}: model {have[first]!r}, data {want[first]!r}); "
                     f"model order {have}, data order {want}")
