"""Options more than one sub-command takes: data sources, SNR range, class subsets."""

from __future__ import annotations

import argparse
import math
import sys

DATA_HELP = (
    "a RadioML 2016 pickle, a RadioML 2018 HDF5 file, a SigMF recording or a folder of them, or a "
    "synthetic preset (rml2016, rml2018) generated into the output folder"
)
SNR_MIN_HELP = "keep examples with SNR >= this (dB)"
SNR_MAX_HELP = "keep examples with SNR <= this (dB)"


def add_snr_range(parser: argparse.ArgumentParser) -> None:
    """``--snr-min`` / ``--snr-max`` (dB), read back by :func:`snr_range`."""
    parser.add_argument("--snr-min", type=float, help=SNR_MIN_HELP)
    parser.add_argument("--snr-max", type=float, help=SNR_MAX_HELP)


def interrupted_run(command: str, out: str) -> int:
    """After Ctrl-C in a training job: say how to continue, return the exit status 130."""
    print(f"rfnet {command}: interrupted; continue with the same arguments and --resume "
          f"(from the last checkpoint in {out})", file=sys.stderr)
    return 130


def snr_range(args: argparse.Namespace) -> tuple[float, float] | None:
    """``(low, high)`` in dB from ``--snr-min`` / ``--snr-max`` (an open end is infinite); ``None`` if neither."""
    if args.snr_min is None and args.snr_max is None:
        return None
    return (-math.inf if args.snr_min is None else args.snr_min, math.inf if args.snr_max is None else args.snr_max)


def class_list(text: str | None) -> tuple[str, ...] | None:
    """Comma-separated names (classes, models) → a tuple (blanks dropped); ``None`` for none given."""
    return tuple(name.strip() for name in text.split(",") if name.strip()) if text else None
