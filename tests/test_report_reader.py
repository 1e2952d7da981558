"""rfnet.robustness.report_reader: a robustness report back as rows, and clear errors for broken ones."""

import json

import pytest

from rfnet.robustness.report import write_report
from rfnet.robustness.report_reader import read_report

REPORT = {
    "models": [{"name": "alexnet", "path": "runs/a", "clean_accuracy": 0.8}],
    "curves": [{"model": "alexnet", "attack": "pgd", "axis": "psr_db", "kind": "adversarial",
                "points": [{"db": -20.0, "accuracy": 0.5, "examples": 40, "attacked": 32, "delivered_db": -20.0,
                            "delivered_db_min": -20.0, "delivered_db_max": -20.0, "zero_perturbation": 0}]},
               {"model": "alexnet", "attack": "tone", "axis": "jsr_db", "kind": "jammer",
                "points": [{"db": 0.0, "accuracy": 0.25, "examples": 40, "attacked": 32, "delivered_db": 0.0,
                            "delivered_db_min": 0.0, "delivered_db_max": 0.0, "zero_perturbation": 0}]}],
    "checks": [{"name": "monotone:pgd", "model": "alexnet", "passed": False, "detail": "rises", "values": {}}],
    "domain": "iq", "data": {"source": "test", "examples": 40, "classes": ["BPSK", "QPSK"]}, "seed": 0,
}


def test_reads_what_the_report_writer_wrote(tmp_path):
    write_report(REPORT, tmp_path)
    report = read_report(tmp_path)
    assert report.models == [{"name": "alexnet", "path": "runs/a", "clean_accuracy": 0.8}]
    assert [(p["attack"], p["axis"], p["db"], p["accuracy"], p["examples"]) for p in report.curve_points] == [
        ("pgd", "psr_db", -20.0, 0.5, 40), ("tone", "jsr_db", 0.0, 0.25, 40)]
    assert report.checks == [{"model": "alexnet", "name": "monotone:pgd", "passed": False, "detail": "rises"}]
    assert read_report(tmp_path / "report.json").curve_points == report.curve_points


@pytest.mark.parametrize("change, message", [
    (lambda r: r.update(curves={}), "'curves' must be a list"),
    (lambda r: r["models"][0].pop("clean_accuracy"), r"models\[0\] lacks clean_accuracy"),
    (lambda r: r["curves"][1].update(axis="snr_db"), r"curves\[1\] axis must be one of"),
    (lambda r: r["curves"][0]["points"][0].update(accuracy="high"), "pgd\\) point accuracy must be a number"),
    (lambda r: r["checks"][0].pop("passed"), r"checks\[0\] lacks passed"),
])
def test_broken_reports_are_one_error_naming_the_file(tmp_path, change, message):
    report = json.loads(json.dumps(REPORT))
    change(report)
    (tmp_path / "report.json").write_text(json.dumps(report))
    with pytest.raises(ValueError, match=message) as error:
        read_report(tmp_path)
    assert str(tmp_path / "report.json") in str(error.value)


def test_missing_and_unparsable(tmp_path):
    with pytest.raises(FileNotFoundError, match="no robustness report"):
        read_report(tmp_path)
    (tmp_path / "report.json").write_text("{")
    with pytest.raises(ValueError, match="not valid JSON"):
        read_report(tmp_path)
