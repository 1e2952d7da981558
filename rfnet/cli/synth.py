"""``rfnet synth``: write a RadioML-style synthetic dataset."""

from __future__ import annotations

import argparse
import os
import signal
import sys

from .options import add_num_samples


class Terminated(BaseException):
    """SIGTERM, raised in the main thread like ``KeyboardInterrupt`` so that the same cleanup runs: the
    partial output is removed and the workers end."""


def _raise_terminated(signum, frame) -> None:
    raise Terminated


def add_parser(commands) -> None:
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
    synth.add_argument("--seed", type=int, default=0, help="seeds the generator: the same seed, the same bytes")
    synth.add_argument("--per-class-snr", type=int, help="examples per (class, SNR) cell (default: the preset's)")
    synth.add_argument("--classes",
                       help="comma-separated modulation names, e.g. BPSK,QPSK,16QAM (default: the preset's)")
    add_num_samples(synth, "num_samples", "complex samples per example (default: the preset's)", old=("--length",))
    synth.add_argument("--snr-min", type=int, help="lowest SNR, dB (default: the preset's)")
    synth.add_argument("--snr-max", type=int, help="highest SNR, dB, included (default: the preset's)")
    synth.add_argument("--snr-step", type=int, help="SNR step, dB (default: the preset's)")
    synth.add_argument("--normalization", choices=["unit_power", "sum_abs", "none"],
                       help="per-example scaling (default: the preset's; rml2016: sum_abs, as RadioML 2016; "
                       "rml2018: unit_power)")
    synth.add_argument("--snr-labels", choices=["true", "rml2016_nominal"],
                       help="true (default): each label is the SNR delivered; rml2016_nominal: RadioML 2016.10a's "
                       "labels, noise amplitude 10^(-label/10) on a unit-power signal, i.e. 2 x label dB")
    synth.add_argument("--rml2016-ssb-is-noise", action="store_true",
                       help="AM-SSB is complex white noise, as in the published RadioML 2016.10a file (with "
                       "--snr-labels rml2016_nominal: data on the axis published 10a accuracies were measured on)")
    synth.add_argument("--chunk-samples", type=int,
                       help="complex samples generated at once (default 2**18; bounds memory per worker)")
    synth.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                       help="generator processes (the output does not depend on it)")
    synth.add_argument("--quiet", action="store_true", help="no progress bar")
    synth.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import dataclasses

    from tqdm import tqdm

    from rfnet.data.synthetic import PRESETS, write_synthetic

    overrides = {
        "classes": tuple(args.classes.split(",")) if args.classes else None,
        "examples_per_cell": args.per_class_snr,
        "num_samples": args.num_samples,
        "snr_min_db": args.snr_min,
        "snr_max_db": args.snr_max,
        "snr_step_db": args.snr_step,
        "normalization": args.normalization,
        "snr_labels": args.snr_labels,
        "chunk_samples": args.chunk_samples,
    }
    config = dataclasses.replace(
        PRESETS[args.preset](), **{name: value for name, value in overrides.items() if value is not None}
    )
    if args.rml2016_ssb_is_noise:
        config = dataclasses.replace(config, modulation=dataclasses.replace(config.modulation,
                                                                            rml2016_ssb_is_noise=True))
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        with tqdm(total=config.num_examples, unit="ex", desc=f"synth {args.preset}", disable=args.quiet) as bar:
            summary = write_synthetic(args.out, config, seed=args.seed, workers=args.workers, progress=bar.update)
    except KeyboardInterrupt:
        print(f"rfnet synth: interrupted; nothing written to {args.out}", file=sys.stderr)
        return 130
    except Terminated:
        print(f"rfnet synth: terminated; nothing written to {args.out}", file=sys.stderr)
        return 128 + signal.SIGTERM
    finally:
        signal.signal(signal.SIGTERM, previous)
    print(summary)
    return 0
