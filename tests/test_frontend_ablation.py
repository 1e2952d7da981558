"""benchmarks/frontend_ablation.py at a tiny size: a setting that changes the STFT trains and tests the real
AlexNet, writes its row, and deletes its run folder (the script once failed for any non-default n_fft)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "frontend_ablation.py"


@pytest.mark.slow
def test_a_non_default_stft_size_trains_tests_and_leaves_only_its_results(tmp_path):
    work, results = tmp_path / "work", tmp_path / "ablation.json"
    done = subprocess.run([sys.executable, str(SCRIPT), "--out", str(work), "--per-class-snr", "10", "--snr-min", "10",
                           "--snr-max", "14", "--snr-step", "4", "--epochs", "1", "--setting", "powers_1_2_4_nfft32",
                           "--json", str(results)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = json.loads(results.read_text())["rows"]
    assert [row["setting"] for row in rows] == ["powers_1_2_4_nfft32"]
    row = rows[0]
    assert (row["frontend"]["n_fft"], row["frontend"]["hop_length"]) == (32, 2)  # the 128 base's hop kept
    assert row["frontend"]["channel_mapping"] == "powers" and row["frontend"]["image_size"] == [67, 67]
    assert row["test_examples_high_snr"] == 22  # 10% of 11 classes x 2 SNRs x 10, both SNRs >= 10 dB
    assert 0.0 <= row["mean_accuracy_high_snr"] <= 1.0 and row["train_examples_per_second"] > 0
    assert not (work / "run_powers_1_2_4_nfft32").exists()  # the 0.7 GB checkpoint's folder is gone
