"""``rfnet classify``: classify a SigMF recording window by window."""

from __future__ import annotations

import argparse
import sys


def add_parser(commands) -> None:
    classify = commands.add_parser(
        "classify",
        help="classify a SigMF recording window by window; write the predictions as annotations to a new file",
        description="Cut a SigMF recording into fixed-length windows (the length the model was trained on), "
        "classify each, print a table (start sample, start time in seconds, class, confidence) and write a "
        "new SigMF recording: the input's samples and metadata plus one annotation per window (core:label, "
        "rfnet:confidence, rfnet:model). The input is never overwritten.",
    )
    classify.add_argument("recording", help="x.sigmf-meta (with x.sigmf-data beside it) or an x.sigmf archive")
    classify.add_argument("--model", required=True, help="a finetune run folder (run/) or a saved model folder (run/best)")
    classify.add_argument("--out", help="output .sigmf-meta or .sigmf archive "
                          "(default: <input stem>.rfnet.sigmf-meta beside the input)")
    classify.add_argument("--window", type=int, help="samples per window (default: the model's training length; "
                          "for a spectrogram model without one recorded, 128 or 1024 from its n_fft)")
    classify.add_argument("--hop", type=int, help="samples between window starts (default: the window length)")
    classify.add_argument("--batch-size", type=int, default=256, help="windows per forward pass (default 256)")
    classify.add_argument("--device", default="auto", help="auto (cuda if available), cpu, cuda, cuda:1, ...")
    classify.add_argument("--quiet", action="store_true", help="no progress bar")
    classify.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from rfnet.jobs.classify import classify_recording, format_table
    from rfnet.train.distributed import resolve_device

    with tqdm(unit="win", desc="classify", disable=args.quiet, leave=False) as bar:

        def advance(done: int, total: int) -> None:
            bar.total = total
            bar.update(done)

        result = classify_recording(args.recording, args.model, out=args.out, window=args.window, hop=args.hop,
                                    batch_size=args.batch_size, device=resolve_device(args.device),
                                    progress=advance)
    for note in result.notes:
        print(f"rfnet classify: note: {note}", file=sys.stderr)
    for warning in result.warnings:
        print(f"rfnet classify: warning: {warning}", file=sys.stderr)
    print(format_table(result))
    print(f"{len(result.predictions)} windows of {result.window} samples (hop {result.hop}) classified by "
          f"{result.arch} from {result.model}; annotations written to {result.output}")
    return 0
