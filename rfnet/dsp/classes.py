"""Modulation class names of RadioML 2016.10a and 2018.01A, and how the two schemes correspond.

Both tuples list the names in the order the dataset files use for their labels:

- ``RML2018_CLASSES``: the column order of the one-hot ``Y`` in ``GOLD_XYZ_OSC.0001_1024.hdf5`` (the
  order of the paper, O'Shea, Roy & Clancy 2018). The ``classes.txt`` shipped with the file lists
  another order and is wrong (radioML/dataset issue #25).
- ``RML2016_CLASSES``: the modulation names of the 10a pickle's ``(mod, snr)`` keys, sorted.

The mappings pair each class with its counterpart in the other scheme, or ``None`` where there is
none. Choices that are judgement calls:

- ``AM-DSB`` ↔ ``AM-DSB-WC``: 10a's AM-DSB adds a constant to the audio before modulating, so it keeps
  its carrier ("with carrier").
- ``AM-SSB`` ↔ ``AM-SSB-WC``: paired by analogy with AM-DSB (10a builds both with the same carrier
  path). Note that in the published 10a file the AM-SSB class is noise only (its source has amplitude
  0), so real 10a AM-SSB examples look like neither SSB class; see
  ``ModulationConfig.rml2016_ssb_is_noise``.
- ``PAM4`` ↔ ``4ASK``: both carry 2 bits per symbol as 4 amplitude levels on one axis. They are not the
  same signal: 10a's PAM4 is bipolar (levels -3, -1, 1, 3), while rfnet's 4ASK uses unipolar levels
  (0, 1, 2, 3), so the counterpart is the nearest class, not an identical one.
- ``QAM16`` ↔ ``16QAM``, ``QAM64`` ↔ ``64QAM``: the same square constellations, renamed.
- ``WBFM`` ↔ ``FM``: both frequency-modulate an audio source (10a's with broadcast 75 kHz deviation).
- ``CPFSK`` and ``GFSK`` have no counterpart. 2018's ``GMSK`` is the closest (also continuous-phase
  binary FSK), but with BT 0.3 and modulation index 0.5, unlike GFSK (BT 0.35, index ≈ 0.25) or CPFSK
  (rectangular pulse), so mapping either to it would mislabel.
"""

from __future__ import annotations

__all__ = [
    "RML2018_CLASSES",
    "RML2016_CLASSES",
    "RML2016_TO_2018",
    "RML2018_TO_2016",
    "MODULATIONS",
]

RML2018_CLASSES: tuple[str, ...] = (
    "OOK", "4ASK", "8ASK", "BPSK", "QPSK", "8PSK", "16PSK", "32PSK",
    "16APSK", "32APSK", "64APSK", "128APSK", "16QAM", "32QAM", "64QAM", "128QAM", "256QAM",
    "AM-SSB-WC", "AM-SSB-SC", "AM-DSB-WC", "AM-DSB-SC", "FM", "GMSK", "OQPSK",
)

RML2016_CLASSES: tuple[str, ...] = (
    "8PSK", "AM-DSB", "AM-SSB", "BPSK", "CPFSK", "GFSK", "PAM4", "QAM16", "QAM64", "QPSK", "WBFM",
)

RML2016_TO_2018: dict[str, str | None] = {
    "8PSK": "8PSK",
    "AM-DSB": "AM-DSB-WC",
    "AM-SSB": "AM-SSB-WC",
    "BPSK": "BPSK",
    "CPFSK": None,
    "GFSK": None,
    "PAM4": "4ASK",
    "QAM16": "16QAM",
    "QAM64": "64QAM",
    "QPSK": "QPSK",
    "WBFM": "FM",
}

RML2018_TO_2016: dict[str, str | None] = {name: None for name in RML2018_CLASSES}
RML2018_TO_2016.update({new: old for old, new in RML2016_TO_2018.items() if new is not None})

#: Every name ``rfnet.dsp.modulations.modulate`` accepts: the 2018 names, then the 2016-only ones.
MODULATIONS: tuple[str, ...] = RML2018_CLASSES + tuple(
    name for name in RML2016_CLASSES if name not in RML2018_CLASSES)
