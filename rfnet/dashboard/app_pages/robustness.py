"""Robustness: accuracy against PSR (attacks) and JSR (jammers) from ``rfnet robustness`` reports, the
models of every chosen report side by side, and each report's self-checks."""

from __future__ import annotations

import os
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from rfnet.dashboard.shared import REPORTS_ENV, results_table
from rfnet.robustness.report_reader import REPORT_FILE, read_report

SEARCH_DEPTH = 2  # folder levels under the working folder searched for report.json files
AXIS_TITLES = {"psr_db": "PSR (dB)", "jsr_db": "JSR (dB)"}


def report_folders() -> list[str]:
    """``$RFNET_REPORTS`` (``os.pathsep``-separated), else folders under the working folder holding a report."""
    given = os.environ.get(REPORTS_ENV)
    if given:
        return [folder for folder in given.split(os.pathsep) if folder]
    found = [file.parent for depth in range(1, SEARCH_DEPTH + 1)
             for file in Path.cwd().glob("/".join(["*"] * depth) + f"/{REPORT_FILE}")]
    return sorted(str(folder.relative_to(Path.cwd())) for folder in found)


def curve_chart(points: pd.DataFrame, clean: pd.DataFrame, axis: str) -> alt.FacetChart:
    """Accuracy against the budget, one panel per attack, every model a colour; dotted: clean accuracy."""
    x = alt.X("db:Q", title=AXIS_TITLES[axis])
    y = alt.Y("accuracy:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%"), title="accuracy")
    panels = points.attack.unique().tolist()
    clean = clean.merge(pd.DataFrame({"attack": panels}), how="cross")
    lines = alt.Chart().mark_line(point=True).encode(
        x=x, y=y, color=alt.Color("model:N"),
        tooltip=["model", "attack", "db", alt.Tooltip("accuracy:Q", format=".1%"), "examples", "delivered_db"])
    rules = alt.Chart().mark_rule(strokeDash=[2, 3]).encode(y="clean_accuracy:Q", color=alt.Color("model:N"))
    data = pd.concat([points, clean], ignore_index=True)
    return alt.layer(lines.transform_filter("isValid(datum.db)"),
                     rules.transform_filter("isValid(datum.clean_accuracy)"), data=data) \
        .properties(width=190, height=180).facet(facet=alt.Facet("attack:N", title=None), columns=3)


st.title("Robustness")
found = report_folders()
chosen = st.multiselect("Reports (folders written by `rfnet robustness`)", found, default=found,
                        key="rob_reports")
typed = st.text_input("Add a report folder", key="rob_folder", placeholder="runs/robustness").strip()
folders = chosen + ([typed] if typed else [])
if not folders:
    st.info("No robustness report here. `rfnet robustness --model runs/rml16 --out robustness/` sweeps "
            "attacks and jammers and writes one; name its folder above or in RFNET_REPORTS.")
    st.stop()

models, points, checks = [], [], []
for folder in folders:
    try:
        report = read_report(folder)
    except (ValueError, FileNotFoundError) as err:
        st.error(f"Cannot read report {folder}: {err}")
        continue
    # Models of different reports may share a name: with several reports, each name says its report.
    suffix = f" ({folder})" if len(folders) > 1 else ""
    models += [{**m, "model": m["name"] + suffix, "report": folder} for m in report.models]
    points += [{**p, "model": p["model"] + suffix, "report": folder} for p in report.curve_points]
    checks += [{**c, "model": c["model"] and c["model"] + suffix, "report": folder} for c in report.checks]
if not models:
    st.stop()

models = pd.DataFrame(models)
points = pd.DataFrame(points, columns=["model", "attack", "axis", "db", "accuracy", "examples", "delivered_db",
                                       "report"])
st.subheader("Models")
st.dataframe(models[["model", "clean_accuracy", "path", "report"]], hide_index=True, key="rob_models",
             column_config={"clean_accuracy": st.column_config.NumberColumn("clean accuracy", format="percent")})
attacks = sorted(points.attack.unique())
shown_attacks = st.multiselect("Attacks and jammers", attacks, default=attacks, key="rob_attacks")
clean = models[["model", "clean_accuracy"]]
for axis, title in (("psr_db", "Accuracy against PSR (attacks: perturbation-to-signal power)"),
                    ("jsr_db", "Accuracy against JSR (jammers: jammer-to-signal power)")):
    on_axis = points[(points.axis == axis) & points.attack.isin(shown_attacks)]
    if not on_axis.empty:
        st.subheader(title)
        st.altair_chart(curve_chart(on_axis, clean, axis))
        st.caption("Dotted lines: each model's clean accuracy.")

st.subheader("Self-checks")
checks = pd.DataFrame(checks, columns=["model", "name", "passed", "detail", "report"])
failed = int((~checks.passed).sum())
if failed:
    st.warning(f"{failed} of {len(checks)} self-checks failed: read those curves with care.")
elif len(checks):
    st.success(f"All {len(checks)} self-checks passed.")
st.dataframe(checks, hide_index=True, key="rob_checks")

st.subheader("Every curve point")
results_table(points, key="rob_points", file_name="rfnet-robustness.csv")
