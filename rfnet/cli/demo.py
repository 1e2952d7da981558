"""``rfnet demo``: the main job end to end on data it generates."""

from __future__ import annotations

import argparse
import sys

from .defaults import job_help
from .finetune import ARCHITECTURES
from .options import add_deprecated_spelling, add_device, add_quiet, add_seed, comma_list, given_options, positive_int

JOB = "rfnet.jobs.demo:DemoConfig"
"""The demo's size; its fields' defaults (the no-argument demo) are the options' defaults."""


def add_parser(commands) -> None:
    demo = commands.add_parser(
        "demo",
        formatter_class=job_help(JOB),
        help="generate RadioML-2016-style data, train AlexNet and the RadioML ResNet on it, compare them",
        description="With no arguments (under 10 minutes on 2 CPU cores): generate a small synthetic "
        "RadioML-2016-style dataset, train the AlexNet spectrogram classifier and the RadioML ResNet on the same split, "
        "evaluate both on the same test split, print accuracy by SNR side by side and write reports and "
        "figures to a folder named on the last line. Flags scale it up; with --quick they change the quick "
        "size instead.",
    )
    demo.add_argument("--quick", action="store_true", help="a tiny size that runs in seconds (for tests)")
    demo.add_argument("--out", metavar="FOLDER", help="output folder, new or empty (default: rfnet-demo-<date>-<time>)")
    demo.add_argument("--per-class-snr", type=positive_int, help="examples per (class, SNR)")
    demo.add_argument("--preset", choices=["rml2016", "rml2018"],
                      help="synthetic data: rml2016 (128 samples, 11 classes) or rml2018 (1024, 24)")
    demo.add_argument("--arch", dest="models", action="extend", type=comma_list(), metavar="ARCH",
                      help=f"an architecture to train and compare, from {', '.join(ARCHITECTURES)}; repeat the "
                      "option or give a comma-separated list")
    add_deprecated_spelling(demo, "--models", "--arch")
    demo.add_argument("--epochs", type=positive_int, help="AlexNet training epochs")
    demo.add_argument("--baseline-epochs", type=positive_int,
                      help="VT-CNN2 / ResNet epochs at most; they stop early as their recipe says")
    demo.add_argument("--keep-checkpoints", dest="checkpoints", action="store_true", default=None,
                      help="keep each run's checkpoint.pt (optimizer state, ~0.7 GB for AlexNet) for --resume")
    add_device(demo)
    add_seed(demo, "the data, split and training")
    add_quiet(demo)
    demo.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import dataclasses
    import time

    from rfnet.jobs.demo import DemoConfig, run_demo

    size = DemoConfig.quick() if args.quick else DemoConfig.default()
    config = dataclasses.replace(size, **given_options(DemoConfig, args))
    out = args.out or time.strftime("rfnet-demo-%Y%m%d-%H%M%S")
    try:
        summary = run_demo(config, out, progress=not args.quiet)
    except KeyboardInterrupt:
        print(f"rfnet demo: interrupted; partial results in {out}", file=sys.stderr)
        return 130
    print()
    print(summary)
    print(f"report and figures: {out}")
    return 0
