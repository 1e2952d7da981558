"""Model comparison: every model in ``rfnet bench``'s results store on one latency-against-accuracy chart
with the Pareto front marked, accuracy-against-SNR curves overlaid, the measurements as a sortable,
filterable table (CSV), and a button that measures the chosen model's latency on this machine now."""

from __future__ import annotations

from dataclasses import asdict

import altair as alt
import pandas as pd
import streamlit as st

from rfnet.bench.measure import Subject, measure
from rfnet.bench.pareto import pareto_front
from rfnet.bench.store import ResultsStore, default_store_path
from rfnet.dashboard.shared import chosen_model, load_model, results_table
from rfnet.jobs.run_folder import display_name

HIGH_SNR, OVERALL = "mean over SNR ≥ 10 dB", "all SNRs"
# (Bare strings would be drawn on the page by Streamlit's "magic": comments here.)
MEASURE_MODES = ("eager", "compile", "channels_last", "int8")  # CPU modes (rfnet.bench.modes)
MEASURE_BATCHES = (1, 8, 64, 256)
MEASURE_BUDGET_S = 3.0  # seconds of timed calls per (mode, batch size): the button answers in seconds
MEASUREMENT_COLUMNS = ["created", "model", "mode", "device", "batch_size", "median_ms", "p90_ms", "p99_ms",
                       "examples_per_s", "flops_per_example", "peak_fraction", "machine", "arch", "model_path"]


