"""rfnet demo --quick end to end: both models trained and evaluated, the side-by-side table, the files."""

import json

import pytest

from rfnet.cli import main


@pytest.mark.slow
def test_quick_demo_writes_reports_and_prints_the_table(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--quick", "--out", str(out), "--quiet"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == f"report and figures: {out}"
    header = next(line for line in lines if line.strip().startswith("SNR (dB)"))
    assert header.split()[-3:] == ["AlexNet", "RadioML", "ResNet"]
    rows = {line.split()[0]: line.split()[1:] for line in lines if line.strip()[:1].isdigit()}
    assert set(rows) == {"6", "18"} and all(len(values) == 2 for values in rows.values())
    for model in ("alexnet", "radioml_resnet"):
        metrics = json.loads((out / model / "report" / "metrics.json").read_text())
        assert metrics["classes"] == ["BPSK", "QPSK", "AM-DSB"]
        table_values = [float(rows[f"{row['snr_db']:g}"][model == "radioml_resnet"]) for row in metrics["accuracy_by_snr"]]
        assert table_values == [round(100 * row["accuracy"], 1) for row in metrics["accuracy_by_snr"]]
        assert (out / model / "best" / "config.json").is_file()
        assert not (out / model / "checkpoint.pt").exists()  # finished runs: optimizer state not kept
    assert json.loads((out / "alexnet" / "best" / "config.json").read_text())["config"]["backbone"] == "alexnet"
    assert (out / "accuracy_vs_snr.png").stat().st_size > 1000
    assert "AlexNet" in (out / "summary.txt").read_text()


def test_demo_refuses_a_used_folder(tmp_path, capsys):
    (tmp_path / "old.txt").write_text("x")
    assert main(["demo", "--quick", "--out", str(tmp_path), "--quiet"]) == 2
    assert "not empty" in capsys.readouterr().err


def test_demo_config_rejects_unknown_presets_and_models():
    from rfnet.jobs.demo import DemoConfig

    with pytest.raises(ValueError, match="preset 'rml2017'"):
        DemoConfig(preset="rml2017")
    with pytest.raises(ValueError, match="distinct names"):
        DemoConfig(models=("alexnet", "lenet"))
    with pytest.raises(ValueError, match="distinct names"):
        DemoConfig(models=("vtcnn2", "vtcnn2"))
