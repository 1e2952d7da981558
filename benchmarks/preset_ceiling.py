"""What a synthetic preset lets any classifier reach at high SNR: a ceiling to read accuracy bars against.

A classifier can only separate classes whose examples differ. This benchmark trains scikit-learn's
``HistGradientBoostingClassifier`` on the 28 classical features of :func:`rfnet.dsp.modulation_features`
(cumulants, amplitude / phase / frequency statistics, spectral lines of x, x², x⁴, x⁸) with plenty of
examples per (class, SNR), only at high SNR, and tests it on fresh examples of the same cells. It does so
for the preset as it is and for variants that remove one limit at a time:

- ``preset``: the preset's SNRs >= ``--min-snr`` (true SNRs, signal over noise power);
- ``+20 dB``: the same SNRs raised by 20 dB (is noise the limit?);
- ``8x samples``: 8 times as many samples per example at the preset's SNRs (is the window the limit? at
  RadioML 2016's 200 kS/s and 8 samples per symbol, 128 samples are 16 symbols and 0.64 ms of audio);
- ``10a's flaws`` (``rml2016`` only): the published file's two flaws, its nominal SNR labels (a label
  of 10 dB delivers 20 dB, ``SynthConfig.snr_labels="rml2016_nominal"``) and its noise-only AM-SSB
  (``ModulationConfig.rml2016_ssb_is_noise``), which is what published 10a accuracies were measured on.

Where the ``+20 dB`` row is no better than ``preset`` and the ``8x samples`` row is, the preset's window,
not its noise, bounds accuracy; a class pair confused in every row is confused by construction.

    python benchmarks/preset_ceiling.py                 # rml2016, SNR >= 10 dB, 400 train / 400 test per cell

Prints per-row accuracy by SNR, the mean, and per-class accuracy; writes ``--json`` (default
``benchmarks/results/preset_ceiling_<preset>.json``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.ensemble import HistGradientBoostingClassifier

from rfnet.data.atomic import atomic_output
from rfnet.data.synthetic import PRESETS, SynthConfig, generate_chunks
from rfnet.dsp.features import modulation_features

SNR_RAISE_DB = 20
WINDOW_FACTOR = 8


def features_and_labels(config: SynthConfig, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features float32 ``[n, F]``, labels int64 ``[n]`` and SNRs int64 ``[n]`` (dB) of ``config``'s data."""
    features, labels, snrs = [], [], []
    for iq, label, snr in generate_chunks(config, seed):
        features.append(modulation_features(iq).numpy())
        labels.append(label)
        snrs.append(snr)
    return np.concatenate(features), np.concatenate(labels), np.concatenate(snrs)


def ceiling_row(config: SynthConfig, examples_per_cell: int, seed: int) -> dict:
    """Train on ``examples_per_cell`` per cell (seed ``seed``), test on as many fresh ones (seed ``seed + 1``)."""
    config = dataclasses.replace(config, examples_per_cell=examples_per_cell)
    started = time.perf_counter()
    train_x, train_y, _ = features_and_labels(config, seed)
    test_x, test_y, test_snrs = features_and_labels(config, seed + 1)
    predicted = HistGradientBoostingClassifier(random_state=seed).fit(train_x, train_y).predict(test_x)
    correct = predicted == test_y
    return {
        "snr_db": list(config.snrs),
        "num_samples": config.num_samples,
        "accuracy_by_snr": {int(snr): float(correct[test_snrs == snr].mean()) for snr in config.snrs},
        "mean_accuracy": float(correct.mean()),
        "standard_error": float(np.sqrt(correct.mean() * (1 - correct.mean()) / len(correct))),
        "accuracy_by_class": {name: float(correct[test_y == label].mean())
                              for label, name in enumerate(config.classes)},
        "seconds": time.perf_counter() - started,
    }


def variants(preset_name: str, min_snr_db: int) -> dict[str, SynthConfig]:
    """The preset restricted to SNR >= ``min_snr_db``, then with one limit removed per row."""
    preset = PRESETS[preset_name]()
    high = dataclasses.replace(preset, snr_min_db=max(min_snr_db, preset.snr_min_db))
    rows = {
        "preset": high,
        f"+{SNR_RAISE_DB} dB": dataclasses.replace(high, snr_min_db=high.snr_min_db + SNR_RAISE_DB,
                                                    snr_max_db=high.snr_max_db + SNR_RAISE_DB),
        f"{WINDOW_FACTOR}x samples": dataclasses.replace(high, num_samples=high.num_samples * WINDOW_FACTOR),
    }
    if preset_name == "rml2016":
        rows["10a's flaws"] = dataclasses.replace(
            high, snr_labels="rml2016_nominal",
            modulation=dataclasses.replace(high.modulation, rml2016_ssb_is_noise=True))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="rml2016")
    parser.add_argument("--min-snr", type=int, default=10, help="lowest SNR of the grid kept, dB (default 10)")
    parser.add_argument("--per-cell", type=int, default=400, help="train (and test) examples per class and SNR")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="results file (default benchmarks/results/preset_ceiling_<preset>.json)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = {name: ceiling_row(config, args.per_cell, args.seed)
            for name, config in variants(args.preset, args.min_snr).items()}
    classes = PRESETS[args.preset]().classes
    print(f"Features + HistGradientBoosting on the {args.preset} preset, {args.per_cell} train / test per cell")
    print(f"{'row':<12} {'SNRs (dB)':<16} {'mean':>6} {'±se':>5}  " + " ".join(f"{c[:6]:>6}" for c in classes))
    for name, row in rows.items():
        snrs = f"{row['snr_db'][0]}..{row['snr_db'][-1]}"
        per_class = " ".join(f"{row['accuracy_by_class'][c]:6.2f}" for c in classes)
        print(f"{name:<12} {snrs:<16} {row['mean_accuracy']:6.3f} {row['standard_error']:5.3f}  {per_class}")
    path = Path(args.json or Path(__file__).parent / "results" / f"preset_ceiling_{args.preset}.json")
    command = (f"python benchmarks/preset_ceiling.py --preset {args.preset} --min-snr {args.min_snr} "
               f"--per-cell {args.per_cell} --seed {args.seed}")
    record = {"command": command,
              "load_average": os.getloadavg()[0], "rows": rows}
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(record, indent=1))
    print(f"saved {path}")


if __name__ == "__main__":
    main()
