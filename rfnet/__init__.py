"""rfnet: classify radio signals from their spectrograms with AlexNet.

- ``rfnet.models``: the backbone (the paper's AlexNet, torchvision's layout, the two-device split),
  the spectrogram classifier and the RadioML baselines; ``create_model``, ``save``, ``load``.
- ``rfnet.dsp``: modulations, channel, interference and the spectrogram front end (``Spectrogram``).
- ``rfnet.data``: RadioML and SigMF loaders (``load_radioml``, ``SigMFWindows``), the synthetic generator.
"""

__version__ = "0.1.0"

from rfnet import data, dsp, models  # noqa: E402
from rfnet.data import SigMFWindows, load_radioml  # noqa: E402
from rfnet.dsp import Spectrogram, SpectrogramConfig  # noqa: E402
from rfnet.models import create_model  # noqa: E402

__all__ = [
    "SigMFWindows",
    "Spectrogram",
    "SpectrogramConfig",
    "__version__",
    "create_model",
    "data",
    "dsp",
    "load_radioml",
    "models",
]
