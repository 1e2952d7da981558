"""``rfnet evaluate``: accuracy by SNR and class, confusion matrices, calibration."""

from __future__ import annotations

import argparse

from .options import DATA_HELP, add_snr_range, class_list, snr_range


def add_parser(commands) -> None:
    evaluate = commands.add_parser(
        "evaluate",
        help="evaluate a saved classifier: accuracy by SNR and class, confusion matrices, calibration",
        description="Write metrics.json and figures (accuracy vs SNR, confusion matrices for all SNRs and for "
        "high SNR, reliability diagram) and print a summary. A finetune run folder is evaluated on its own "
        "test split (temperature fitted on its validation split) unless --data names other data; other data "
        "is evaluated whole, with 20% held out to fit the temperature.",
    )
    evaluate.add_argument("--model", required=True, help="a finetune run folder or a saved model folder")
    evaluate.add_argument("--data", help=DATA_HELP + " (default: the run's own data)")
    evaluate.add_argument("--out", help="report folder (default MODEL/evaluation)")
    add_snr_range(evaluate)
    evaluate.add_argument("--classes", help="comma-separated class subset of the data, in the model's order")
    evaluate.add_argument("--per-class-snr", type=int, help="synthetic presets: examples per (class, SNR)")
    evaluate.add_argument("--seed", type=int, default=0, help="synthetic presets: generator seed; calibration split")
    evaluate.add_argument("--window", type=int, help="SigMF data: samples per window (default: the model's)")
    evaluate.add_argument("--batch-size", type=int, default=256)
    evaluate.add_argument("--device", default="auto", help="auto (cuda if available), cpu, cuda, ...")
    evaluate.add_argument("--quiet", action="store_true", help="no progress bars")
    evaluate.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rfnet.jobs.evaluate import EvaluateJob, evaluate
    from rfnet.train.distributed import resolve_device

    evaluate(EvaluateJob(
        model=args.model, data=args.data, out=args.out, classes=class_list(args.classes), snr_range=snr_range(args),
        per_class_snr=args.per_class_snr, seed=args.seed, window_samples=args.window, batch_size=args.batch_size,
        device=resolve_device(args.device), progress=not args.quiet,
    ))
    return 0
