"""benchmarks/gpu_check.py, the prepared device check: its dry run on the CPU exercises every stage's
plumbing (child processes, time boxes, result files, the table) at tiny sizes."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.py"


@pytest.fixture(scope="module")
def gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_the_dry_run_measures_every_stage_and_writes_its_results(gpu_check, tmp_path, capsys, monkeypatch):
    temp = tmp_path / "temp"  # tempfile's folder for the check and, through TMPDIR, for its stages
    temp.mkdir()
    monkeypatch.setattr(gpu_check.tempfile, "tempdir", str(temp))
    assert gpu_check.main(["--dry-run", "--out", str(tmp_path)]) == 0
    assert list(temp.iterdir()) == []  # the stages' JPEG folders, models and stores are gone with the check
    printed = capsys.readouterr().out
    records = {stage: json.loads((tmp_path / f"gpu_dryrun_{stage}.json").read_text()) for stage in gpu_check.STAGES}
    assert {stage: r["status"] for stage, r in records.items()} == {stage: "ok" for stage in gpu_check.STAGES}
    assert "skipped" in records["tests"]["rows"][0]["value"]  # tests/test_cuda.py ran, and skipped without CUDA
    for stage in ("synthetic", "jpeg"):
        rates = {row["name"]: row["value"] for row in records[stage]["rows"]}
        assert any(name.startswith("plain") for name in rates) and any(name.startswith("rfnet") for name in rates)
        measured = [v for v in rates.values() if not isinstance(v, str)]
        assert measured and all(v > 0 for v in measured), rates
    peaks = [row["bf16_peak_fraction"] for row in records["synthetic"]["rows"]]
    assert all(0 < p < 1 for p in peaks)
    assert records["bench"]["rows"][0]["name"] == "bench eager b1" and records["bench"]["rows"][0]["value"] > 0
    for stage in gpu_check.STAGES:
        assert stage in printed


def test_a_stage_past_its_time_box_is_killed_and_recorded(gpu_check, tmp_path):
    record = gpu_check.run_stage("synthetic", 1.0, tmp_path, dry_run=True, scratch=tmp_path)
    assert record["status"] == "killed at its 1 s time box"
    assert json.loads((tmp_path / "gpu_dryrun_synthetic.json").read_text())["status"] == record["status"]


def test_without_a_gpu_it_says_so_and_exits_0_after_the_dry_run(gpu_check, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(gpu_check.torch.cuda, "is_available", lambda: False)
    assert gpu_check.main(["--stages", "accuracy", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "no CUDA GPU here" in printed and "skipped in the dry run" in printed
    assert (tmp_path / "gpu_dryrun_accuracy.json").exists() and not (tmp_path / "gpu_accuracy.json").exists()


def test_unknown_stages_are_refused(gpu_check):
    with pytest.raises(SystemExit) as exit_info:
        gpu_check.main(["--stages", "tests,warp"])
    assert exit_info.value.code == 2
