"""The results store: every latency measurement and accuracy evaluation, kept in one SQLite file.

>>> from rfnet.bench.store import ResultsStore, default_store_path
>>> store = ResultsStore(default_store_path())      # $RFNET_RESULTS, else ./rfnet-results.sqlite
>>> store.measurements("alexnet")                    # list[Measurement], oldest first
>>> store.evaluations()                              # list[Evaluation], oldest first

Rows are only ever appended: measuring a model again adds rows beside the old ones, so the history of a
model on a machine stays readable. The file is created by the first ``add_*``; reading a store whose file
does not exist yet gives empty lists (a reader never creates files). Timing columns are milliseconds per
*batch*; ``examples_per_s`` is ``batch_size / median``. ``created`` is ISO-8601 in UTC.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path

STORE_ENV = "RFNET_RESULTS"
DEFAULT_STORE_FILE = "rfnet-results.sqlite"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 30.0
"""How long a writer waits for another process's write to the same store to finish, in seconds."""

MODES = ("eager", "compile", "channels_last", "bf16", "fp16", "cuda_graphs", "int8", "onnxruntime")
"""Execution modes a measurement can name (see :mod:`rfnet.bench.modes`)."""
DEVICES = ("cpu", "cuda")


def utc_now() -> str:
    """The current time as ISO-8601 in UTC, to the second (``2026-11-23T12:15:08+00:00``)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def default_store_path() -> Path:
    """``$RFNET_RESULTS`` if set, else ``rfnet-results.sqlite`` in the current folder."""
    return Path(os.environ.get(STORE_ENV) or DEFAULT_STORE_FILE)


@dataclass(frozen=True)
class Measurement:
    """One timing of one model in one mode at one batch size.

    model: display name (e.g. ``"alexnet"``, ``"vtcnn2"``); model_path: the folder it was loaded from
        (``""`` for a model built in memory); arch: its registry name (``"spectrogram_classifier"``).
    mode: one of :data:`MODES`; device: ``"cpu"`` or ``"cuda"``; batch_size: examples per forward pass.
    median_ms, p90_ms, p99_ms: wall time of one forward pass of the whole batch, in milliseconds.
    examples_per_s: throughput, ``batch_size / (median_ms / 1000)``.
    flops_per_example: floating-point operations of one example's forward pass (a multiply-add counts 2),
        or None where they could not be counted.
    peak_fraction: achieved FLOP/s over the machine's peak FLOP/s, or None where no peak is known.
    machine: a one-line description of the CPU / GPU; versions: ``{"rfnet", "torch", "python", ...}``.
    """

    model: str
    model_path: str
    arch: str
    mode: str
    device: str
    batch_size: int
    median_ms: float
    p90_ms: float
    p99_ms: float
    examples_per_s: float
    flops_per_example: float | None
    peak_fraction: float | None
    machine: str
    versions: dict[str, str]
    created: str = field(default_factory=utc_now)


@dataclass(frozen=True)
class Evaluation:
    """The accuracy of one model on some data.

    data: what it was evaluated on (a file, a preset, a split description); accuracy: fraction correct
    over all examples; accuracy_high_snr: mean of the per-SNR accuracies at SNR >= 10 dB (None where the
    data has none); accuracy_by_snr: ``{snr_db: accuracy}``; report_path: the report folder it came from.
    """

    model: str
    model_path: str
    data: str
    accuracy: float
    accuracy_high_snr: float | None
    accuracy_by_snr: dict[float, float]
    report_path: str
    created: str = field(default_factory=utc_now)


_SQL_TYPES = {"model": "TEXT", "model_path": "TEXT", "arch": "TEXT", "mode": "TEXT", "device": "TEXT",
              "batch_size": "INTEGER", "machine": "TEXT", "versions": "TEXT", "created": "TEXT", "data": "TEXT",
              "accuracy_by_snr": "TEXT", "report_path": "TEXT"}
_JSON_COLUMNS = ("versions", "accuracy_by_snr")
_TABLES = {"measurements": Measurement, "evaluations": Evaluation}


def _columns(kind: type) -> list[str]:
    return [f.name for f in fields(kind)]


def _create_sql(table: str, kind: type) -> str:
    columns = ", ".join(f"{name} {_SQL_TYPES.get(name, 'REAL')}" for name in _columns(kind))
    return f"CREATE TABLE IF NOT EXISTS {table} (id INTEGER PRIMARY KEY AUTOINCREMENT, {columns})"


class ResultsStore:
    """Append-only SQLite store of :class:`Measurement` and :class:`Evaluation` rows (stdlib ``sqlite3``).

    Raises ``ValueError`` naming the file when it is not an SQLite database or holds other tables than
    the store's (or the store's with other columns), and ``FileNotFoundError`` when its folder is missing.
    Each call opens and closes its own connection, so one store object may be shared across threads.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise ValueError(f"results store {self.path}: is a folder, not an SQLite file")
        if self.path.exists():
            with self._connect(create=False) as connection:
                self._check_schema(connection)

    def add_measurement(self, m: Measurement) -> int:
        """Append one measurement; returns its row id."""
        _check_measurement(m)
        return self._insert("measurements", m)

    def add_evaluation(self, e: Evaluation) -> int:
        """Append one evaluation; returns its row id."""
        _check_evaluation(e)
        return self._insert("evaluations", e)

    def measurements(self, model: str | None = None) -> list[Measurement]:
        """All measurements (of display name ``model`` if given), oldest first."""
        return self._select("measurements", model)

    def evaluations(self, model: str | None = None) -> list[Evaluation]:
        """All evaluations (of display name ``model`` if given), oldest first."""
        return self._select("evaluations", model)

    def __repr__(self) -> str:
        return f"ResultsStore({str(self.path)!r})"

    @contextmanager
    def _connect(self, create: bool) -> Iterator[sqlite3.Connection]:
        """A connection inside one transaction: committed on success, rolled back on error.

        A writer (``create``) takes the write lock first (``BEGIN IMMEDIATE``), so the check for an empty
        database and the creation of its tables are one step: several processes creating one new store at
        once all find it created by whichever came first, and none of their rows is lost. Another
        writer's lock is waited for up to :data:`BUSY_TIMEOUT_S`.
        """
        if create and not self.path.parent.is_dir():
            raise FileNotFoundError(f"results store {self.path}: folder {self.path.parent} does not exist")
        mode = "rwc" if create else "rw"
        try:
            with closing(sqlite3.connect(f"{self.path.resolve().as_uri()}?mode={mode}", uri=True,
                                         timeout=BUSY_TIMEOUT_S, isolation_level=None)) as connection:
                connection.execute("BEGIN IMMEDIATE" if create else "BEGIN")
                try:
                    yield connection
                    connection.execute("COMMIT")
                finally:
                    if connection.in_transaction:
                        connection.execute("ROLLBACK")
        except sqlite3.DatabaseError as err:
            raise ValueError(f"results store {self.path}: not a readable SQLite results store ({err})") from None

    def _check_schema(self, connection: sqlite3.Connection) -> bool:
        """False for an empty database; True when it holds exactly the store's tables and columns; otherwise
        ``ValueError``."""
        found = {name for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")}
        if not found:
            return False
        (version,) = connection.execute("PRAGMA user_version").fetchone()
        if found != set(_TABLES) or version != SCHEMA_VERSION:
            raise ValueError(f"results store {self.path}: an SQLite file, but not an rfnet results store of "
                             f"schema {SCHEMA_VERSION} (tables {sorted(found)}, schema version {version})")
        for table, kind in _TABLES.items():
            columns = [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]
            if columns != ["id", *_columns(kind)]:
                raise ValueError(f"results store {self.path}: table {table} has columns {columns}, "
                                 f"expected {['id', *_columns(kind)]}")
        return True

    def _insert(self, table: str, row: Measurement | Evaluation) -> int:
        names = _columns(type(row))
        values = [_to_sql(name, getattr(row, name)) for name in names]
        with self._connect(create=True) as connection:  # holds the write lock: one process creates the tables
            if not self._check_schema(connection):
                for name, kind in _TABLES.items():
                    connection.execute(_create_sql(name, kind))
                connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            cursor = connection.execute(
                f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})", values)
            return int(cursor.lastrowid)

    def _select(self, table: str, model: str | None) -> list:
        if not self.path.exists():
            return []
        kind = _TABLES[table]
        names = _columns(kind)
        query = f"SELECT {', '.join(names)} FROM {table}"
        with self._connect(create=False) as connection:
            if not self._check_schema(connection):  # created by a writer that has not committed its tables
                return []
            if model is None:
                rows = connection.execute(f"{query} ORDER BY id").fetchall()
            else:
                rows = connection.execute(f"{query} WHERE model = ? ORDER BY id", (model,)).fetchall()
        return [kind(**{name: _from_sql(name, value) for name, value in zip(names, row)}) for row in rows]


