"""SigMF recordings (``.sigmf-meta`` + ``.sigmf-data`` pairs, or ``.sigmf`` archives), through ``sigmf``.

Reading: :func:`open_sigmf` checks a recording (:mod:`rfnet.data.sigmf_checks`: uncompressed archives,
bounded metadata, a known datatype the data fit in size and statistics, one channel, the SHA-512 if the
metadata has one; then annotations inside the data) and gives its sample rate, centre frequency and
annotations; :class:`SigMFWindows` cuts annotated recordings into labelled fixed-length windows
(annotation ``core:label`` → class). Fixed-point data are scaled to [-1, 1) by ``sigmf``; real-valued
data become complex with zero imaginary part. A datatype that lies (``ci16_le`` over ``cf32_le`` bytes, or
the reverse) is refused when the sampled bytes show it (see
:func:`rfnet.data.sigmf_checks.datatype_misfit`); otherwise it is caught when it yields NaN/Inf samples,
which every window read refuses.

Writing: :class:`SigMFWriter` streams examples into one ``cf32_le`` recording, one annotation per example
(``core:label`` plus ``rfnet:snr_db``), with the class list in the global ``rfnet:classes`` so a reader
gets the label order back. The ``rfnet`` extension is declared in ``core:extensions``.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema
import numpy as np
import sigmf
import torch
from sigmf.error import SigMFError
from sigmf.sigmffile import get_sigmf_filenames
from torch.utils.data import Dataset

from rfnet import __version__
from rfnet.data.atomic import temporary_sibling
from rfnet.data.limits import MAX_EXAMPLES
from rfnet.data.sigmf_checks import CLASSES_KEY, SNR_KEY, check_recording

_EXTENSION = {"name": "rfnet", "version": __version__, "optional": True}


@dataclass(frozen=True)
class Annotation:
    """One annotated segment: samples ``[start, start + count)``, its label (or None) and all its fields."""

    start: int
    count: int
    label: str | None
    metadata: dict = field(repr=False)


class SigMFRecording:
    """A checked single-channel SigMF recording.

    Attributes:
        path: the file given (meta, data or archive).
        datatype: SigMF datatype string, e.g. ``ci16_le``.
        sample_rate_hz: ``core:sample_rate`` or None.
        center_frequency_hz: ``core:frequency`` of the first capture or None.
        num_samples: complex samples in the data.
        annotations: in the file's order.
        captures: the metadata's ``captures`` objects.
        global_info: the metadata's ``global`` object.
    """

    def __init__(self, path: Path, handle: sigmf.SigMFFile):
        self.path = path
        self._handle = handle
        self.global_info = handle.get_global_info()
        self.datatype = self.global_info["core:datatype"]
        self.sample_rate_hz = self.global_info.get("core:sample_rate")
        captures = handle.get_captures()
        self.captures = tuple(captures)
        self.center_frequency_hz = captures[0].get("core:frequency") if captures else None
        self.num_samples = int(handle.sample_count)
        self.annotations = tuple(
            Annotation(
                start=int(item["core:sample_start"]),
                count=int(item.get("core:sample_count", self.num_samples - item["core:sample_start"])),
                label=item.get("core:label"),
                metadata=item,
            )
            for item in handle.get_annotations()
        )

    def copy_sample_bytes(self, destination: Path, chunk_bytes: int = 1 << 24) -> None:
        """Write the samples as stored (same datatype, no container header) to ``destination``,
        ``chunk_bytes`` at a time."""
        size = self.num_samples * sigmf.sigmffile.dtype_info(self.datatype)["sample_size"]
        handle = self._handle  # data_file is the .sigmf-data, or the (uncompressed) archive itself
        with open(destination, "wb") as target:
            with open(handle.data_file, "rb") as source:
                source.seek(handle.data_offset)
                remaining = size
                while remaining:
                    chunk = source.read(min(remaining, chunk_bytes))
                    if not chunk:
                        raise ValueError(f"{self.path}: data ends before its {self.num_samples} samples")
                    target.write(chunk)
                    remaining -= len(chunk)

    def read(self, start: int = 0, count: int | None = None) -> torch.Tensor:
        """Samples ``[start, start + count)`` as complex64 ``[count]`` (fixed point scaled to [-1, 1)).

        Raises:
            ValueError: the range leaves the recording, or the samples hold NaN/Inf.
        """
        count = self.num_samples - start if count is None else count
        if start < 0 or count <= 0 or start + count > self.num_samples:
            raise ValueError(f"{self.path}: samples [{start}, {start + count}) outside 0..{self.num_samples}")
        samples = np.asarray(self._handle.read_samples(start_index=start, count=count))
        if not np.isfinite(samples).all():
            raise ValueError(
                f"{self.path}: samples [{start}, {start + count}) hold NaN or Inf (wrong core:datatype?)"
            )
        return torch.from_numpy(samples.astype(np.complex64, copy=False))


def _check_annotations(meta_file: Path, recording: SigMFRecording) -> None:
    for annotation in recording.annotations:
        if annotation.start + annotation.count > recording.num_samples:
            raise ValueError(
                f"{meta_file}: data does not fit core:datatype {recording.datatype}: annotation "
                f"[{annotation.start}, {annotation.start + annotation.count}) reaches past the "
                f"{recording.num_samples} samples in the data"
            )


def open_sigmf(path: str | os.PathLike, *, verify_checksum: bool = True) -> SigMFRecording:
    """Open and check a SigMF recording.

    Args:
        path: ``x.sigmf-meta``, ``x.sigmf-data``, ``x`` (the pair's stem) or ``x.sigmf`` (an uncompressed
            tar archive).
        verify_checksum: compare the data with ``core:sha512`` when the metadata has one (reads it all).

    Raises:
        FileNotFoundError: no such recording.
        ValueError: what :func:`rfnet.data.sigmf_checks.check_recording` refuses (compressed or broken
            archives, unreadable or oversized metadata, an unknown datatype or one the data do not fit,
            several channels, malformed sizes, a checksum mismatch), metadata ``sigmf`` finds invalid, or
            annotations past the end of the data.
    """
    path = Path(path)
    checked = check_recording(path, verify_checksum=verify_checksum)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            handle = sigmf.fromfile(checked.source, skip_checksum=True)
            handle.validate()
        except (SigMFError, jsonschema.ValidationError, ValueError, KeyError, TypeError, OSError,
                RecursionError) as err:
            message = getattr(err, "message", None) or str(err)
            raise ValueError(f"{checked.source}: not a valid SigMF recording: {message}") from None
    datatype = handle.get_global_field("core:datatype")
    size_warnings = [str(w.message) for w in caught if "integer number of samples" in str(w.message)]
    if size_warnings:
        raise ValueError(f"{checked.source}: data does not fit core:datatype {datatype}: {size_warnings[0]}")
    recording = SigMFRecording(path, handle)
    _check_annotations(checked.source, recording)
    return recording


class SigMFWindows(Dataset):
    """Fixed-length labelled windows cut from the annotated segments of SigMF recordings.

    Each annotation with a label in ``classes`` yields windows of ``length`` samples starting at its first
    sample, every ``hop`` samples, that lie wholly inside it. Items are
    ``(iq complex64 [length], label, snr_db)``; ``snr_db`` is the annotation's ``rfnet:snr_db`` or NaN.

    Args:
        paths: one recording or several (see :func:`open_sigmf` for the forms accepted).
        length: samples per window.
        hop: samples between window starts (default ``length``: no overlap).
        classes: labels to keep, in label order. Default: the ``rfnet:classes`` of the first recording
            if it has one, else every label found, sorted.
        label_map: rename annotation labels before matching them to ``classes`` (e.g. vendor names).

    Attributes:
        classes, labels (int64 ``[M]``), example_snrs (float64 ``[M]``), groups (int64 ``[M]``: which
        recording each window comes from, for :func:`rfnet.data.splits.group_split`), paths,
        sample_rate_hz (the recordings' ``core:sample_rate`` when they all state the same one, else None).

    Checksums are not verified here (that reads every byte; use :func:`open_sigmf` for it). Safe with
    ``DataLoader(num_workers > 0)``: recordings (memory maps) are reopened in each process, never pickled.
    """

    def __init__(
        self,
        paths: str | os.PathLike | Sequence[str | os.PathLike],
        length: int,
        *,
        hop: int | None = None,
        classes: Sequence[str] | None = None,
        label_map: dict[str, str] | None = None,
    ):
        if length <= 0 or (hop is not None and hop <= 0):
            raise ValueError(f"length ({length}) and hop ({hop}) must be positive")
        hop = length if hop is None else hop
        paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
        self.paths = [Path(p) for p in paths]
        recordings = [open_sigmf(p, verify_checksum=False) for p in self.paths]
        self.length = length
        rates = {recording.sample_rate_hz for recording in recordings}
        self.sample_rate_hz = float(rates.pop()) if len(rates) == 1 and None not in rates else None
        label_map = label_map or {}
        if classes is None:
            first_global = recordings[0].global_info
            found = {label_map.get(a.label, a.label) for r in recordings for a in r.annotations if a.label}
            classes = first_global.get(CLASSES_KEY) or sorted(found)
        self.classes = tuple(classes)
        segments = []  # (recording, window starts, label, snr) per usable annotation
        for index, recording in enumerate(recordings):
            for annotation in recording.annotations:
                name = label_map.get(annotation.label, annotation.label)
                if name not in self.classes:
                    continue
                end = min(annotation.start + annotation.count, recording.num_samples)
                starts = range(annotation.start, end - length + 1, hop)
                segments.append((index, starts, self.classes.index(name),
                                 float(annotation.metadata.get(SNR_KEY, math.nan))))
        counts = [len(starts) for _, starts, _, _ in segments]
        if sum(counts) > MAX_EXAMPLES:  # counted before any window is made
            raise ValueError(f"{paths[0]}: more than {MAX_EXAMPLES} windows of {length} samples every {hop} "
                             "(overlapping annotations?); use a longer hop")
        if sum(counts) == 0:
            raise ValueError(
                f"{paths[0]}: no annotated segment of {length}+ samples with a label in {list(self.classes)}"
            )
        self.groups = np.repeat([index for index, _, _, _ in segments], counts).astype(np.int64)
        self.starts = np.concatenate([np.arange(r.start, r.stop, r.step, dtype=np.int64)
                                      for _, r, _, _ in segments])
        self.labels = np.repeat([label for _, _, label, _ in segments], counts).astype(np.int64)
        self.example_snrs = np.repeat([snr for _, _, _, snr in segments], counts).astype(np.float64)
        self._recordings, self._recordings_pid = recordings, os.getpid()

    def _recording(self, index: int) -> SigMFRecording:
        if self._recordings is None or self._recordings_pid != os.getpid():
            self._recordings = [open_sigmf(p, verify_checksum=False) for p in self.paths]
            self._recordings_pid = os.getpid()
        return self._recordings[index]

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_recordings"] = None
        return state

    @property
    def snrs(self) -> list[float]:
        """Sorted unique SNRs in dB (NaN where annotations carry none)."""
        return np.unique(self.example_snrs).tolist()

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int, float]:
        recording = self._recording(int(self.groups[index]))
        iq = recording.read(int(self.starts[index]), self.length)
        snr = float(self.example_snrs[index])
        return iq, int(self.labels[index]), int(snr) if snr.is_integer() else snr


class SigMFWriter:
    """Stream labelled examples into one SigMF recording (``cf32_le``), atomically.

    The examples lie back to back; annotation *k* covers example *k* with ``core:label`` (class name)
    and ``rfnet:snr_db``. Output is a ``.sigmf-meta``/``.sigmf-data`` pair, or a ``.sigmf`` archive when
    ``path`` ends in ``.sigmf``. Data are written chunk by chunk to a temporary file; the metadata is
    validated with ``sigmf`` before anything appears under the final names (data first, then metadata).
    The annotation list is held in memory (a few hundred bytes per example), so SigMF suits datasets of
    up to a few hundred thousand examples; use HDF5 for RadioML-2018-sized ones.

    Args:
        path: ``x.sigmf-meta`` (or ``x``) for a pair, ``x.sigmf`` for an archive.
        classes: class names in label order (stored as ``rfnet:classes``).
        sample_rate_hz: ``core:sample_rate``.
        center_frequency_hz: ``core:frequency`` of the single capture (0 for baseband).
        description: ``core:description``.
        extra_global: more global fields (keys namespaced ``rfnet:``).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        classes: Sequence[str],
        sample_rate_hz: float,
        center_frequency_hz: float = 0.0,
        description: str = "",
        extra_global: dict | None = None,
    ):
        self.path = Path(path)
        self.classes = tuple(classes)
        self.sample_rate_hz = float(sample_rate_hz)
        self.center_frequency_hz = float(center_frequency_hz)
        self.description = description
        self.extra_global = dict(extra_global or {})
        self._annotations: list[dict] = []
        self._next_sample = 0

    def __enter__(self) -> "SigMFWriter":
        self._data_temporary = temporary_sibling(self.path, suffix=".sigmf-data")
        self._data = open(self._data_temporary, "wb")
        return self

    def write(self, iq: torch.Tensor, labels: np.ndarray, snrs: np.ndarray) -> None:
        """Append examples: complex64 ``[n, samples]``, int ``[n]`` labels, ``[n]`` SNRs (dB)."""
        iq = iq.detach().to(torch.complex64).cpu().resolve_conj()
        self._data.write(iq.numpy().astype("<c8", copy=False).tobytes())
        length = iq.shape[1]
        for label, snr in zip(np.asarray(labels).tolist(), np.asarray(snrs).tolist()):
            self._annotations.append(
                {
                    "core:sample_start": self._next_sample,
                    "core:sample_count": length,
                    "core:label": self.classes[label],
                    SNR_KEY: snr,
                }
            )
            self._next_sample += length

    def _metadata(self) -> dict:
        global_info = {
            "core:datatype": "cf32_le",
            "core:version": sigmf.__specification__,
            "core:sample_rate": self.sample_rate_hz,
            "core:description": self.description,
            "core:recorder": f"rfnet {__version__}",
            "core:extensions": [_EXTENSION],
            CLASSES_KEY: list(self.classes),
            **self.extra_global,
        }
        captures = [{"core:sample_start": 0, "core:frequency": self.center_frequency_hz}]
        return {"global": global_info, "captures": captures, "annotations": self._annotations}

    def __exit__(self, exc_type, exc, traceback) -> None:
        archive_temporary = None
        meta_temporary = None
        try:
            self._data.close()
            if exc_type is not None:
                return
            handle = sigmf.SigMFFile(metadata=self._metadata(), data_file=self._data_temporary)
            handle.validate()
            names = get_sigmf_filenames(self.path)
            if self.path.name.endswith(".sigmf"):
                archive_temporary = temporary_sibling(self.path)
                with open(archive_temporary, "wb") as archive:
                    handle.archive(name=names["base_fn"].name, fileobj=archive)
                os.replace(archive_temporary, names["archive_fn"])
            else:
                meta_temporary = temporary_sibling(names["meta_fn"])
                with open(meta_temporary, "w", encoding="utf-8") as meta:
                    handle.dump(meta)
                    meta.write("\n")
                os.replace(self._data_temporary, names["data_fn"])
                os.replace(meta_temporary, names["meta_fn"])
        finally:
            for temporary in (self._data_temporary, archive_temporary, meta_temporary):
                if temporary is not None:
                    temporary.unlink(missing_ok=True)
