"""``rfnet summary``: a model's layers with output shapes, parameters and multiply-adds."""

from __future__ import annotations

import argparse

from .options import positive_int


def add_parser(commands) -> None:
    summary = commands.add_parser(
        "summary", help="print a model's layers with output shapes, parameters and multiply-adds"
    )
    summary.add_argument("model", metavar="ARCH", help="architecture name, e.g. alexnet or alexnet_tv")
    summary.add_argument("--num-classes", type=positive_int, default=1000, help="classes of the head")
    summary.add_argument("--in-chans", type=positive_int, default=3, help="input channels")
    summary.add_argument("--size", type=positive_int,
                         help="input height and width in pixels (default: the model's native size, 227 for alexnet)")
    summary.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rfnet.models import create_model
    from rfnet.models.summary import format_summary, summarize

    model = create_model(args.model, num_classes=args.num_classes, in_chans=args.in_chans)
    size = args.size or getattr(model, "native_input_size", None)
    if size is None:
        raise ValueError(f"{args.model} has no native image size; give --size")
    rows = summarize(model, (args.in_chans, size, size))
    print(format_summary(rows))
    return 0
