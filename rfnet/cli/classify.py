"""``rfnet classify``: classify a SigMF recording window by window."""

from __future__ import annotations

import argparse
import sys

from .defaults import job_help
from .options import add_device, add_num_samples, add_quiet, job_from_args, positive_int

JOB = "rfnet.jobs.classify:classify_recording"
"""The function this sub-command calls; its parameters' defaults are the options' defaults."""


def add_parser(commands) -> None:
    classify = commands.add_parser(
        "classify",
        formatter_class=job_help(JOB),
        help="classify a SigMF recording window by window; write the predictions as annotations to a new file",
        description="Cut a SigMF recording into fixed-length windows (the length the model was trained on), "
        "classify each, print a table (start sample, start time in seconds, class, confidence) and write a "
        "new SigMF recording: the input's samples and metadata plus one annotation per window (core:label, "
        "rfnet:confidence, rfnet:model). The input is never overwritten.",
    )
    classify.add_argument("recording", help="x.sigmf-meta (with x.sigmf-data beside it) or an x.sigmf archive")
    classify.add_argument("--model", required=True, metavar="FOLDER",
                          help="a finetune run folder (run/) or a saved model folder (run/best)")
    classify.add_argument("--out", help="output .sigmf-meta or .sigmf archive "
                          "(default: <input stem>.rfnet.sigmf-meta beside the input)")
    add_num_samples(classify, "window", "samples per window (default: the model's input length)")
    classify.add_argument("--hop", type=positive_int, help="samples between window starts (default: the window length)")
    classify.add_argument("--batch-size", type=positive_int, help="windows per forward pass")
    add_device(classify)
    add_quiet(classify)
    classify.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from rfnet.jobs.classify import classify_recording, format_table

    with tqdm(unit="win", desc="classify", disable=args.quiet, leave=False) as bar:

        def advance(done: int, total: int) -> None:
            bar.total = total
            bar.update(done)

        result = job_from_args(classify_recording, args, recording_path=args.recording, model_dir=args.model,
                               progress=advance)
    for note in result.notes:
        print(f"rfnet classify: note: {note}", file=sys.stderr)
    for warning in result.warnings:
        print(f"rfnet classify: warning: {warning}", file=sys.stderr)
    print(format_table(result))
    print(f"{len(result.predictions)} windows of {result.window} samples (hop {result.hop}) classified by "
          f"{result.arch} from {result.model}; annotations written to {result.output}")
    return 0
