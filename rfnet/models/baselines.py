"""Reference classifiers on raw IQ: VT-CNN2 (O'Shea, Corgan & Clancy 2016) and the RadioML ResNet
(O'Shea, Roy & Clancy 2018), for side-by-side comparison with the spectrogram AlexNet.

Both take complex64 IQ ``[B, N]`` (``N == num_samples``) and return logits ``[B, len(classes)]`` (the
papers' final softmax is left to the loss / to ``softmax`` at prediction time). Inside, each example is
first scaled to unit average power (``unit_power=True``, the default; see below), then split into its
real and imaginary parts as two rows, ``[B, 2, N]`` float32 with row 0 = I and row 1 = Q: the "2 x N"
input both papers use. Both are registered (``create_model("vtcnn2", classes=..., num_samples=...)``) and
saveable with :func:`rfnet.models.save`; ``.classes`` holds the class names.

**Gain invariance.** Datasets disagree on amplitude: RadioML 2016.10a divides each example by the sum of
its magnitudes (mean ``|x|`` = 1/128 at 128 samples, power ~1/128^2), RML2018.01A is at unit power, a
SigMF recording is at whatever level the receiver gave. On raw IQ a network initialised for unit-scale
inputs sees the 1/128 scale as almost all zeros and stays at chance. So the first step of ``forward``,
after the input check, divides each example by ``sqrt(mean |x|^2)``
(:func:`rfnet.dsp.power.to_unit_power`; an all-zero example stays zero, never NaN), which makes
``model(g * x) == model(x)`` for every gain ``g > 0`` up to float rounding.

**Saved models from before the switch.** ``unit_power`` is part of ``config`` (and of ``config.json``).
A ``config.json`` written before it existed has no such key and loads with the default, ``True``: such
models were trained either on unit-power examples (rfnet's demo data, RML2018-style presets), for which
the scaling is the identity up to rounding, or at the 1/128 scale, where they sat at chance. The exact
old behaviour stays one override away: ``rfnet.models.load(folder, unit_power=False)``.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from rfnet.dsp.power import check_iq, to_unit_power

from .config import Configured, InputSpec, check_num_samples, check_sample_rate, make_settings
from .registry import register_model


def check_class_names(classes: Sequence[str]) -> list[str]:
    """``classes`` as a list of distinct non-empty strings, or a ``ValueError`` saying what is wrong."""
    if isinstance(classes, str) or not isinstance(classes, Sequence):
        raise ValueError(f"classes must be a sequence of class names, got {type(classes).__name__}")
    names = list(classes)
    if not names or not all(isinstance(name, str) and name for name in names):
        raise ValueError(f"classes must be a non-empty sequence of non-empty strings, got {names!r}")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"classes must be distinct; repeated: {repeated}")
    return names


@dataclass(frozen=True)
class RawIQConfig:
    """Settings of a raw-IQ baseline (the keywords of :class:`VTCNN2` and :class:`RadioMLResNet`).

    classes: the class names, in the order of the logits.
    num_samples: IQ samples per example (the input is complex64 ``[B, num_samples]``).
    drop_rate: dropout probability of the hidden layers.
    unit_power: scale each example to unit average power first (see the module docstring).
    sample_rate_hz: sample rate of the training data (``None``: unknown), for readers to compare with.
    """

    classes: tuple[str, ...]
    num_samples: int
    drop_rate: float
    unit_power: bool = True
    sample_rate_hz: float | None = None


@dataclass(frozen=True)
class VTCNN2Config(RawIQConfig):
    """:class:`RawIQConfig` with VT-CNN2's defaults: RadioML 2016's 128 samples, the paper's dropout 0.5."""

    num_samples: int = 128
    drop_rate: float = 0.5


@dataclass(frozen=True)
class RadioMLResNetConfig(RawIQConfig):
    """:class:`RawIQConfig` with the ResNet's defaults: RadioML 2018's 1024 samples, alpha-dropout 0.3."""

    num_samples: int = 1024
    drop_rate: float = 0.3


class RawIQClassifier(Configured, nn.Module):
    """What both baselines share: checked settings (``settings``, ``classes``, ``num_samples``, ``unit_power``,
    ``sample_rate_hz``) and their :class:`~rfnet.models.config.InputSpec`."""

    arch: str

    def __init__(self, config_type: type[RawIQConfig], classes: Sequence[str], settings: dict,
                 multiple_of: int = 1) -> None:
        super().__init__()
        cfg = make_settings(config_type, self.arch, {"classes": classes, **settings})
        self.classes = check_class_names(cfg.classes)
        self.num_samples = check_num_samples(self.arch, cfg.num_samples, multiple_of)
        if not isinstance(cfg.unit_power, bool):
            raise ValueError(f"{self.arch}: unit_power must be True or False, got {cfg.unit_power!r}")
        self.unit_power = cfg.unit_power
        self.sample_rate_hz = check_sample_rate(self.arch, cfg.sample_rate_hz)
        self.settings = dataclasses.replace(cfg, classes=tuple(self.classes), sample_rate_hz=self.sample_rate_hz)

    @property
    def input_spec(self) -> InputSpec:
        """Complex64 IQ ``[B, num_samples]``, exactly that length."""
        return InputSpec(classes=tuple(self.classes), num_samples=self.num_samples, fixed_length=True,
                         min_samples=self.num_samples, sample_rate_hz=self.sample_rate_hz)


