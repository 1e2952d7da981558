"""``rfnet bench``: measure saved models, add the rows (and their test accuracy) to the results store.

>>> from rfnet.jobs.bench import BenchJob, bench
>>> outcome = bench(BenchJob(models=("run",), modes=("eager", "int8"), batch_sizes=(1, 64), out="r.sqlite"))
>>> print(format_table(outcome))

A model folder is a finetune run folder (``run/``, whose ``best/`` is measured) or a saved model folder
(:func:`rfnet.jobs.run_folder.open_model`). Its input length is ``--num-samples`` if given, else the model's
own (``model.input_spec``). Its display name is the run folder's name (``runs/alexnet`` and
``runs/alexnet/best`` are both ``alexnet``) unless ``--name`` is given. When the run has a finetune report
(``run/report/metrics.json``) its test accuracy is stored too, as an :class:`Evaluation` (the high-SNR
accuracy as the report states it), unless the store already holds the same one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from rfnet.bench.measure import BenchOutcome, Subject, measure
from rfnet.bench.store import MODES, Evaluation, ResultsStore
from rfnet.jobs.run_folder import REPORT_DIR, RunRecord, open_model, read_run_report


@dataclass(frozen=True)
class BenchJob:
    """Settings of one ``rfnet bench``.

    models: model folders; names: display names, one per model (empty: from the folders).
    modes, batch_sizes: what to measure; device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``...
    num_samples: input length for every model (None: each model's own).
    warmup, repeats, budget_s: see :func:`rfnet.bench.timing.time_calls`.
    out: the results store file.
    """

    models: tuple[str, ...]
    out: str
    modes: tuple[str, ...] = MODES
    batch_sizes: tuple[int, ...] = (1, 8, 64, 256)
    device: str = "auto"
    names: tuple[str, ...] = ()
    num_samples: int | None = None
    warmup: int = 3
    repeats: int = 50
    budget_s: float = 5.0


@dataclass(frozen=True)
class BenchModel:
    """A model folder opened for measuring: the subject, its stored accuracy (if any) and notes."""

    subject: Subject
    evaluation: Evaluation | None
    notes: tuple[str, ...]


def open_bench_model(path: str, device: torch.device, num_samples: int | None = None,
                     name: str | None = None) -> BenchModel:
    """Load the classifier in ``path`` onto ``device`` and read its run's test report if it has one.

    Raises ``FileNotFoundError`` / ``ValueError`` (naming the folder) for a folder that holds no
    classifier, or a ``num_samples`` it cannot take.
    """
    opened = open_model(path, device)
    length = opened.input_length(num_samples)
    name = name or opened.name
    model_path = str(opened.folder.resolve())
    evaluation = run_evaluation(opened.run, name, model_path) if opened.run is not None else None
    subject = Subject.for_iq(opened.model, name, length, path=model_path)
    return BenchModel(subject, evaluation, opened.notes if num_samples is None else ())


def run_evaluation(record: RunRecord, name: str, model_path: str) -> Evaluation | None:
    """The run's finetune report (``report/metrics.json``) as an :class:`Evaluation`, or None if absent.

    ``data`` is the run's data source (from ``job.json``) and its test split; the accuracies are the
    report's, its high-SNR mean included (at the report's threshold).
    """
    metrics = read_run_report(record.run)
    if metrics is None:
        return None
    report = record.run / REPORT_DIR
    try:
        by_snr = {float(row["snr_db"]): float(row["accuracy"]) for row in metrics["accuracy_by_snr"]}
        accuracy = float(metrics["accuracy"])
        high = None if metrics["mean_accuracy_high_snr"] is None else float(metrics["mean_accuracy_high_snr"])
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{report}: not a readable rfnet report ({type(err).__name__}: {err})") from None
    source = record.data_source
    return Evaluation(model=name, model_path=model_path,
                      data=f"{source} (test split)" if source else "test split of the run's data",
                      accuracy=accuracy, accuracy_high_snr=None if high is None or math.isnan(high) else high,
                      accuracy_by_snr=by_snr,
                      report_path=str(report.resolve()))


def record_evaluation(store: ResultsStore, evaluation: Evaluation) -> bool:
    """Add ``evaluation`` unless the store holds one with the same values (its time aside). True if added."""
    for known in store.evaluations(evaluation.model):
        if (known.model_path, known.report_path, known.data, known.accuracy, known.accuracy_by_snr) == (
                evaluation.model_path, evaluation.report_path, evaluation.data, evaluation.accuracy,
                evaluation.accuracy_by_snr):
            return False
    store.add_evaluation(evaluation)
    return True


def bench(job: BenchJob, progress: Callable[[str], None] | None = None,
          start: Callable[[int], None] | None = None) -> BenchOutcome:
    """Open every model (all before measuring any, so a bad folder fails fast), measure each, and append
    the rows to ``job.out`` after each model. ``start(total_points)`` is called once before measuring."""
    from rfnet.train.distributed import resolve_device

    if not job.models:
        raise ValueError("--model: give at least one model folder")
    if job.names and len(job.names) != len(job.models):
        raise ValueError(f"--name: {len(job.names)} names for {len(job.models)} models; give one per --model")
    store = ResultsStore(job.out)
    device = resolve_device(job.device)
    names = job.names or (None,) * len(job.models)
    opened = [open_bench_model(path, device, job.num_samples, name) for path, name in zip(job.models, names)]
    if start is not None:
        start(len(opened) * len(job.modes) * len(job.batch_sizes))
    outcome = BenchOutcome()
    for model in opened:
        measured = measure(model.subject, job.modes, job.batch_sizes, device, warmup=job.warmup,
                           repeats=job.repeats, budget_s=job.budget_s, progress=progress)
        for row in measured.measurements:
            store.add_measurement(row)
        if model.evaluation is not None:
            record_evaluation(store, model.evaluation)
        measured.notes.extend(f"{model.subject.name}: {note}" for note in model.notes)
        outcome.extend(measured)
    return outcome


def format_table(outcome: BenchOutcome) -> str:
    """The measurements as a text table, then the skipped modes with why and the peaks used."""
    header = ("model", "mode", "device", "batch", "median_ms", "p90_ms", "p99_ms", "examples/s", "GFLOP/ex", "%peak")
    rows = [(m.model, m.mode, m.device, str(m.batch_size), f"{m.median_ms:.3f}", f"{m.p90_ms:.3f}",
             f"{m.p99_ms:.3f}", f"{m.examples_per_s:.1f}",
             "-" if m.flops_per_example is None else f"{m.flops_per_example / 1e9:.3f}",
             "-" if m.peak_fraction is None else f"{100 * m.peak_fraction:.1f}") for m in outcome.measurements]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) if i < 3 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
             for row in [header, *rows]]
    for skip in outcome.skipped:
        where = "" if skip.batch_size is None else f" at batch {skip.batch_size}"
        lines.append(f"skipped {skip.model} {skip.mode}{where}: {skip.reason}")
    for compute, peak in outcome.peaks.items():
        lines.append(f"peak {compute}: {peak.flops_per_s / 1e9:.1f} GFLOP/s ({peak.source})")
    lines.extend(f"note: {note}" for note in outcome.notes)
    return "\n".join(lines)
