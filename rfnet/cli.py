"""The ``rfnet`` command: one sub-command per user job."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from rfnet import __version__


def _summary(args: argparse.Namespace) -> int:
    from rfnet.models import create_model
    from rfnet.models.summary import format_summary, summarize

    model = create_model(args.model, num_classes=args.num_classes, in_chans=args.in_chans)
    rows = summarize(model, (args.in_chans, args.size, args.size))
    print(format_summary(rows))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rfnet",
        description="Classify radio signals from their spectrograms with AlexNet.",
    )
    parser.add_argument("--version", action="version", version=f"rfnet {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    summary = commands.add_parser(
        "summary", help="print a model's layers with output shapes, parameters and multiply-adds"
    )
    summary.add_argument("model", help="model name, e.g. alexnet or alexnet_tv")
    summary.add_argument("--num-classes", type=int, default=1000)
    summary.add_argument("--in-chans", type=int, default=3)
    summary.add_argument("--size", type=int, default=227, help="input height and width in pixels")
    summary.set_defaults(run=_summary)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.run(args)
    except (ValueError, FileNotFoundError) as err:
        print(f"rfnet {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
