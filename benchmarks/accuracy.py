"""Accuracy quality bar: the AlexNet spectrogram classifier against VT-CNN2, the RadioML ResNet and a
classical feature-based classifier, all trained on the same synthetic data and split and tested on the
same test split.

The networks are ``rfnet demo`` (``rfnet.jobs.demo.run_demo``) with a chosen preset, size, AlexNet and
the baselines ``--baselines`` names (both by default). Each trains with its own recipe
(``rfnet.jobs.recipes``): AlexNet with rfnet's fine-tuning default (10 epochs unless ``--epochs``), VT-CNN2
and the ResNet as their papers did (Adam, their batch size and epoch cap, early stopping) unless
``--baseline-epochs`` / ``--batch-size`` override them. The data keeps the preset's own amplitude
convention (``--normalization``; ``rml2016``: each example divided by its sum of magnitudes, as RadioML
2016.10a) now that the baselines are gain-invariant.

The reference row "Features + HistGradientBoosting" is scikit-learn's ``HistGradientBoostingClassifier``
(the dev extra) on the 28 classical features of ``rfnet.dsp.modulation_features`` (cumulants, amplitude /
phase / frequency statistics, spectral lines) of the AlexNet run's training split, read back from its
``splits.npz``, and evaluated on its test split; its report lands in ``OUT/features_hgb/report``.

    python benchmarks/accuracy.py --preset rml2016 --out /tmp/acc2016
    python benchmarks/accuracy.py --preset rml2018 --per-class-snr 100 --snr-step 4 --baselines radioml_resnet \
        --out /tmp/acc2018

It prints and saves (``--json``, default ``benchmarks/results/accuracy_<preset>.json``) the accuracy by
SNR of each row, the mean over SNR >= 10 dB, per-class accuracy at SNR >= 10 dB, whether AlexNet is at or
above every other row at every SNR >= 0 dB within two standard errors, and the training budget (examples, recipes, epochs run,
minutes).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.ensemble import HistGradientBoostingClassifier
from torch.utils.data import DataLoader

from rfnet.cli.options import comma_list
from rfnet.data.atomic import atomic_output
from rfnet.data.synthetic import NORMALIZATIONS, PRESETS
from rfnet.dsp.features import modulation_features
from rfnet.evaluation import Predictions, accuracy_curve, compare_reports, write_report
from rfnet.jobs.datasets import DataSpec, LabelledData, open_data
from rfnet.jobs.demo import COMPARISON_FIGURE, MODEL_NAMES, DemoConfig, run_demo
from rfnet.jobs.finetune import DEFAULT_IMAGE_SIZE
from rfnet.jobs.run_folder import read_run_record, read_run_report
from rfnet.train.metrics import read_metrics

BASELINES = ("vtcnn2", "radioml_resnet")
"""The raw-IQ baselines, finetune ``--arch`` names; AlexNet is always trained (every verdict is about it)."""
FEATURES_ROW = "Features + HistGradientBoosting"
FEATURES_DIR = "features_hgb"
HIGH_SNR_DB = 10.0
FEATURE_BATCH = 2048
"""Examples per call of ``modulation_features`` (bounds its float64 working memory)."""


def verdict(reports: dict[str, dict], target: str, min_snr_db: float = 0.0, margin_se: float = 2.0) -> list[float]:
    """The SNRs >= ``min_snr_db`` at which row ``target`` is below another row by more than ``margin_se``
    standard errors of the difference (binomial, from each report's test count at that SNR); empty: at
    or above every row within that margin. ``reports``: row name -> ``write_report``'s metrics."""
    def points(metrics: dict) -> dict[float, tuple[float, int]]:
        return {point["snr_db"]: (point["accuracy"], point["count"]) for point in metrics["accuracy_by_snr"]}

    ours, others = points(reports[target]), [points(m) for name, m in reports.items() if name != target]
    below = []
    for snr, (accuracy, count) in sorted(ours.items()):
        if snr < min_snr_db:
            continue
        for other in others:
            if snr not in other:
                continue
            their, their_count = other[snr]
            error = math.sqrt(accuracy * (1 - accuracy) / count + their * (1 - their) / their_count)
            if their - accuracy > margin_se * error:
                below.append(snr)
                break
    return below


def open_run_data(run: Path) -> tuple[LabelledData, dict[str, np.ndarray]]:
    """The data a finetune run trained on, labelled as it was, and its train / validation / test indices."""
    record = read_run_record(run)
    if record is None or record.splits is None:
        raise ValueError(f"{run}: no job.json / splits.npz (not a finetune run folder)")
    meta = record.fields
    data = open_data(DataSpec(meta["data_source"], classes=tuple(meta["classes"])))
    if len(data) != meta["num_examples"]:
        raise ValueError(f"{meta['data_source']}: {len(data)} examples now, {meta['num_examples']} when {run} ran")
    return data, record.splits


def features_of(data: LabelledData, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``modulation_features`` of the examples at ``indices``: float32 ``[n, F]``, labels int64 ``[n]``,
    SNRs float32 ``[n]`` (dB)."""
    features, labels, snrs = [], [], []
    for iq, label, snr in DataLoader(data.subset(indices), batch_size=FEATURE_BATCH):
        features.append(modulation_features(iq).numpy())
        labels.append(label.numpy())
        snrs.append(snr.numpy())
    return np.concatenate(features), np.concatenate(labels).astype(np.int64), np.concatenate(snrs).astype(np.float32)


def features_hgb_predictions(data: LabelledData, train: np.ndarray, test: np.ndarray, seed: int) -> Predictions:
    """Fit ``HistGradientBoostingClassifier`` (scikit-learn defaults) on the features of ``train``; its
    predictions on ``test``, with log class probabilities as the logits."""
    train_x, train_y, _ = features_of(data, train)
    classifier = HistGradientBoostingClassifier(random_state=seed).fit(train_x, train_y)
    test_x, test_y, test_snrs = features_of(data, test)
    probabilities = np.zeros((len(test_y), len(data.classes)))
    probabilities[:, classifier.classes_] = classifier.predict_proba(test_x)  # a class absent from train: 0
    logits = torch.from_numpy(np.log(np.maximum(probabilities, 1e-12))).float()
    return Predictions(logits, torch.from_numpy(test_y), torch.from_numpy(test_snrs))


def high_snr_by_class(metrics: dict) -> dict[str, float]:
    """Per-class accuracy (recall) over the examples at SNR >= the report's high-SNR threshold."""
    normalized = metrics["confusion"]["high_snr"]["normalized"]
    return {name: normalized[i][i] for i, name in enumerate(metrics["classes"])}


def training_record(run: Path) -> dict:
    """The resolved recipe a finetune run trained with and the epochs it ran (early stopping may cut it)."""
    record = read_run_record(run).fields
    epochs_run = sum(1 for line in read_metrics(run / "metrics.jsonl") if line["split"] == "val")
    return ({key: record["job"][key] for key in ("lr", "weight_decay", "batch_size", "epochs")}
            | {"early_stopping_patience": record["recipe"]["early_stopping_patience"], "epochs_run": epochs_run})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="rml2016")
    parser.add_argument("--out", required=True, help="new or empty folder for the data and the runs")
    parser.add_argument("--per-class-snr", type=int, default=100)
    parser.add_argument("--snr-min", type=int, default=-10)
    parser.add_argument("--snr-max", type=int, default=18)
    parser.add_argument("--snr-step", type=int, default=2)
    parser.add_argument("--normalization", choices=NORMALIZATIONS,
                        help="per-example scaling of the generated data (default: the preset's own: "
                        + ", ".join(f"{name} {make().normalization}" for name, make in PRESETS.items()) + ")")
    parser.add_argument("--epochs", type=int, help="AlexNet epochs (default: its recipe's, 10)")
    parser.add_argument("--baseline-epochs", type=int,
                        help="VT-CNN2 and ResNet epochs at most (default: their recipes', with early stopping)")
    parser.add_argument("--image-size", type=int, default=DEFAULT_IMAGE_SIZE)
    parser.add_argument("--batch-size", type=int, help="examples per step for every model (default: each "
                        "model's recipe)")
    parser.add_argument("--baselines", type=comma_list(), default=BASELINES,
                        help="comma-separated baselines to train beside AlexNet (default: both; at 1024 samples "
                        "VT-CNN2 trains at about 40 examples/s on two CPU cores)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="results file (default benchmarks/results/accuracy_<preset>.json)")
    args = parser.parse_args()
    if unknown := set(args.baselines) - set(BASELINES):
        parser.error(f"--baselines: {', '.join(sorted(unknown))} is not one of {', '.join(BASELINES)}")
    models = ("alexnet",) + args.baselines

    out = Path(args.out)
    normalization = args.normalization or PRESETS[args.preset]().normalization
    # lr, batch_size, epochs and baseline_epochs left None reach FinetuneJob as None: each model's recipe.
    config = DemoConfig(preset=args.preset, models=models, per_class_snr=args.per_class_snr,
                        snr_min_db=args.snr_min, snr_max_db=args.snr_max, snr_step_db=args.snr_step,
                        epochs=args.epochs, baseline_epochs=args.baseline_epochs, lr=None,
                        batch_size=args.batch_size, image_size=args.image_size, normalization=normalization,
                        device=args.device, seed=args.seed)
    started = time.monotonic()
    print(run_demo(config, out, progress=False))

    data, splits = open_run_data(out / models[0])
    for model in models[1:]:
        if not all(np.array_equal(splits[name], part) for name, part in open_run_data(out / model)[1].items()):
            raise RuntimeError(f"{out / model}: its split differs from {out / models[0]}'s")
    print(f"\n== {FEATURES_ROW}: {len(splits['train'])} training examples ==", flush=True)
    predictions = features_hgb_predictions(data, splits["train"], splits["test"], args.seed)
    features_metrics = write_report(predictions, data.classes, out / FEATURES_DIR / "report", title=FEATURES_ROW,
                                    high_snr_db=HIGH_SNR_DB)
    minutes = (time.monotonic() - started) / 60

    reports = {MODEL_NAMES[m]: read_run_report(out / m) for m in models}
    reports[FEATURES_ROW] = features_metrics
    print(compare_reports(reports, out / COMPARISON_FIGURE, high_snr_db=HIGH_SNR_DB,
                          title="Accuracy vs SNR (test split)"))
    curves = {name: accuracy_curve(metrics) for name, metrics in reports.items()}
    below = verdict(reports, MODEL_NAMES["alexnet"])
    print("AlexNet at or above every other row at every SNR >= 0 dB, within two standard errors" if not below
          else f"AlexNet below another row by more than two standard errors at SNR {below} dB")
    result = {
        "preset": args.preset, "normalization": normalization,
        "budget": vars(args) | {"minutes": minutes, "training_examples": len(splits["train"])},
        "training": {MODEL_NAMES[m]: training_record(out / m) for m in models},
        "models": {name: {"accuracy_by_snr": {f"{s:g}": a for s, a in curves[name].items()},
                          "mean_at_or_above_10_db": metrics["mean_accuracy_high_snr"],
                          "accuracy_by_class_at_or_above_10_db": high_snr_by_class(metrics)}
                   for name, metrics in reports.items()},
        "alexnet_below_a_baseline_at_snr_db": below, "load_average": os.getloadavg(),
    }
    path = Path(args.json or Path(__file__).parent / "results" / f"accuracy_{args.preset}.json")
    with atomic_output(path) as temporary:
        temporary.write_text(json.dumps(result, indent=1) + "\n")
    print(f"{minutes:.1f} min; results in {path}")


if __name__ == "__main__":
    main()