def read_store(path: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(measurements, evaluations) of the store at ``path`` as data frames, oldest row first."""
    store = ResultsStore(path)
    measurements = pd.DataFrame([asdict(m) for m in store.measurements()], columns=MEASUREMENT_COLUMNS)
    evaluations = pd.DataFrame([asdict(e) for e in store.evaluations()])
    return measurements, evaluations


def latest_accuracy(evaluations: pd.DataFrame, metric: str) -> pd.Series:
    """Model name → the accuracy ``metric`` of its newest evaluation (NaN where it has none)."""
    if evaluations.empty:
        return pd.Series(dtype=float)
    newest = evaluations.groupby("model", sort=False).tail(1).set_index("model")
    column = "accuracy_high_snr" if metric == HIGH_SNR else "accuracy"
    return newest[column].astype(float)


def chart_points(measurements: pd.DataFrame, accuracy: pd.Series, device: str, batch_size: int) -> pd.DataFrame:
    """The newest measurement of each (model, mode) on ``device`` at ``batch_size`` that has an accuracy,
    with columns ``accuracy`` and ``on_front`` (on the Pareto front of latency against accuracy)."""
    chosen = measurements[(measurements.device == device) & (measurements.batch_size == batch_size)]
    points = chosen.groupby(["model", "mode"], sort=False).tail(1).copy()
    points["accuracy"] = points.model.map(accuracy)
    points = points.dropna(subset=["accuracy"]).reset_index(drop=True)
    points["on_front"] = pareto_front(points.median_ms.tolist(), points.accuracy.tolist())
    return points


def latency_accuracy_chart(points: pd.DataFrame, batch_size: int, metric: str) -> alt.LayerChart:
    """Accuracy against latency (log scale), a point per (model, mode); the front ringed and joined."""
    x = alt.X("median_ms:Q", scale=alt.Scale(type="log"), title=f"latency at batch {batch_size} (ms, median)")
    y = alt.Y("accuracy:Q", scale=alt.Scale(zero=False), axis=alt.Axis(format="%"), title=f"accuracy ({metric})")
    dots = alt.Chart(points).mark_point(filled=True, size=110).encode(
        x=x, y=y, color=alt.Color("model:N"), shape=alt.Shape("mode:N"),
        tooltip=["model", "mode", "median_ms", "p99_ms", "examples_per_s", alt.Tooltip("accuracy:Q", format=".1%")])
    front = points[points.on_front].sort_values("median_ms")
    line = alt.Chart(front).mark_line(color="gray", strokeDash=[5, 4]).encode(x=x, y=y)
    rings = alt.Chart(front).mark_point(size=380, color="black", strokeWidth=1.5).encode(x=x, y=y)
    return (line + rings + dots).properties(height=380)


def snr_curves(evaluations: pd.DataFrame) -> pd.DataFrame:
    """Long table (model, snr_db, accuracy) of each model's newest evaluation."""
    rows = [(row.model, float(snr), float(acc))
            for row in evaluations.groupby("model", sort=False).tail(1).itertuples()
            for snr, acc in sorted(row.accuracy_by_snr.items())]
    return pd.DataFrame(rows, columns=["model", "snr_db", "accuracy"])


def measure_now(store_path: str, measurements: pd.DataFrame) -> bool:
    """The "measure now" controls; True when new rows were written to the store."""
    known = {path: name for name, path in zip(measurements.model, measurements.model_path) if path}
    chosen = chosen_model()
    if chosen is not None:
        known.setdefault(str(chosen.saved.folder), display_name(chosen.saved.folder))
    if not known:
        st.caption("Choose a model in the sidebar to measure it here.")
        return False
    paths = list(known)
    folder = st.selectbox("Model", paths, format_func=lambda path: f"{known[path]} ({path})", key="cmp_measure_model")
    left, right = st.columns(2)
    modes = left.multiselect("Modes", MEASURE_MODES, default=["eager"], key="cmp_measure_modes")
    batches = right.multiselect("Batch sizes", MEASURE_BATCHES, default=[1], key="cmp_measure_batches")
    if not st.button("Measure latency on this machine", key="cmp_measure", disabled=not (modes and batches)):
        return False
    try:
        model = load_model(folder)
        subject = Subject.for_iq(model.saved.model, known[folder], model.window, path=folder)
        with st.spinner(f"Timing {known[folder]} ({len(modes) * len(batches)} points)…"):
            outcome = measure(subject, modes, sorted(batches), "cpu", budget_s=MEASURE_BUDGET_S)
        store = ResultsStore(store_path)
        for row in outcome.measurements:
            store.add_measurement(row)
    except (ValueError, FileNotFoundError) as err:
        st.error(f"Cannot measure {folder}: {err}")
        return False
    for skipped in outcome.skipped:
        st.warning(f"{skipped.mode}: not measured ({skipped.reason})")
    st.success(f"Added {len(outcome.measurements)} measurement(s) of {known[folder]} to {store_path}.")
    return bool(outcome.measurements)


st.title("Model comparison")
store_path = st.text_input("Results store (SQLite, written by `rfnet bench`)", str(default_store_path()),
                           key="cmp_store")
try:
    measurements, evaluations = read_store(store_path)
except (ValueError, FileNotFoundError) as err:
    st.error(f"Cannot read the results store: {err}")
    st.stop()
if measurements.empty and evaluations.empty:
    st.info(f"No results in {store_path} yet. `rfnet bench --model runs/rml16 --out {store_path}` measures a "
            "model and records its accuracy; or measure the model chosen in the sidebar here.")
with st.expander("Measure a model now", expanded=measurements.empty):
    if measure_now(store_path, measurements):
        measurements, evaluations = read_store(store_path)

if not measurements.empty:
    st.subheader("Latency against accuracy")
    devices = sorted(measurements.device.unique())
    batches = sorted(measurements.batch_size.unique())
    left, middle, right = st.columns(3)
    device = left.selectbox("Device", devices, key="cmp_device")
    batch_size = middle.selectbox("Batch size", batches, key="cmp_batch")
    metric = right.radio("Accuracy", [HIGH_SNR, OVERALL], horizontal=True, key="cmp_metric")
    points = chart_points(measurements, latest_accuracy(evaluations, metric), device, int(batch_size))
    if points.empty:
        st.info("No model measured on this device at this batch size has an accuracy in the store.")
    else:
        st.altair_chart(latency_accuracy_chart(points, int(batch_size), metric))
        st.caption("Ringed points, joined by the dashed line, are the Pareto front: no other model is both "
                   "faster and more accurate. Each point is a model's newest measurement in one mode.")
        st.dataframe(points[["model", "mode", "median_ms", "examples_per_s", "accuracy", "on_front"]]
                     .sort_values("median_ms"), hide_index=True, key="cmp_points",
                     column_config={"accuracy": st.column_config.NumberColumn(format="percent"),
                                    "on_front": st.column_config.CheckboxColumn("on the front")})
    unmatched = sorted(set(measurements.model) - set(latest_accuracy(evaluations, metric).dropna().index))
    if unmatched:
        st.caption(f"Measured but without an accuracy ({metric}): {', '.join(unmatched)}.")

if not evaluations.empty:
    st.subheader("Accuracy against SNR")
    curves = snr_curves(evaluations)
    st.line_chart(curves, x="snr_db", y="accuracy", color="model", x_label="SNR (dB)", y_label="accuracy",
                  height=320)

if not measurements.empty:
    st.subheader("Every measurement")
    results_table(measurements, key="cmp_measurements", file_name="rfnet-measurements.csv")
