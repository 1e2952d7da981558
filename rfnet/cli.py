"""The ``rfnet`` command: one sub-command per user job."""

from __future__ import annotations

import argparse
import math
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


def _snr_range(args: argparse.Namespace) -> tuple[float, float] | None:
    if args.snr_min is None and args.snr_max is None:
        return None
    return (-math.inf if args.snr_min is None else args.snr_min, math.inf if args.snr_max is None else args.snr_max)


def _classes(text: str | None) -> tuple[str, ...] | None:
    return tuple(name.strip() for name in text.split(",") if name.strip()) if text else None


def _finetune(args: argparse.Namespace) -> int:
    from rfnet.jobs.finetune import FinetuneJob, finetune, format_outcome

    job = FinetuneJob(
        data=args.data, out=args.out, backbone=args.backbone, model=args.model, freeze_up_to=args.freeze_up_to,
        lr=args.lr, lr_backbone=args.lr_backbone, lr_head=args.lr_head, weight_decay=args.weight_decay,
        epochs=args.epochs, batch_size=args.batch_size, classes=_classes(args.classes),
        snr_range=_snr_range(args), per_class_snr=args.per_class_snr, window_samples=args.window,
        image_size=args.image_size, imagenet_normalize=args.imagenet_normalize, device=args.device,
        seed=args.seed, resume=args.resume, progress=not args.quiet,
    )
    try:
        outcome = finetune(job)
    except KeyboardInterrupt:
        print(f"rfnet finetune: interrupted; continue with the same arguments and --resume "
              f"(from the last checkpoint in {args.out})", file=sys.stderr)
        return 130
    print(format_outcome(outcome))
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from rfnet.jobs.evaluate import EvaluateJob, evaluate
    from rfnet.train.distributed import resolve_device

    evaluate(EvaluateJob(
        model=args.model, data=args.data, out=args.out, classes=_classes(args.classes), snr_range=_snr_range(args),
        per_class_snr=args.per_class_snr, seed=args.seed, window_samples=args.window, batch_size=args.batch_size,
        device=resolve_device(args.device), progress=not args.quiet,
    ))
    return 0


def _demo(args: argparse.Namespace) -> int:
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

    snr_help = "keep examples with SNR >= this (dB)", "keep examples with SNR <= this (dB)"
    data_help = ("a RadioML 2016 pickle, a RadioML 2018 HDF5 file, a SigMF recording or a folder of them, or a "
                 "synthetic preset (rml2016, rml2018) generated into the output folder")
    finetune = commands.add_parser(
        "finetune",
        help="train a classifier (AlexNet on spectrograms, or a raw-IQ baseline) and report on the test split",
        description="Split the data 80/10/10 (stratified by class and SNR; SigMF data by recording), train, "
        "keep the best model by validation accuracy (OUT/best), and evaluate it on the test split "
        "(OUT/report: metrics.json and figures, temperature fitted on the validation split). "
        "Ctrl-C and --resume continue an interrupted run.",
    )
    finetune.add_argument("--data", required=True, help=data_help)
    finetune.add_argument("--out", required=True, help="run folder (checkpoint, best/, metrics.jsonl, report/)")
    finetune.add_argument("--backbone", default="scratch",
                          help="'scratch' (default), a saved AlexNet folder (gets a new head for the data's "
                          "classes) or a saved classifier folder such as an earlier run's best/ (continued; "
                          "its head is replaced if its classes differ from the data's)")
    finetune.add_argument("--model", default="alexnet", choices=["alexnet", "alexnet_tv", "vtcnn2", "radioml_resnet"],
                          help="with --backbone scratch: AlexNet on spectrograms (paper or torchvision layout, "
                          "PyTorch default init) or a baseline on raw IQ (default alexnet)")
    finetune.add_argument("--freeze-up-to", metavar="LAYER",
                          help="freeze the AlexNet backbone up to and including this layer (conv1 ... fc7)")
    finetune.add_argument("--lr", type=float, default=3e-4, help="AdamW learning rate (default 3e-4)")
    finetune.add_argument("--lr-backbone", type=float, help="learning rate of conv1-fc7 (default --lr)")
    finetune.add_argument("--lr-head", type=float, help="learning rate of fc8, the new head (default --lr)")
    finetune.add_argument("--weight-decay", type=float, default=0.01, help="AdamW weight decay (default 0.01)")
    finetune.add_argument("--epochs", type=int, default=10)
    finetune.add_argument("--batch-size", type=int, default=64)
    finetune.add_argument("--snr-min", type=float, help=snr_help[0])
    finetune.add_argument("--snr-max", type=float, help=snr_help[1])
    finetune.add_argument("--classes", help="comma-separated class subset, in label order")
    finetune.add_argument("--per-class-snr", type=int, help="synthetic presets: examples per (class, SNR)")
    finetune.add_argument("--window", type=int, default=128, help="SigMF data: samples per window (default 128)")
    finetune.add_argument("--image-size", type=int,
                          help="spectrogram side in pixels (default 67; alexnet needs >= 67, alexnet_tv >= 63)")
    finetune.add_argument("--imagenet-normalize", action="store_true",
                          help="ImageNet mean/std on the spectrogram (for an ImageNet-trained --backbone)")
    finetune.add_argument("--device", default="auto", help="auto (cuda if available), cpu, cuda, cuda:1, ...")
    finetune.add_argument("--seed", type=int, default=0, help="seeds the data, split, model and training")
    finetune.add_argument("--resume", action="store_true", help="continue the interrupted run in --out")
    finetune.add_argument("--quiet", action="store_true", help="no progress bars")
    finetune.set_defaults(run=_finetune)

    evaluate = commands.add_parser(
        "evaluate",
        help="evaluate a saved classifier: accuracy by SNR and class, confusion matrices, calibration",
        description="Write metrics.json and figures (accuracy vs SNR, confusion matrices for all SNRs and for "
        "high SNR, reliability diagram) and print a summary. A finetune run folder is evaluated on its own "
        "test split (temperature fitted on its validation split) unless --data names other data; other data "
        "is evaluated whole, with 20% held out to fit the temperature.",
    )
    evaluate.add_argument("--model", required=True, help="a finetune run folder or a saved model folder")
    evaluate.add_argument("--data", help=data_help + " (default: the run's own data)")
    evaluate.add_argument("--out", help="report folder (default MODEL/evaluation)")
    evaluate.add_argument("--snr-min", type=float, help=snr_help[0])
    evaluate.add_argument("--snr-max", type=float, help=snr_help[1])
    evaluate.add_argument("--classes", help="comma-separated class subset of the data, in the model's order")
    evaluate.add_argument("--per-class-snr", type=int, help="synthetic presets: examples per (class, SNR)")
    evaluate.add_argument("--seed", type=int, default=0, help="synthetic presets: generator seed; calibration split")
    evaluate.add_argument("--window", type=int, help="SigMF data: samples per window (default: the model's)")
    evaluate.add_argument("--batch-size", type=int, default=256)
    evaluate.add_argument("--device", default="auto", help="auto (cuda if available), cpu, cuda, ...")
    evaluate.add_argument("--quiet", action="store_true", help="no progress bars")
    evaluate.set_defaults(run=_evaluate)

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
    demo.set_defaults(run=_demo)
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
