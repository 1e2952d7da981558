"""Model settings as frozen dataclasses: one place for each model's keywords and their defaults.

Every registered model keeps its settings on ``model.settings`` (an instance of its ``Config`` dataclass) and
offers them as ``model.config``, the JSON form :func:`rfnet.models.save` writes to ``config.json`` and
:func:`rfnet.models.load` passes back as keywords. A keyword is a field of the dataclass or it does not exist,
so none can be taken by a constructor and then be missing from ``config.json``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

MAX_NUM_SAMPLES = 1 << 14
"""Most IQ samples per example a model is built for: 16 times RadioML 2018's 1024. A raw-IQ baseline's first
dense layer grows with the length (VT-CNN2: 80 x (N + 4) x 256 weights, 335 M at this bound), so a
``config.json`` asking for more is refused before any layer is allocated."""

Settings = TypeVar("Settings")


def make_settings(config_type: type[Settings], arch: str, values: Mapping[str, Any]) -> Settings:
    """``config_type(**values)``, or one ``ValueError`` naming the keywords ``arch`` does not take."""
    known = [field.name for field in dataclasses.fields(config_type)]
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f"{arch}: unknown setting(s) {unknown}; {arch} takes {known}")
    return config_type(**values)


def json_form(settings: Any) -> dict:
    """``settings`` (a dataclass, nested ones included) as a JSON-able dict: tuples become lists, as a
    ``config.json`` gives them back."""
    return _lists(dataclasses.asdict(settings))


def _lists(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _lists(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_lists(item) for item in value]
    return value


def check_num_samples(arch: str, num_samples: Any, multiple_of: int = 1) -> int:
    """``num_samples`` if it is an int in ``[multiple_of, MAX_NUM_SAMPLES]`` divisible by ``multiple_of``, else
    a ``ValueError`` saying so (before anything is allocated for it)."""
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < multiple_of \
            or num_samples % multiple_of:
        what = "a positive int" if multiple_of == 1 else f"a positive multiple of {multiple_of}"
        raise ValueError(f"{arch}: num_samples must be {what}, got {num_samples!r}")
    if num_samples > MAX_NUM_SAMPLES:
        raise ValueError(f"{arch}: num_samples={num_samples} is more than the {MAX_NUM_SAMPLES} samples per "
                         "example rfnet models are built for")
    return num_samples


def check_sample_rate(arch: str, sample_rate_hz: Any) -> float | None:
    """``sample_rate_hz`` as a float (``None``: unknown), or a ``ValueError`` unless it is positive and finite."""
    if sample_rate_hz is None:
        return None
    if isinstance(sample_rate_hz, bool) or not isinstance(sample_rate_hz, (int, float)) \
            or not 0 < sample_rate_hz < float("inf"):
        raise ValueError(f"{arch}: sample_rate_hz must be a positive number of Hz or None, got {sample_rate_hz!r}")
    return float(sample_rate_hz)


class Configured:
    """Mixin of the registered models: ``config`` is ``settings`` in JSON form (see the module docstring)."""

    settings: Any

    @property
    def config(self) -> dict:
        """JSON-able keyword arguments that rebuild this model (what ``config.json`` holds)."""
        return json_form(self.settings)


@dataclasses.dataclass(frozen=True)
class InputSpec:
    """What a saved signal classifier takes, asked of the model instead of guessed: ``model.input_spec``.

    classes: the class names, in the order of the logits.
    num_samples: IQ samples per example the model was built (and trained) for: complex64 ``[B, num_samples]``.
    fixed_length: only ``num_samples`` fits (the raw-IQ baselines); otherwise any length from
        ``min_samples`` up goes through (the spectrogram front end resizes its image).
    min_samples: the shortest input accepted.
    sample_rate_hz: sample rate of the training data, or ``None`` where it is unknown.
    image_size, channel_mapping: the spectrogram front end's ``(height, width)`` and channel mapping
        (``None`` for a raw-IQ model).
    native_image_size, min_image_size: the backbone's native and smallest square input, in pixels
        (``None`` for a raw-IQ model).
    """

    classes: tuple[str, ...]
    num_samples: int
    fixed_length: bool
    min_samples: int
    sample_rate_hz: float | None
    image_size: tuple[int, int] | None = None
    channel_mapping: str | None = None
    native_image_size: int | None = None
    min_image_size: int | None = None
