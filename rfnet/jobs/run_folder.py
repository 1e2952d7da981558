"""The finetune run folder, written and read in this one place.

``rfnet finetune --out run`` leaves::

    run/job.json       JOB_FILE: the settings (recipe values filled in), the data source, classes, sizes
    run/splits.npz     SPLITS_FILE: the train / validation / test indices into that data
    run/best/          BEST_DIR: the best model (:func:`rfnet.models.save`, by the training engine)
    run/report/        REPORT_DIR: the test report (:func:`rfnet.evaluation.write_report`)

The jobs that read a model (evaluate, robustness, classify, bench, export, the dashboard) take either the run
folder or a saved model folder; :func:`open_model` resolves one or the other, reads the run's record, and
loads the model, which says itself what it takes (``model.input_spec``). :func:`open_in_class_order` opens
data labelled in a model's class order, and :func:`read_run_report` the run's test report.
"""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from rfnet.data.atomic import atomic_output
from rfnet.evaluation.report import METRICS_FILE
from rfnet.jobs.datasets import DataSpec, LabelledData, open_data
from rfnet.models import load, read_config
from rfnet.models.config import check_num_samples, check_sample_rate
from rfnet.models.io import CONFIG_FILE
from rfnet.train.engine import BEST_DIR

JOB_FILE = "job.json"
SPLITS_FILE = "splits.npz"
REPORT_DIR = "report"
SPLIT_NAMES = ("train", "validation", "test")


@dataclass(frozen=True)
class RunRecord:
    """A run's ``job.json`` (``fields``: the JSON object as written) and ``splits.npz`` (``None`` if absent)."""

    run: Path
    fields: dict
    splits: dict[str, np.ndarray] | None

    @property
    def data_source(self) -> str | None:
        """The data the run trained on (a ``--data`` spec that opens it again), or ``None`` if not recorded."""
        return self.fields.get("data_source")

    def splits_of(self, data: LabelledData) -> dict[str, np.ndarray] | None:
        """The run's split indices when ``data`` is the run's own data (same source, size and class order),
        else ``None``."""
        same = (self.splits is not None and self.fields.get("data_source") == data.source
                and self.fields.get("num_examples") == len(data) and self.fields.get("classes") == list(data.classes))
        return self.splits if same else None


def write_run_record(out: Path, fields: Mapping, splits: Sequence[np.ndarray]) -> None:
    """Write ``job.json`` (``fields``) and ``splits.npz`` (train, validation, test indices) into ``out``, each
    atomically."""
    with atomic_output(out / JOB_FILE) as temporary:
        temporary.write_text(json.dumps(dict(fields), indent=2) + "\n")
    buffer = io.BytesIO()
    np.savez(buffer, **dict(zip(SPLIT_NAMES, splits, strict=True)))
    with atomic_output(out / SPLITS_FILE) as temporary:
        temporary.write_bytes(buffer.getvalue())


def read_run_record(run: Path) -> RunRecord | None:
    """``run``'s record, or ``None`` where there is no ``job.json`` (a bare model folder's parent).

    Raises ``ValueError`` naming the file for a ``job.json`` that is not a JSON object or a ``splits.npz``
    that cannot be read."""
    fields = _json_object(run / JOB_FILE, "run record")
    if fields is None:
        return None
    splits = None
    if (run / SPLITS_FILE).is_file():
        try:
            with np.load(run / SPLITS_FILE) as arrays:
                splits = {name: arrays[name] for name in SPLIT_NAMES}
        except (OSError, ValueError, KeyError) as err:
            raise ValueError(f"{run / SPLITS_FILE}: unreadable run splits ({err})") from None
    return RunRecord(run, fields, splits)


def model_folder(path: str | Path, option: str = "--model") -> tuple[Path, Path | None]:
    """``(saved model folder, run folder or None)`` for ``path``: a run folder gives its ``best/``; a folder
    named ``best`` is a run's. ``FileNotFoundError`` when there is no such folder."""
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"{option} {folder}: no such model folder")
    if not (folder / CONFIG_FILE).exists() and (folder / BEST_DIR).is_dir():
        return folder / BEST_DIR, folder
    return folder, (folder.parent if folder.name == BEST_DIR else None)


def display_name(folder: Path) -> str:
    """A model's short name: its run folder's (``runs/alexnet`` and ``runs/alexnet/best`` are both ``alexnet``)."""
    folder = folder.resolve()
    return folder.parent.name if folder.name == BEST_DIR else folder.name


