"""Which spectrogram front end should AlexNet see? An ablation with the real AlexNet and rfnet finetune's recipe.

It generates one ``--preset`` data set (``rml2016``, the default: rfnet's RadioML-2016.10a-style generator,
11 classes, 128 samples, the 10a channel model, magnitudes summing to 1 as in the real files; or
``rml2018``: 24 classes, 1024 samples, unit power, for the 1024-sample defaults), splits it 80/10/10
stratified by class and SNR exactly as ``rfnet finetune`` does, and for each front-end setting trains the
paper AlexNet (``SpectrogramClassifier``, He initialisation, AdamW lr 3e-4, weight decay 0.01, batch 64,
the best epoch by validation accuracy: ``rfnet finetune``'s defaults) from the same seed on the same
split, then tests the best epoch on the test split. Settings differ from the base (the preset's
``SpectrogramConfig.for_length(num_samples)`` at 67x67 with ImageNet normalisation) in the fields named.

    python benchmarks/frontend_ablation.py --out /tmp/ablation
    python benchmarks/frontend_ablation.py --out /tmp/ablation --setting repeat --setting powers_1_2_4
    python benchmarks/frontend_ablation.py --out /tmp/ablation18 --preset rml2018 --setting repeat \
        --setting powers_1_2_4

Prints a markdown table (setting; mean test accuracy at SNR >= 10 dB with its standard error; the
accuracy of the four classes a magnitude spectrogram confuses; training examples/s) and writes it with
every per-SNR and per-class figure to ``--json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import time
from pathlib import Path

import torch

from rfnet.data.atomic import atomic_output
from rfnet.dsp.spectrogram import SpectrogramConfig
from rfnet.evaluation.metrics import accuracy_by_class, accuracy_by_snr
from rfnet.evaluation.predictions import predict
from rfnet.jobs.datasets import DataSpec, open_data
from rfnet.jobs.recipes import RECIPES
from rfnet.models import SpectrogramClassifier, load
from rfnet.train import TrainConfig, Trainer

ALEXNET = RECIPES["alexnet"]
"""rfnet finetune's recipe for AlexNet: every setting trains with its learning rate and weight decay."""

HIGH_SNR_DB = 10.0
CONFUSED_CLASSES = {"rml2016": ("BPSK", "QPSK", "8PSK", "QAM16"), "rml2018": ("BPSK", "QPSK", "8PSK", "16QAM")}
"""Preset -> classes a magnitude spectrogram confuses (same pulse shape, same power spectrum)."""

SETTINGS: dict[str, dict] = {
    "repeat": dict(channel_mapping="repeat"),
    "db_ranges": dict(channel_mapping="db_ranges"),
    "power_instfreq": dict(channel_mapping="power_instfreq"),
    "powers_1_2_4": dict(channel_mapping="powers", powers=(1, 2, 4)),
    "powers_1_4_8": dict(channel_mapping="powers", powers=(1, 4, 8)),
    "powers_2_4_8": dict(channel_mapping="powers", powers=(2, 4, 8)),
    "powers_1_2_4_nfft32": dict(channel_mapping="powers", powers=(1, 2, 4), n_fft=32),
    "powers_1_2_4_nfft128": dict(channel_mapping="powers", powers=(1, 2, 4), n_fft=128),
    "powers_1_2_4_hann": dict(channel_mapping="powers", powers=(1, 2, 4), window="hann"),
    "powers_1_2_4_rectangular": dict(channel_mapping="powers", powers=(1, 2, 4), window="rectangular"),
    "powers_1_2_4_hop1": dict(channel_mapping="powers", powers=(1, 2, 4), hop_length=1),
    "powers_1_2_4_hop4": dict(channel_mapping="powers", powers=(1, 2, 4), hop_length=4),
    "powers_1_2_4_img99": dict(channel_mapping="powers", powers=(1, 2, 4), image_size=(99, 99)),
    "powers_1_2_4_img131": dict(channel_mapping="powers", powers=(1, 2, 4), image_size=(131, 131)),
    "powers_1_2_4_unnormalized": dict(channel_mapping="powers", powers=(1, 2, 4), imagenet_normalize=False),
}
"""Setting name -> ``SpectrogramConfig`` fields that differ from the base (the rest come from the preset's
length: the base hop is 2 at 128 samples and 8 at 1024, so ``nfft32`` changes the STFT size alone at both)."""


def base_frontend(num_samples: int, image_side: int) -> dict:
    """The front end every setting starts from: ``for_length``'s defaults at ``image_side`` pixels, with the
    ImageNet mean / std (what ``rfnet demo`` uses), as ``SpectrogramConfig`` fields."""
    return dict(vars(SpectrogramConfig.for_length(num_samples, image_size=(image_side, image_side),
                                                  imagenet_normalize=True)))


