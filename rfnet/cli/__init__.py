"""The ``rfnet`` command: one sub-command per user job, one module per sub-command.

Each module in :data:`COMMANDS` has ``add_parser(commands)``, which adds its sub-parser to the
``argparse`` sub-parsers object and sets ``run`` (``args -> exit status``) as its default. Modules import
torch and the job code inside ``run``, so ``rfnet --help`` stays fast. A sub-command that hands options it
does not know to another program (``dashboard`` to streamlit) also sets the default ``passthrough=()``;
:func:`main` puts them there, and rejects them for every other sub-command.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from rfnet import __version__

COMMANDS = (
    "summary", "synth", "train_imagenet", "imagenet_pca", "finetune", "evaluate", "classify", "robustness",
    "bench", "export", "demo", "dashboard",
)
"""Sub-command modules of this package, in the order ``rfnet --help`` lists them."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rfnet",
        description="Classify radio signals from their spectrograms with AlexNet.",
    )
    parser.add_argument("--version", action="version", version=f"rfnet {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        if not hasattr(args, "passthrough"):
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        args.passthrough = tuple(unknown)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.run(args)
    except (ValueError, FileNotFoundError) as err:
        print(f"rfnet {args.command}: error: {err}", file=sys.stderr)
        return 2
