"""What more than one sub-command shares: options stated once, value checks, old spellings, the job.

- Shared options: :func:`add_device`, :func:`add_seed`, :func:`add_quiet`, :func:`add_resume`,
  :func:`add_data_selection`
  (``--classes``, ``--snr-min``/``--snr-max``, ``--per-class-snr``), :func:`add_num_samples`.
- Value checks for ``type=``: :func:`positive_int`, :func:`non_negative_int`, :func:`positive_float`,
  :func:`non_negative_float`, :func:`comma_list`, :func:`device_name`; argparse turns their refusal into a
  usage error (exit 2).
- :func:`add_deprecated_spelling`: an old option name that still works for one release, with a warning.
- :func:`job_from_args`, :func:`given_options`: the job dataclass (or function) from the options given;
  the fields not given keep the dataclass's defaults, which is where every default is stated (help reads
  them, see :mod:`rfnet.cli.defaults`).
- :func:`check_report_folder`, :func:`check_output_file`: refuse an ``--out`` of the wrong kind before
  anything runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import math
import sys
from collections.abc import Callable
from pathlib import Path

DATA_HELP = (
    "a RadioML 2016 pickle, a RadioML 2018 HDF5 file, a SigMF recording or a folder of them, or a "
    "synthetic preset (rml2016, rml2018) generated into the output folder"
)
DEVICE_HELP = "auto (cuda if available, else cpu), cpu, cuda, cuda:1, ..."


# --- value checks -------------------------------------------------------------------------------------------


def _bounded(kind: type, low: float, inclusive: bool) -> Callable[[str], int | float]:
    """A ``type=`` check: ``kind(text)``, finite, and above ``low`` (at least ``low`` if ``inclusive``)."""
    bound = f">= {low:g}" if inclusive else f"> {low:g}"

    def convert(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}, "
                                             f"got {text!r}") from None
        if not math.isfinite(value) or value < low or (value == low and not inclusive):
            raise argparse.ArgumentTypeError(f"must be a finite number {bound}, got {text}")
        return value

    return convert


positive_int = _bounded(int, 0, inclusive=False)
"""``type=`` for counts that must be at least 1 (batch sizes, epochs, steps, examples)."""
non_negative_int = _bounded(int, 0, inclusive=True)
"""``type=`` for counts where 0 has a meaning (workers, warm-up calls, "0: all")."""
positive_float = _bounded(float, 0.0, inclusive=False)
"""``type=`` for finite quantities above 0 (learning rates, seconds)."""
non_negative_float = _bounded(float, 0.0, inclusive=True)
"""``type=`` for finite quantities of at least 0 (tolerances, weight decay, dropout)."""


def comma_list(kind: Callable[[str], object] = str) -> Callable[[str], tuple]:
    """``type=`` for ``a,b,c`` → ``(kind(a), kind(b), kind(c))``; blanks dropped, an empty list refused;
    ``kind`` may be another check of this module (its refusal names the item)."""

    def convert(text: str) -> tuple:
        try:
            items = tuple(kind(part.strip()) for part in text.split(",") if part.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a comma-separated list of {kind.__name__}, "
                                             f"got {text!r}") from None
        if not items:
            raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {text!r}")
        return items

    return convert


# --- shared options -----------------------------------------------------------------------------------------


def device_name(text: str) -> str:
    """``type=`` for a device: ``auto``, or a torch device this machine has (``cpu``, ``cuda``, ``cuda:1``,
    ...). Imports torch, so only when the option is given."""
    if text == "auto":
        return text
    import torch

    try:
        device = torch.device(text)
    except RuntimeError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a device: {DEVICE_HELP}") from None
    available = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if device.type == "cuda" and (device.index or 0) >= available:
        raise argparse.ArgumentTypeError(f"{text}: this machine has {available} CUDA device(s)")
    return text


def add_device(parser: argparse.ArgumentParser) -> None:
    """``--device`` (dest ``device``; default: the job's), checked by :func:`device_name`."""
    parser.add_argument("--device", type=device_name, help=DEVICE_HELP)


def add_seed(parser: argparse.ArgumentParser, seeds: str) -> None:
    """``--seed`` (dest ``seed``; default: the job's); ``seeds`` says what it fixes."""
    parser.add_argument("--seed", type=int, help=f"seeds {seeds}")


def add_quiet(parser: argparse.ArgumentParser) -> None:
    """``--quiet`` (dest ``quiet``): no progress bars. A job's ``progress`` is ``not args.quiet``."""
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def add_resume(parser: argparse.ArgumentParser) -> None:
    """``--resume`` (dest ``resume``) of a training job: continue the interrupted run in ``--out``."""
    parser.add_argument("--resume", action="store_true", help="continue the interrupted run in --out")


def add_data_selection(parser: argparse.ArgumentParser, classes_order: str = "in the data's label order") -> None:
    """``--classes`` (dest ``classes``, a tuple), ``--snr-min``/``--snr-max`` (dB; read back by
    :func:`snr_range`) and ``--per-class-snr`` (synthetic presets)."""
    parser.add_argument("--classes", type=comma_list(),
                        help=f"comma-separated class subset, {classes_order} (default: all)")
    parser.add_argument("--snr-min", type=float, help="keep examples with SNR >= this (dB; default: no lower bound)")
    parser.add_argument("--snr-max", type=float, help="keep examples with SNR <= this (dB; default: no upper bound)")
    parser.add_argument("--per-class-snr", type=positive_int,
                        help="synthetic presets: examples per (class, SNR) (default: the preset's)")


def add_num_samples(parser: argparse.ArgumentParser, dest: str, help: str,
                    old: tuple[str, ...] = ("--window",)) -> None:
    """``--num-samples``, complex IQ samples per example or window, stored in ``dest``; the old names in
    ``old`` still work for one release."""
    parser.add_argument("--num-samples", dest=dest, type=positive_int, metavar="N", help=help)
    for spelling in old:
        add_deprecated_spelling(parser, spelling, "--num-samples")


def snr_range(args: argparse.Namespace) -> tuple[float, float] | None:
    """``(low, high)`` in dB from ``--snr-min`` / ``--snr-max`` (an open end is infinite); ``None`` if neither."""
    if args.snr_min is None and args.snr_max is None:
        return None
    return (-math.inf if args.snr_min is None else args.snr_min, math.inf if args.snr_max is None else args.snr_max)


# --- old spellings ------------------------------------------------------------------------------------------


class _DeprecatedSpelling(argparse.Action):
    """Acts as ``target`` after a warning on stderr that ``option_string`` is deprecated."""

    def __init__(self, option_strings, dest, target: argparse.Action, **kwargs):
        super().__init__(option_strings, dest, **kwargs)
        self.target = target

    def __call__(self, parser, namespace, values, option_string=None):
        new = self.target.option_strings[-1]
        print(f"{parser.prog}: warning: {option_string} is deprecated and will be removed in the next release; "
              f"use {new}", file=sys.stderr)
        self.target(parser, namespace, values, new)


def add_deprecated_spelling(parser: argparse.ArgumentParser, old: str, new: str) -> None:
    """Let option ``old`` do what option ``new`` (already added) does, for one release: same value, type
    and destination, hidden from help, with a deprecation warning on stderr each time it is used."""
    target = next(action for action in parser._actions if new in action.option_strings)
    parser.add_argument(old, action=_DeprecatedSpelling, target=target, dest=target.dest, nargs=target.nargs,
                        type=target.type, choices=target.choices, metavar=target.metavar, default=argparse.SUPPRESS,
                        help=argparse.SUPPRESS)


# --- the job ------------------------------------------------------------------------------------------------


def given_options(job: Callable, args: argparse.Namespace) -> dict[str, object]:
    """The options in ``args`` named like a field of the dataclass ``job`` (or a parameter of the function
    ``job``) that were given (not ``None``); lists (repeated options) become tuples."""
    names = ([field.name for field in dataclasses.fields(job)] if dataclasses.is_dataclass(job)
             else list(inspect.signature(job).parameters))
    given = {}
    for name in names:
        value = getattr(args, name, None)
        if value is not None:
            given[name] = tuple(value) if isinstance(value, list) else value
    return given


def job_from_args(job: Callable, args: argparse.Namespace, **values):
    """``job(**values, ...)`` with :func:`given_options` for the rest; the fields or parameters neither
    gives keep their defaults."""
    return job(**{**given_options(job, args), **values})


def check_report_folder(path: str | None, option: str = "--out") -> None:
    """Refuse a report folder that exists as something other than a folder (nothing is written)."""
    if path is not None and Path(path).exists() and not Path(path).is_dir():
        raise ValueError(f"{option} {path}: exists and is not a folder; give a folder for the report")


def check_output_file(path: str, option: str = "--out") -> None:
    """Refuse an output file path that is an existing folder (nothing is written)."""
    if Path(path).is_dir():
        raise ValueError(f"{option} {path}: is a folder; give the name of the file to write")


def interrupted_run(command: str, out: str) -> int:
    """After Ctrl-C in a training job: say how to continue, return the exit status 130."""
    print(f"rfnet {command}: interrupted; continue with the same arguments and --resume "
          f"(from the last checkpoint in {out})", file=sys.stderr)
    return 130
