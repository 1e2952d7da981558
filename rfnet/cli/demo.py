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
    demo.add_argument("--per-class-snr", type=int, help="examples per (class, SNR) (default 120)")
    demo.add_argument("--preset", choices=["rml2016", "rml2018"],
                      help="synthetic data: rml2016 (default; 128 samples, 11 classes) or rml2018 (1024, 24)")
    demo.add_argument("--models", help="comma-separated models to train and compare, from alexnet, alexnet_tv, "
                      "vtcnn2, radioml_resnet (default alexnet,vtcnn2)")
    demo.add_argument("--epochs", type=int, help="AlexNet training epochs (default 3)")
    demo.add_argument("--baseline-epochs", type=int,
                      help="VT-CNN2 / ResNet epochs at most (default 30; they stop early as their recipe says)")
    demo.add_argument("--keep-checkpoints", action="store_true",
                      help="keep each run's checkpoint.pt (optimizer state, ~0.7 GB for AlexNet) for --resume")
    demo.add_argument("--device", help="auto (default: cuda if available), cpu, cuda, ...")
    demo.add_argument("--seed", type=int, help="data, split and training seed (default 0)")
    demo.add_argument("--quiet", action="store_true", help="no progress bars")
    demo.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import dataclasses
    import time

    from rfnet.jobs.demo import DemoConfig, run_demo

    from .options import class_list

    config = DemoConfig.quick() if args.quick else DemoConfig.default()
    overrides = {"preset": args.preset, "models": class_list(args.models), "per_class_snr": args.per_class_snr,
                 "epochs": args.epochs, "baseline_epochs": args.baseline_epochs, "device": args.device,
                 "seed": args.seed, "checkpoints": args.keep_checkpoints or None}
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