def iq_rows(iq: torch.Tensor, arch: str, num_samples: int, unit_power: bool) -> torch.Tensor:
    """Complex64 IQ ``[B, num_samples]`` → float32 ``[B, 2, num_samples]`` (I row, Q row), each example
    scaled to unit average power first when ``unit_power`` is true.

    Raises ``ValueError`` naming the expected shape for anything else (or NaN / infinite samples).
    """
    if isinstance(iq, torch.Tensor) and iq.dtype == torch.complex64 and iq.dim() == 2 \
            and iq.shape[1] == num_samples and iq.shape[0] > 0:
        if not torch.compiler.is_compiling():
            check_iq(iq)
        if unit_power:
            iq = to_unit_power(iq)
        return torch.view_as_real(iq).transpose(1, 2)
    got = f"{iq.dtype} {tuple(iq.shape)}" if isinstance(iq, torch.Tensor) else type(iq).__name__
    raise ValueError(f"{arch} expects IQ as complex64 [batch, {num_samples}]; got {got}")


@register_model("vtcnn2")
class VTCNN2(RawIQClassifier):
    """VT-CNN2 of O'Shea, Corgan & Clancy, "Convolutional Radio Modulation Recognition Networks" (2016),
    as the official RadioML 2016 notebook builds it in Keras.

    Input ``[B, 1, 2, N]`` (the I/Q rows as a one-channel image) →
    zero-pad 2 columns each side → conv 256 @ 1x3 (valid) → ReLU → dropout →
    zero-pad 2 columns each side → conv 80 @ 2x3 (valid) → ReLU → dropout →
    flatten → dense 256 → ReLU → dropout → dense ``num_classes`` (→ softmax, in the loss).

    Keras' ``ZeroPadding2D((0, 2))`` followed by a ``valid`` conv is exactly ``nn.Conv2d(padding=(0, 2))``.
    Shapes at ``N = 128``: ``[1, 2, 128]`` → conv1 ``[256, 2, 130]`` → conv2 ``[80, 1, 132]`` →
    flatten 10,560 → 256 → ``num_classes``; in general the flattened width is ``80 * (N + 4)``.

    **Parameters** at 11 classes and 128 samples, 2,830,427 — the count of the notebook's model summary:
    conv1 256·(1·1·3) + 256 = 1,024; conv2 80·(256·2·3) + 80 = 122,960;
    dense1 10,560·256 + 256 = 2,703,616; dense2 256·11 + 11 = 2,827. The padding is what sets the
    count, through dense1's width: each padded conv widens the rows by 2, so 128 → 130 → 132. Valid
    convs without the padding (128 → 126 → 124, flatten 9,920) would give 2,666,587.

    ``settings`` are the fields of :class:`VTCNN2Config`: ``num_samples`` (128), ``drop_rate``, the dropout
    probability after each of the three hidden layers (0.5 in the paper), ``unit_power``: scale each example to
    unit average power before the first layer, making the model gain-invariant (module docstring; the
    notebook feeds 10a's 1/128-scale IQ unscaled), and ``sample_rate_hz``.
    """

    arch = "vtcnn2"
    conv1_filters = 256
    conv2_filters = 80
    hidden_units = 256
    padding = (0, 2)  # rows, columns zero-padded on each side before each conv

    def __init__(self, classes: Sequence[str], **settings) -> None:
        super().__init__(VTCNN2Config, classes, settings)
        names, num_samples, drop_rate = self.classes, self.num_samples, self.settings.drop_rate
        # Each conv pads 2 columns per side and its 3-wide kernel takes 2 off: N → N + 2 → N + 4.
        flat_width = self.conv2_filters * (num_samples + 4)
        self.features = nn.Sequential(OrderedDict(
            conv1=nn.Conv2d(1, self.conv1_filters, (1, 3), padding=self.padding),
            relu1=nn.ReLU(),
            drop1=nn.Dropout(drop_rate),
            conv2=nn.Conv2d(self.conv1_filters, self.conv2_filters, (2, 3), padding=self.padding),
            relu2=nn.ReLU(),
            drop2=nn.Dropout(drop_rate),
        ))  # fmt: skip
        self.classifier = nn.Sequential(OrderedDict(
            dense1=nn.Linear(flat_width, self.hidden_units),
            relu3=nn.ReLU(),
            drop3=nn.Dropout(drop_rate),
            dense2=nn.Linear(self.hidden_units, len(names)),
        ))  # fmt: skip

    def forward(self, iq: torch.Tensor) -> torch.Tensor:
        """Complex64 IQ ``[B, num_samples]`` → logits float32 ``[B, len(classes)]``."""
        rows = iq_rows(iq, self.arch, self.num_samples, self.unit_power)
        return self.classifier(torch.flatten(self.features(rows.unsqueeze(1)), 1))