@dataclass(frozen=True)
class OpenedModel:
    """A saved classifier, loaded, with where it came from.

    model: in eval mode. folder: the saved model folder (``run/best`` for a run folder). run: the run's record,
    if it is a run's model. notes: what was read from elsewhere than the model (an old ``config.json``).
    """

    model: nn.Module
    arch: str
    folder: Path
    run: RunRecord | None
    notes: tuple[str, ...]

    @property
    def name(self) -> str:
        return display_name(self.folder)

    def input_length(self, requested: int | None = None, option: str = "--num-samples") -> int:
        """IQ samples per example to feed the model: ``requested`` (the user's ``option``) if given, else the
        model's own ``num_samples``. ``ValueError`` for a length it cannot take."""
        spec = self.model.input_spec
        if requested is None:
            return spec.num_samples
        if isinstance(requested, bool) or not isinstance(requested, int) or requested < 1:
            raise ValueError(f"{option} must be a positive number of samples, got {requested!r}")
        if spec.fixed_length and requested != spec.num_samples:
            raise ValueError(f"{option} {requested}: model {self.arch!r} in {self.folder} takes exactly "
                             f"{spec.num_samples} samples per example")
        if requested < spec.min_samples:
            raise ValueError(f"{option} {requested}: model {self.arch!r} in {self.folder} takes at least "
                             f"{spec.min_samples} samples per example")
        return requested


def open_model(path: str | Path, device: str | torch.device = "cpu", option: str = "--model") -> OpenedModel:
    """Load the classifier in ``path`` (a run folder or a saved model folder) onto ``device``, in eval mode.

    A ``config.json`` written before models recorded their input length and sample rate loads with the run's
    ``job.json`` values where it has them, and otherwise by the model's own rule for old configs
    (:func:`rfnet.models.classifier.length_for_frontend`); ``notes`` says which.

    Raises ``FileNotFoundError`` (no such folder, no config or weights) or ``ValueError`` (unreadable files,
    a config that does not rebuild, a model without class names), each naming the folder or file.
    """
    folder, run = model_folder(path, option)
    meta = read_config(folder)
    record = read_run_record(run) if run is not None else None
    missing = [key for key in ("num_samples", "sample_rate_hz")
               if "classes" in meta["config"] and key not in meta["config"]]
    recorded = {key: record.fields[key] for key in missing if record is not None and key in record.fields}
    if "num_samples" in recorded:  # a bad value is the run record's fault, not config.json's
        check_num_samples(str(run / JOB_FILE), recorded["num_samples"])
    if "sample_rate_hz" in recorded:
        check_sample_rate(str(run / JOB_FILE), recorded["sample_rate_hz"])
    model = load(folder, device=device, **recorded)
    if not getattr(model, "classes", None) or not hasattr(model, "input_spec"):
        raise ValueError(f"{option} {folder}: {meta['arch']!r} is not a signal classifier (it has no class names)")
    notes = []
    if "num_samples" in missing:
        source = f"{run / JOB_FILE}" if "num_samples" in recorded else \
            f"its front end (n_fft={model.frontend.config.n_fft})"
        notes.append(f"{folder / CONFIG_FILE} records no input length (saved by an older rfnet); using "
                     f"{model.input_spec.num_samples} samples from {source}; give the length if it was "
                     "trained on another")
    return OpenedModel(model.eval(), meta["arch"], folder, record, tuple(notes))


def open_in_class_order(spec: DataSpec, classes: Sequence[str], folder: str | Path | None = None) -> LabelledData:
    """``open_data(spec, folder)``, labelled in ``classes``' order (a model's) when the data has the same class
    names in another order and ``spec`` chooses none."""
    data = open_data(spec, folder)
    if spec.classes is None and sorted(data.classes) == sorted(classes) and list(data.classes) != list(classes):
        data = open_data(dataclasses.replace(spec, classes=tuple(classes)), folder)
    return data


def read_run_report(run: Path) -> dict | None:
    """The run's test report (``report/metrics.json``, see :func:`rfnet.evaluation.compute_metrics`), or
    ``None`` if it has none. ``ValueError`` naming the file when it is not a JSON object."""
    return _json_object(run / REPORT_DIR / METRICS_FILE, "rfnet report")


def _json_object(path: Path, what: str) -> dict | None:
    """The JSON object in ``path``, ``None`` if there is no such file, or a ``ValueError`` naming the file."""
    if not path.is_file():
        return None
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: not valid JSON, so not a readable {what} ({err})") from None
    if not isinstance(value, dict):
        raise ValueError(f"{path}: not a readable {what} (expected a JSON object)")
    return value
