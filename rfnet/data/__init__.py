"""Radio datasets and file formats: RadioML, SigMF, rfnet's synthetic generator (ImageNet: :mod:`rfnet.imagenet`)."""

from rfnet.data.radioml import load_radioml
from rfnet.data.sigmf_io import SigMFWindows, open_sigmf
from rfnet.data.splits import group_split, stratified_split
from rfnet.data.synthetic import SynthConfig, write_synthetic

__all__ = [
    "load_radioml",
    "open_sigmf",
    "SigMFWindows",
    "stratified_split",
    "group_split",
    "SynthConfig",
    "write_synthetic",
]
