"""rfnet: classify radio signals from their spectrograms with AlexNet.

- ``rfnet.models``: the backbone (the paper's AlexNet, torchvision's layout, the two-device split),
  the spectrogram classifier and the RadioML baselines; ``create_model``, ``save``, ``load``.
- ``rfnet.dsp``: modulations, channel, interference and the spectrogram front end (``Spectrogram``).
- ``rfnet.data``: RadioML and SigMF loaders (``load_radioml``, ``SigMFWindows``), the synthetic generator.

``import rfnet`` is cheap: the sub-packages (and torch with them) load on first use of a name below
(PEP 562), so the ``rfnet`` command starts without them.
"""

import importlib

__version__ = "0.1.0"

_SUBPACKAGES = ("data", "dsp", "models")
_EXPORTS = {
    "SigMFWindows": "data",
    "load_radioml": "data",
    "Spectrogram": "dsp",
    "SpectrogramConfig": "dsp",
    "create_model": "models",
}
"""Public name → the sub-package that defines it."""

__all__ = ["__version__", *_SUBPACKAGES, *_EXPORTS]


def __getattr__(name: str):
    if name in _SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
