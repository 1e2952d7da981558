"""Signal processing on complex baseband IQ: complex64 tensors ``[batch, samples]``.

Modulations (``modulate``), the channel (``ChannelConfig``, ``apply_channel``), interference
(``add_interference``), power ratios in dB (``signal_power``) and the spectrogram front end
(``Spectrogram``, ``SpectrogramConfig``).
"""

from rfnet.dsp.channel import ChannelConfig, apply_channel
from rfnet.dsp.classes import MODULATIONS, RML2016_CLASSES, RML2018_CLASSES
from rfnet.dsp.features import modulation_features
from rfnet.dsp.interference import INTERFERENCE, add_interference
from rfnet.dsp.modulations import ModulationConfig, modulate
from rfnet.dsp.power import db_to_ratio, ratio_to_db, signal_power
from rfnet.dsp.spectrogram import Spectrogram, SpectrogramConfig

__all__ = [
    "INTERFERENCE",
    "MODULATIONS",
    "RML2016_CLASSES",
    "RML2018_CLASSES",
    "ChannelConfig",
    "ModulationConfig",
    "Spectrogram",
    "SpectrogramConfig",
    "add_interference",
    "apply_channel",
    "db_to_ratio",
    "modulate",
    "modulation_features",
    "ratio_to_db",
    "signal_power",
]
