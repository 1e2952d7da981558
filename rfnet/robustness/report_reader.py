"""Read back a ``rfnet robustness`` report (``report.json``, see :mod:`rfnet.robustness.report`) as tables.

>>> from rfnet.robustness.report_reader import read_report
>>> report = read_report("robustness/")          # the report folder, or its report.json
>>> report.models, report.curve_points, report.checks    # lists of flat rows (dicts)

Only what a reader needs is checked: the ``models``, ``curves`` (with their ``points``) and ``checks``
lists and the fields a table or chart shows. A missing file or one that is not such a report is one error
naming the file and what is wrong.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["REPORT_FILE", "RobustnessReport", "read_report"]

REPORT_FILE = "report.json"
AXES = ("psr_db", "jsr_db")
_MODEL_FIELDS = ("name", "clean_accuracy")
_CURVE_FIELDS = ("model", "attack", "axis", "points")
_POINT_FIELDS = ("db", "accuracy")
_CHECK_FIELDS = ("name", "passed", "detail")


@dataclass(frozen=True)
class RobustnessReport:
    """A report as flat rows.

    models: ``{"name", "path", "clean_accuracy"}`` per model.
    curve_points: one row per curve point: ``{"model", "attack", "axis", "db", "accuracy", "examples",
        "delivered_db"}`` (``examples`` and ``delivered_db`` None when the report lacks them).
    checks: ``{"model", "name", "passed", "detail"}`` per self-check (``model`` "" when not given).
    """

    path: Path
    models: list[dict]
    curve_points: list[dict]
    checks: list[dict]


def _fail(path: Path, problem: str) -> None:
    raise ValueError(f"{path}: not a robustness report: {problem}")


def _records(path: Path, report: dict, key: str, required: tuple[str, ...]) -> list[dict]:
    items = report.get(key)
    if not isinstance(items, list):
        _fail(path, f"'{key}' must be a list")
    for index, item in enumerate(items):
        missing = [name for name in required if not isinstance(item, dict) or name not in item]
        if missing:
            _fail(path, f"{key}[{index}] lacks {', '.join(missing)}")
    return items


def _number(path: Path, where: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        _fail(path, f"{where} must be a number, got {value!r}")
    return float(value)


def read_report(path: str | os.PathLike) -> RobustnessReport:
    """The report in folder ``path`` (or the ``report.json`` file ``path``).

    Raises ``FileNotFoundError`` when there is no report there, ``ValueError`` when the file is not valid
    JSON or lacks a list, a field or a number the tables need (naming the file and the place).
    """
    path = Path(path)
    file = path / REPORT_FILE if path.is_dir() else path
    if not file.is_file():
        raise FileNotFoundError(f"{path}: no robustness report ({REPORT_FILE}) there")
    try:
        report = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{file}: not valid JSON ({err})") from None
    if not isinstance(report, dict):
        _fail(file, "expected a JSON object")
    models = [{"name": str(m["name"]), "path": str(m.get("path", "")),
               "clean_accuracy": _number(file, f"model {m['name']!r} clean_accuracy", m["clean_accuracy"])}
              for m in _records(file, report, "models", _MODEL_FIELDS)]
    points = []
    for index, curve in enumerate(_records(file, report, "curves", _CURVE_FIELDS)):
        if curve["axis"] not in AXES:
            _fail(file, f"curves[{index}] axis must be one of {AXES}, got {curve['axis']!r}")
        for point in _records(file, curve, "points", _POINT_FIELDS):
            where = f"curves[{index}] ({curve['model']}, {curve['attack']}) point"
            points.append({"model": str(curve["model"]), "attack": str(curve["attack"]), "axis": curve["axis"],
                           "db": _number(file, f"{where} db", point["db"]),
                           "accuracy": _number(file, f"{where} accuracy", point["accuracy"]),
                           "examples": point.get("examples"), "delivered_db": point.get("delivered_db")})
    checks = [{"model": str(c.get("model", "")), "name": str(c["name"]), "passed": bool(c["passed"]),
               "detail": str(c["detail"])}
              for c in _records(file, report, "checks", _CHECK_FIELDS)]
    return RobustnessReport(file, models, points, checks)
