"""The ``rfnet`` command: one sub-command per user job."""

from __future__ import annotations

import argparse
import os
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


def _synth(args: argparse.Namespace) -> int:
    import dataclasses

    from tqdm import tqdm

    from rfnet.data.synthetic import PRESETS, write_synthetic

    overrides = {
        "classes": tuple(args.classes.split(",")) if args.classes else None,
        "examples_per_cell": args.per_class_snr,
        "num_samples": args.length,
        "snr_min_db": args.snr_min,
        "snr_max_db": args.snr_max,
        "snr_step_db": args.snr_step,
        "normalization": args.normalization,
        "chunk_samples": args.chunk_samples,
    }
    config = dataclasses.replace(
        PRESETS[args.preset](), **{name: value for name, value in overrides.items() if value is not None}
    )
    try:
        with tqdm(total=config.num_examples, unit="ex", desc=f"synth {args.preset}", disable=args.quiet) as bar:
            summary = write_synthetic(args.out, config, seed=args.seed, workers=args.workers, progress=bar.update)
    except KeyboardInterrupt:
        print(f"rfnet synth: interrupted; nothing written to {args.out}", file=sys.stderr)
        return 130
    print(summary)
    return 0

def _classify(args: argparse.Namespace) -> int:
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

    synth = commands.add_parser(
        "synth",
        help="generate a RadioML-style synthetic dataset (.h5/.hdf5, .pkl, .sigmf-meta or .sigmf)",
        description="Generate a RadioML-style dataset: every class at every SNR, the same bytes for the "
        "same seed. The output format follows the file name: .h5/.hdf5 (RML2018.01A layout), .pkl "
        "(RML2016.10a layout), .sigmf-meta/.sigmf (SigMF, one annotation per example).",
    )
    synth.add_argument("--preset", choices=["rml2016", "rml2018"], default="rml2016",
                       help="starting configuration (default rml2016); the options below override it")
    synth.add_argument("--out", required=True, help="output file; an existing one is replaced when done")
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--per-class-snr", type=int, help="examples per (class, SNR) cell")
    synth.add_argument("--classes", help="comma-separated modulation names, e.g. BPSK,QPSK,16QAM")
    synth.add_argument("--length", type=int, help="complex samples per example")
    synth.add_argument("--snr-min", type=int, help="lowest SNR, dB")
    synth.add_argument("--snr-max", type=int, help="highest SNR, dB (included)")
    synth.add_argument("--snr-step", type=int, help="SNR step, dB")
    synth.add_argument("--normalization", choices=["unit_power", "sum_abs", "none"],
                       help="per-example scaling (rml2016: sum_abs, as RadioML 2016; rml2018: unit_power)")
    synth.add_argument("--chunk-samples", type=int,
                       help="complex samples generated at once (default 2**18; bounds memory per worker)")
    synth.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                       help="generator processes (the output does not depend on it)")
    synth.add_argument("--quiet", action="store_true", help="no progress bar")
    synth.set_defaults(run=_synth)
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
    classify.set_defaults(run=_classify)
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