class ResidualUnit(nn.Module):
    """``x + conv(relu(conv(x)))``: two same-length 1-D convs (the second linear) and the skip, as in
    Fig. 4 of O'Shea, Roy & Clancy (2018). ``[B, C, L]`` → ``[B, C, L]``."""

    def __init__(self, channels: int, kernel_size: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(channels, channels, kernel_size, padding="same")
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv1d(channels, channels, kernel_size, padding="same")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(self.relu(self.conv1(x)))


class ResidualStack(nn.Module):
    """1x1 conv (linear) → two :class:`ResidualUnit` → max-pool 2.

    ``[B, C_in, L]`` → ``[B, C, L // 2]``.
    """

    def __init__(self, in_channels: int, channels: int, kernel_size: int) -> None:
        super().__init__()
        self.project = nn.Conv1d(in_channels, channels, 1)
        self.unit1 = ResidualUnit(channels, kernel_size)
        self.unit2 = ResidualUnit(channels, kernel_size)
        self.pool = nn.MaxPool1d(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.unit2(self.unit1(self.project(x))))


@register_model("radioml_resnet")
class RadioMLResNet(RawIQClassifier):
    """The ResNet of O'Shea, Roy & Clancy, "Over-the-Air Deep Learning Based Radio Signal
    Classification" (IEEE JSTSP 2018), Table III / Figs. 4-5.

    Input ``[B, 2, N]`` (I and Q as two channels of a 1-D signal) → 6 residual stacks (each: 1x1 conv
    of 32 filters, linear; two residual units of two kernel-3 convs of 32 filters, ReLU between, skip
    around; max-pool 2), giving ``[B, 32, N / 64]`` (32 x 16 at N = 1024, as the table lists) →
    flatten → FC 128 SELU → alpha-dropout → FC 128 SELU → alpha-dropout → FC ``num_classes``
    (→ softmax, in the loss). The FC layers start from LeCun-normal weights, as SELU networks need.

    **Parameters** at 24 classes and 1024 samples: 165,144 (the paper states 236,344; see below).
    Stack 1: 1x1 conv 2·32 + 32 = 96, four kernel-3 convs 4·(32·32·3 + 32) = 12,416; stacks 2-6:
    (32·32 + 32) + 12,416 = 13,472 each; convolutions 12,512 + 5·13,472 = 79,872. FC: 512·128 + 128
    = 65,664; 128·128 + 128 = 16,512; 128·24 + 24 = 3,096; total 165,144.

    The 236,344 of the paper is not reachable from its own table: the FC part is fixed at 85,272 by
    the 32 x 16 output of stack 6 and the 128/128/24 widths, which would leave 151,072 for the six
    stacks, about 25,180 each, while a stack of 32-filter convs has 1,184 + 4,096·k parameters for
    kernel size k (no integer k fits: k = 6 gives 153,600 in all six). Batch normalisation (64
    parameters per conv) does not close the gap either. We keep the architecture the table and
    figures describe and report its true count.

    ``settings`` are the fields of :class:`RadioMLResNetConfig`: ``num_samples`` (1024) must be a multiple of
    64 (six halvings); ``drop_rate`` is the alpha-dropout probability (the paper does not give it; 0.3 here);
    ``unit_power``: scale each example to unit average power before the first layer, making the model
    gain-invariant (module docstring; RML2018.01A, the paper's data, is already at unit power, so there it
    changes nothing); ``sample_rate_hz``.
    """

    arch = "radioml_resnet"
    num_stacks = 6
    filters = 32
    kernel_size = 3
    hidden_units = 128

    def __init__(self, classes: Sequence[str], **settings) -> None:
        step = 2**self.num_stacks  # six max-pools of 2
        super().__init__(RadioMLResNetConfig, classes, settings, multiple_of=step)
        names, num_samples, drop_rate = self.classes, self.num_samples, self.settings.drop_rate
        self.stacks = nn.Sequential(*(
            ResidualStack(2 if i == 0 else self.filters, self.filters, self.kernel_size)
            for i in range(self.num_stacks)
        ))
        self.classifier = nn.Sequential(OrderedDict(
            fc1=nn.Linear(self.filters * (num_samples // step), self.hidden_units),
            selu1=nn.SELU(),
            drop1=nn.AlphaDropout(drop_rate),
            fc2=nn.Linear(self.hidden_units, self.hidden_units),
            selu2=nn.SELU(),
            drop2=nn.AlphaDropout(drop_rate),
            fc3=nn.Linear(self.hidden_units, len(names)),
        ))  # fmt: skip
        for layer in self.classifier:
            if isinstance(layer, nn.Linear):
                nn.init.kaiming_normal_(layer.weight, nonlinearity="linear")  # LeCun normal
                nn.init.zeros_(layer.bias)

    def forward(self, iq: torch.Tensor) -> torch.Tensor:
        """Complex64 IQ ``[B, num_samples]`` → logits float32 ``[B, len(classes)]``."""
        rows = iq_rows(iq, self.arch, self.num_samples, self.unit_power)
        return self.classifier(torch.flatten(self.stacks(rows), 1))
