"""``rfnet evaluate``: accuracy by SNR and class, confusion matrices, calibration."""

from __future__ import annotations

import argparse

from .defaults import job_help
from .options import (DATA_HELP, add_data_selection, add_device, add_num_samples, add_quiet, add_seed,
                      check_report_folder, job_from_args, positive_int, snr_range)

JOB = "rfnet.jobs.evaluate:EvaluateJob"
"""The job this sub-command fills; its fields' defaults are the options' defaults."""


def add_parser(commands) -> None:
    evaluate = commands.add_parser(
        "evaluate",
        formatter_class=job_help(JOB),
        help="evaluate a saved classifier: accuracy by SNR and class, confusion matrices, calibration",
        description="Write metrics.json and figures (accuracy vs SNR, confusion matrices for all SNRs and for "
        "high SNR, reliability diagram) and print a summary. A finetune run folder is evaluated on its own "
        "test split (temperature fitted on its validation split) unless --data names other data; other data "
        "is evaluated whole, with 20% held out to fit the temperature.",
    )
    evaluate.add_argument("--model", required=True, metavar="FOLDER",
                          help="a finetune run folder or a saved model folder")
    evaluate.add_argument("--data", help=DATA_HELP + " (default: the run's own data)")
    evaluate.add_argument("--out", metavar="FOLDER", help="report folder (default: MODEL/evaluation)")
    add_data_selection(evaluate, "in the model's order")
    add_num_samples(evaluate, "window_samples", "SigMF data: samples per window (default: the model's)")
    evaluate.add_argument("--batch-size", type=positive_int, help="examples per forward pass")
    add_seed(evaluate, "synthetic presets' data and the calibration split")
    add_device(evaluate)
    add_quiet(evaluate)
    evaluate.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    check_report_folder(args.out)
    from rfnet.jobs.evaluate import EvaluateJob, evaluate

    evaluate(job_from_args(EvaluateJob, args, snr_range=snr_range(args), progress=not args.quiet))
    return 0
