"""Accuracy quality bar: the AlexNet spectrogram classifier against VT-CNN2 and the RadioML ResNet,
trained in one run on the same synthetic data and split, tested on the same test split.

This is ``rfnet demo`` (``rfnet.jobs.demo.run_demo``) with a chosen preset, size and all three models:

    python benchmarks/accuracy.py --preset rml2016 --out /tmp/acc2016
    python benchmarks/accuracy.py --preset rml2018 --per-class-snr 40 --snr-step 4 --out /tmp/acc2018

It prints and saves (``--json``, default ``benchmarks/results/accuracy_<preset>.json``) the accuracy by
SNR of each model, the mean over SNR >= 10 dB, whether AlexNet is at or above both baselines at every
SNR >= 0 dB, and the training budget (examples, epochs, minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from rfnet.data.atomic import atomic_output
from rfnet.evaluation.report import accuracy_curve
from rfnet.jobs.demo import MODEL_NAMES, DemoConfig, run_demo

MODELS = ("alexnet", "vtcnn2", "radioml_resnet")


def verdict(curves: dict[str, dict[float, float]], target: str, min_snr_db: float = 0.0) -> list[float]:
    """The SNRs >= ``min_snr_db`` at which ``target`` is below some other model (empty: at or above all)."""
    below = []
    for snr, accuracy in sorted(curves[target].items()):
        if snr >= min_snr_db and any(curve.get(snr, 0.0) > accuracy for name, curve in curves.items() if name != target):
            below.append(snr)
    return below


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=["rml2016", "rml2018"], default="rml2016")
    parser.add_argument("--out", required=True, help="new or empty folder for the data and the three runs")
    parser.add_argument("--per-class-snr", type=int, default=100)
    parser.add_argument("--snr-min", type=int, default=-10)
    parser.add_argument("--snr-max", type=int, default=18)
    parser.add_argument("--snr-step", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=6, help="AlexNet epochs")
    parser.add_argument("--baseline-epochs", type=int, default=12, help="VT-CNN2 and ResNet epochs")
    parser.add_argument("--image-size", type=int, default=67)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="results file (default benchmarks/results/accuracy_<preset>.json)")
    args = parser.parse_args()

    config = DemoConfig(preset=args.preset, models=MODELS, per_class_snr=args.per_class_snr,
                        snr_min_db=args.snr_min, snr_max_db=args.snr_max, snr_step_db=args.snr_step,
                        epochs=args.epochs, baseline_epochs=args.baseline_epochs, image_size=args.image_size,
                        batch_size=args.batch_size, device=args.device, seed=args.seed)
    started = time.monotonic()
    print(run_demo(config, args.out, progress=False))
    minutes = (time.monotonic() - started) / 60
    curves = {model: accuracy_curve(json.loads((Path(args.out) / model / "report" / "metrics.json").read_text()))
              for model in MODELS}
    below = verdict(curves, "alexnet")
    print("AlexNet at or above both baselines at every SNR >= 0 dB" if not below
          else f"AlexNet below a baseline at SNR {below} dB")
    high = {model: [a for snr, a in curve.items() if snr >= 10] for model, curve in curves.items()}
    result = {
        "preset": args.preset, "budget": vars(args) | {"minutes": minutes},
        "models": {MODEL_NAMES[m]: {"accuracy_by_snr": {f"{s:g}": a for s, a in curves[m].items()},
                                    "mean_at_or_above_10_db": sum(high[m]) / len(high[m]) if high[m] else None}
                   for m in MODELS},
        "alexnet_below_a_baseline_at_snr_db": below, "load_average": os.getloadavg(),
    }
    path = Path(args.json or Path(__file__).parent / "results" / f"accuracy_{args.preset}.json")
    with atomic_output(path) as temporary:
        temporary.write_text(json.dumps(result, indent=1) + "\n")
    print(f"{minutes:.1f} min; results in {path}")


if __name__ == "__main__":
    main()
