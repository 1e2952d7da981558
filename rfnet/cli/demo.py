"""``rfnet demo``: the main job end to end on data it generates."""

from __future__ import annotations

import argparse
import sys


def add_parser(commands) -> None:
    demo = commands.add_parser(
        "demo",
        help="generate RadioML-2016-style data, train AlexNet and VT-CNN2 on it, compare them",
        description="With no arguments (about 10 minutes on 2 CPU cores): generate a small synthetic "
        "RadioML-2016-style dataset, train the AlexNet spectrogram classifier and VT-CNN2 on the same split, "
        "evaluate both on the same test split, print accuracy by SNR side by side and write reports and "
        "figures to a folder named on the last line. Flags scale it up.",
    )
    demo.add_argument("--quick", action="store_true", help="a tiny size that runs in seconds (for tests)")
    demo.add_argument("--out", help="output folder, new or empty (default rfnet-demo-<date>-<time>)")
    demo.add_argument("--per-class-snr", type=int, help="examples per (class, SNR) (default 48)")
    demo.add_argument("--epochs", type=int, help="AlexNet training epochs (default 3)")
    demo.add_argument("--device", help="auto (default: cuda if available), cpu, cuda, ...")
    demo.add_argument("--seed", type=int, help="data, split and training seed (default 0)")
    demo.add_argument("--quiet", action="store_true", help="no progress bars")
    demo.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import dataclasses
    import time

    from rfnet.jobs.demo import DemoConfig, run_demo

    config = DemoConfig.quick() if args.quick else DemoConfig.default()
    overrides = {"per_class_snr": args.per_class_snr, "epochs": args.epochs, "device": args.device,
                 "seed": args.seed}
    config = dataclasses.replace(config, **{name: value for name, value in overrides.items() if value is not None})
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