def train_and_test(name: str, frontend: SpectrogramConfig, data, splits, args, folder: Path) -> dict:
    """Train AlexNet on ``frontend``'s images with finetune's recipe; test the best epoch."""
    train_idx, val_idx, test_idx = splits
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(args.seed)
        model = SpectrogramClassifier(list(data.classes), frontend, backbone="alexnet",
                                      backbone_config={"init": "he"}, num_samples=data.num_samples)
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, optimizer="adamw", lr=ALEXNET.lr,
                         weight_decay=ALEXNET.weight_decay, seed=args.seed, device=args.device, progress_bar=False)
    trainer = Trainer(model, data.subset(train_idx), data.subset(val_idx), config, folder)
    started, started_wall = time.monotonic(), time.time()
    result = trainer.fit()
    seconds = time.monotonic() - started
    best = load(result.paths["best"])
    predictions = predict(best, data.subset(test_idx), device=trainer.device, progress=False)
    validation_curve = [(record["epoch"], record["accuracy"], record["time"] - started_wall)
                        for record in map(json.loads, result.paths["metrics"].read_text().splitlines())
                        if record["split"] == "val"]
    shutil.rmtree(folder)  # the checkpoint holds 0.7 GB of optimizer state
    by_snr = {snr: count for snr, count in accuracy_by_snr(predictions).items()}
    high = [count for snr, count in by_snr.items() if snr >= HIGH_SNR_DB]
    high_mask = predictions.snrs >= HIGH_SNR_DB
    by_class_high = accuracy_by_class(predictions.subset(high_mask))
    mean_high = sum(count.accuracy for count in high) / len(high)
    examples_high = int(high_mask.sum())
    return {
        "setting": name,
        "frontend": {key: list(value) if isinstance(value, tuple) else value
                     for key, value in vars(frontend).items()},
        "mean_accuracy_high_snr": mean_high,
        "standard_error_high_snr": math.sqrt(mean_high * (1 - mean_high) / examples_high),
        "test_examples_high_snr": examples_high,
        "accuracy_by_snr": {f"{snr:g}": count.accuracy for snr, count in sorted(by_snr.items())},
        "accuracy_by_class_high_snr": {cls: count.accuracy for cls, count in zip(data.classes, by_class_high)},
        "best_epoch": result.best_epoch,
        "validation_accuracy_by_epoch": [{"epoch": epoch, "accuracy": accuracy, "seconds": seconds}
                                         for epoch, accuracy, seconds in validation_curve],
        "train_seconds": seconds,
        "train_examples_per_second": args.epochs * len(train_idx) / seconds,
    }


def table(rows: list[dict], confused: tuple[str, ...]) -> str:
    header = (f"| setting | mean acc. SNR >= {HIGH_SNR_DB:g} dB (± SE) | "
              + " | ".join(confused) + " | train ex/s |")
    lines = [header, "|" + "---|" * (3 + len(confused))]
    for row in rows:
        classes = row["accuracy_by_class_high_snr"]
        lines.append(f"| {row['setting']} | {100 * row['mean_accuracy_high_snr']:.1f} "
                     f"± {100 * row['standard_error_high_snr']:.1f} | "
                     + " | ".join(f"{100 * classes[c]:.0f}" for c in confused)
                     + f" | {row['train_examples_per_second']:.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="working folder (the generated data; runs are deleted)")
    parser.add_argument("--preset", choices=sorted(CONFUSED_CLASSES), default="rml2016")
    parser.add_argument("--setting", action="append", choices=list(SETTINGS),
                        help="run only these settings (repeatable; default all)")
    parser.add_argument("--per-class-snr", type=int, default=100, help="examples per (class, SNR)")
    parser.add_argument("--snr-min", type=int, default=-10)
    parser.add_argument("--snr-max", type=int, default=18)
    parser.add_argument("--snr-step", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=ALEXNET.batch_size)
    parser.add_argument("--image-size", type=int, default=67, help="image side of the base setting")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default="benchmarks/results/frontend_ablation.json")
    args = parser.parse_args()

    out = Path(args.out)
    spec = DataSpec(args.preset, per_class_snr=args.per_class_snr, synth_snr_range=(args.snr_min, args.snr_max),
                    synth_snr_step_db=args.snr_step, seed=args.seed)
    data = open_data(spec, out)
    splits = data.split(args.seed)
    base = base_frontend(data.num_samples, args.image_size)
    budget = {"preset": args.preset, "per_class_snr": args.per_class_snr,
              "snr_db": [args.snr_min, args.snr_max, args.snr_step], "epochs": args.epochs,
              "batch_size": args.batch_size, "train_examples": len(splits[0]), "test_examples": len(splits[2]),
              "seed": args.seed}
    rows = []
    for name in args.setting or list(SETTINGS):
        frontend = SpectrogramConfig(**{**base, **SETTINGS[name]})
        rows.append({**train_and_test(name, frontend, data, splits, args, out / f"run_{name}"),
                     "load_average": os.getloadavg()[0]})
        print(f"{name}: {100 * rows[-1]['mean_accuracy_high_snr']:.1f}% at SNR >= {HIGH_SNR_DB:g} dB "
              f"(load {rows[-1]['load_average']:.1f})", flush=True)
        # Written after every setting: a long sweep stopped part-way keeps what it measured.
        with atomic_output(Path(args.json)) as temporary:
            temporary.write_text(json.dumps({"budget": budget, "rows": rows}, indent=2) + "\n")
    print(table(rows, CONFUSED_CLASSES[args.preset]))


if __name__ == "__main__":
    main()
