"""The ``rfnet`` command: one sub-command per user job, one module per sub-command.

Each module in :data:`COMMANDS` has ``add_parser(commands)``, which adds its sub-parser to the
``argparse`` sub-parsers object and sets ``run`` (``args -> exit status``) as its default. Modules import
torch and the job code inside ``run``, so ``rfnet --help`` stays fast. Options shared by several
sub-commands, and the rule that a job's defaults are stated once (in its dataclass), are in
:mod:`rfnet.cli.options`; every sub-command's help shows the defaults (:mod:`rfnet.cli.defaults`). A
sub-command that hands options it does not know to another program (``dashboard`` to streamlit) also sets
the default ``passthrough=()``; :func:`main` puts them there, and rejects them for every other sub-command.

Errors a user can cause end in one line on stderr, ``rfnet COMMAND: error: ...``, and exit status 2
(:data:`USER_ERROR`), as argparse's usage errors do: a ``ValueError`` or ``OSError`` (a file that is missing,
unreadable or in the wrong place), and a ``MemoryError`` (an input that asks for more memory than there is).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from rfnet import __version__

from .defaults import DefaultsHelpFormatter

COMMANDS = (
    "summary", "synth", "train_imagenet", "imagenet_pca", "finetune", "evaluate", "classify", "robustness",
    "bench", "export", "demo", "dashboard",
)
"""Sub-command modules of this package, in the order ``rfnet --help`` lists them."""


USER_ERROR = 2
"""Exit status of an error the user can fix (the same as argparse's usage errors)."""


class _CommandParser(argparse.ArgumentParser):
    """A sub-command's parser: its help shows each option's default unless it names another formatter."""

    def __init__(self, *args, formatter_class: type = DefaultsHelpFormatter, **kwargs):
        super().__init__(*args, formatter_class=formatter_class, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rfnet",
        description="Classify radio signals from their spectrograms with AlexNet.",
    )
    parser.add_argument("--version", action="version", version=f"rfnet {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_CommandParser)
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
    except (ValueError, OSError, MemoryError) as err:
        print(f"rfnet {args.command}: error: {user_message(err)}", file=sys.stderr)
        return USER_ERROR


def user_message(err: ValueError | OSError | MemoryError) -> str:
    """One sentence for an error the user can fix: the message the code wrote; for an ``OSError`` raised by
    the system, the file and the reason; for a ``MemoryError``, what ran out."""
    if isinstance(err, MemoryError):
        detail = f" ({err})" if str(err) else ""
        return f"out of memory{detail}: the input asks for more memory than this machine has"
    if isinstance(err, OSError) and err.strerror:
        where = " -> ".join(str(name) for name in (err.filename, err.filename2) if name is not None)
        return f"{where}: {err.strerror}" if where else err.strerror
    return str(err)
