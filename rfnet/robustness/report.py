"""Robustness report files: ``report.json``, ``report.csv``, figures and ``report.md``, each written
atomically (:func:`rfnet.data.atomic.atomic_output`).

``report.json`` holds ``models`` (name, path, clean accuracy, ...), ``curves`` (model, attack, axis
``psr_db``/``jsr_db``, kind, points with db, accuracy, examples, delivered_db, ...), ``checks`` (name,
model, passed, detail, values) and the settings: hyper-parameters, seeds, example counts, domain.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from matplotlib.figure import Figure

from rfnet.data.atomic import atomic_output
from rfnet.evaluation.figures import DPI, MARKERS

AXIS_LABELS = {"psr_db": "PSR (dB, perturbation-to-signal power)", "jsr_db": "JSR (dB, jammer-to-signal power)"}
FIGURES = {"psr_db": "accuracy_vs_psr.png", "jsr_db": "accuracy_vs_jsr.png"}
CSV_COLUMNS = ("model", "attack", "kind", "axis", "db", "accuracy", "examples", "attacked", "delivered_db",
               "delivered_db_min", "delivered_db_max", "zero_perturbation")


def write_report(report: dict, out: Path) -> list[Path]:
    """Write every report file of ``report`` (the ``report.json`` dict) into the folder ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    written = [_write_text(out / "report.json", json.dumps(report, indent=2) + "\n"),
               _write_text(out / "report.csv", curves_csv(report["curves"]))]
    for axis, name in FIGURES.items():
        curves = [curve for curve in report["curves"] if curve["axis"] == axis]
        if curves:
            with atomic_output(out / name, ".png") as temporary:
                plot_curves(curves, axis, report["models"], temporary)
            written.append(out / name)
    written.append(_write_text(out / "report.md", markdown(report)))
    return written


def _write_text(path: Path, text: str) -> Path:
    with atomic_output(path) as temporary:
        temporary.write_text(text)
    return path


def curves_csv(curves: list[dict]) -> str:
    """One row per curve point, columns :data:`CSV_COLUMNS`."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for curve in curves:
        for point in curve["points"]:
            writer.writerow({**{k: curve[k] for k in ("model", "attack", "kind", "axis")}, **point})
    return buffer.getvalue()


def plot_curves(curves: list[dict], axis: str, models: list[dict], path: Path) -> None:
    """One panel per attack, every model's accuracy against the budget overlaid, clean accuracy dotted."""
    attacks = list(dict.fromkeys(curve["attack"] for curve in curves))
    columns = min(3, len(attacks))
    rows = -(-len(attacks) // columns)
    figure = Figure(figsize=(4.2 * columns, 3.4 * rows))
    panels = figure.subplots(rows, columns, squeeze=False).flatten()
    model_index = {model["name"]: i for i, model in enumerate(models)}
    for panel, attack in zip(panels, attacks):
        for curve in (c for c in curves if c["attack"] == attack):
            i = model_index[curve["model"]]
            line, = panel.plot([p["db"] for p in curve["points"]], [p["accuracy"] for p in curve["points"]],
                               marker=MARKERS[i % len(MARKERS)], markersize=3, label=curve["model"])
            panel.axhline(models[i]["clean_accuracy"], color=line.get_color(), linestyle=":", linewidth=1)
        panel.set_title(attack)
        panel.set_xlabel(AXIS_LABELS[axis])
        panel.set_ylabel("accuracy")
        panel.set_ylim(0, 1)
        panel.grid(True, alpha=0.3)
    for panel in panels[len(attacks):]:
        panel.set_visible(False)
    panels[0].legend(fontsize="small")
    figure.suptitle("Accuracy under attack (dotted: clean)" if axis == "psr_db" else "Accuracy under jamming")
    figure.tight_layout()
    figure.savefig(path, format="png", dpi=DPI, bbox_inches="tight")


def markdown(report: dict) -> str:
    """A summary for people: models, accuracy by budget per attack, and the self-checks."""
    lines = ["# Robustness report", "",
             f"Domain attacked: {report['domain']}. Data: {report['data']['source']} "
             f"({report['data']['examples']} test examples; classes {', '.join(report['data']['classes'])}). "
             f"Seed {report['seed']}.", "", "| model | path | clean accuracy |", "|---|---|---|"]
    lines += [f"| {m['name']} | {m['path']} | {100 * m['clean_accuracy']:.1f}% |" for m in report["models"]]
    for axis in FIGURES:
        curves = [curve for curve in report["curves"] if curve["axis"] == axis]
        if not curves:
            continue
        budgets = sorted({point["db"] for curve in curves for point in curve["points"]})
        lines += ["", f"## Accuracy (%) against {AXIS_LABELS[axis]}", "",
                  "| model | attack | " + " | ".join(f"{db:g}" for db in budgets) + " |",
                  "|---|---|" + "---:|" * len(budgets)]
        for curve in curves:
            by_db = {point["db"]: point["accuracy"] for point in curve["points"]}
            cells = [f"{100 * by_db[db]:.1f}" if db in by_db else "" for db in budgets]
            lines.append(f"| {curve['model']} | {curve['attack']} | " + " | ".join(cells) + " |")
    failed = [check for check in report["checks"] if not check["passed"]]
    lines += ["", f"## Self-checks: {len(report['checks']) - len(failed)} passed, {len(failed)} failed", "",
              "| model | check | result | detail |", "|---|---|---|---|"]
    lines += [f"| {c['model']} | {c['name']} | {'passed' if c['passed'] else '**FAILED**'} | {c['detail']} |"
              for c in report["checks"]]
    if report.get("skipped_checks"):
        lines += ["", "Not run: " + "; ".join(report["skipped_checks"]) + "."]
    return "\n".join(lines) + "\n"