def _to_sql(name: str, value):
    if name == "accuracy_by_snr":
        return json.dumps({repr(float(snr)): float(acc) for snr, acc in value.items()})
    if name == "versions":
        return json.dumps({str(k): str(v) for k, v in value.items()}, sort_keys=True)
    return value


def _from_sql(name: str, value):
    if name == "accuracy_by_snr":
        return {float(snr): acc for snr, acc in json.loads(value).items()}
    if name == "versions":
        return json.loads(value)
    return value


def _positive(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def _fraction(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0.0 <= value <= 1.0


def _check_measurement(m: Measurement) -> None:
    if m.mode not in MODES:
        raise ValueError(f"measurement mode {m.mode!r}: choose one of {list(MODES)}")
    if m.device not in DEVICES:
        raise ValueError(f"measurement device {m.device!r}: choose one of {list(DEVICES)}")
    if isinstance(m.batch_size, bool) or not isinstance(m.batch_size, int) or m.batch_size < 1:
        raise ValueError(f"measurement batch_size must be a positive integer, got {m.batch_size!r}")
    for name in ("median_ms", "p90_ms", "p99_ms", "examples_per_s"):
        if not _positive(getattr(m, name)):
            raise ValueError(f"measurement {name} must be a positive number, got {getattr(m, name)!r}")
    if not m.median_ms <= m.p90_ms <= m.p99_ms:
        raise ValueError(f"measurement percentiles out of order: median {m.median_ms}, p90 {m.p90_ms}, "
                         f"p99 {m.p99_ms} ms")
    for name in ("flops_per_example", "peak_fraction"):
        value = getattr(m, name)
        if value is not None and not _positive(value):
            raise ValueError(f"measurement {name} must be a positive number or None, got {value!r}")


def _check_evaluation(e: Evaluation) -> None:
    if not _fraction(e.accuracy):
        raise ValueError(f"evaluation accuracy must be a fraction in [0, 1], got {e.accuracy!r}")
    if e.accuracy_high_snr is not None and not _fraction(e.accuracy_high_snr):
        raise ValueError(f"evaluation accuracy_high_snr must be a fraction in [0, 1] or None, "
                         f"got {e.accuracy_high_snr!r}")
    if not all(_fraction(acc) for acc in e.accuracy_by_snr.values()):
        raise ValueError("evaluation accuracy_by_snr values must be fractions in [0, 1]")
