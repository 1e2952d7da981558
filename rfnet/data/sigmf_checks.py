"""What a SigMF recording must pass before the ``sigmf`` library reads it.

``sigmf`` trusts its input: a gzip-compressed tar named ``x.sigmf`` makes its checksum loop read past the
end of the file forever, ``core:num_channels: 0`` divides by zero, ``core:trailing_bytes: "abc"`` fails
inside ``int()``, metadata nested 200,000 deep overflows the stack. So :func:`check_recording` reads the
metadata and locates the data itself, within bounds, and refuses with one ``ValueError`` naming the file:

- **archives** (``.sigmf``): an uncompressed tar only (gzip, bzip2, xz, zstd and zip are refused: unpack
  them first), holding a ``.sigmf-meta`` and a ``.sigmf-data`` member whose bytes lie inside the file;
- **metadata**: UTF-8 JSON of at most :data:`~rfnet.data.limits.MAX_SIGMF_METADATA_BYTES`, nested at most
  :data:`~rfnet.data.limits.MAX_JSON_DEPTH` deep, a known ``core:datatype``, a single channel,
  whole, non-negative numbers wherever sizes and sample indices go, class names (``rfnet:classes``)
  that are text, and SNRs (``rfnet:snr_db``) that are numbers within
  ±:data:`~rfnet.data.limits.MAX_ABS_SNR_DB` dB;
- **data size**: a whole number of samples of the declared datatype;
- **datatype plausibility** (:func:`datatype_misfit`): the data, sampled in blocks spread over the
  file, must look like what ``core:datatype`` says;
- **checksum** (``core:sha512``, when asked): computed over exactly the data's bytes, never past them.
"""

from __future__ import annotations

import hashlib
import json
import re
import reprlib
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sigmf.sigmffile import dtype_info, get_sigmf_filenames

from rfnet.data.limits import MAX_ABS_SNR_DB, MAX_JSON_DEPTH, MAX_SIGMF_METADATA_BYTES

#: Global key holding the class names in label order (rfnet-written recordings).
CLASSES_KEY = "rfnet:classes"
#: Annotation key holding an example's SNR in dB (rfnet-written recordings).
SNR_KEY = "rfnet:snr_db"
#: Datatypes ``sigmf`` reads: complex/real, float/int/unsigned, with optional byte order.
_DATATYPE = re.compile(r"(c|r)(f32|f64|i32|i16|u32|u16|i8|u8)(_le|_be)?")
#: Leading bytes of compressed files a ``.sigmf`` archive must not be.
_COMPRESSED_MAGIC = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz", b"\x28\xb5\x2f\xfd": "zstd",
                     b"PK\x03\x04": "zip"}
#: Datatype plausibility: blocks of this many bytes, at most this many, spread evenly over the data.
_SAMPLE_BLOCK_BYTES = 4096
_SAMPLE_BLOCKS = 16
#: Fewer non-zero words than this in the sampled blocks: too little evidence to judge a datatype.
_MIN_WORDS = 256
#: A word "looks like a float" when it is a finite float of magnitude within 2**±40 (any signal level a
#: receiver or simulation writes). Fixed-point data declared over float bytes shows mostly such words;
#: real fixed-point data rarely does (see :func:`datatype_misfit`).
_FLOAT_LOOKING_EXPONENT = 40
_FLOAT_LOOKING_SHARE = 0.95
_SHIFTED_FLOAT_LOOKING_SHARE = 0.8
#: Float data whose words mostly lie beyond 2**±100 (or are NaN/Inf) is not float data.
_FLOAT_WILD_EXPONENT = 100
_FLOAT_WILD_SHARE = 0.5
_HASH_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class DataRegion:
    """Where a recording's data lie: ``size`` bytes of ``file`` from byte ``offset``."""

    file: Path
    offset: int
    size: int

    def read(self, start: int, count: int) -> bytes:
        """Up to ``count`` bytes from ``start`` (relative to the region), never past its end."""
        count = max(0, min(count, self.size - start))
        with open(self.file, "rb") as handle:
            handle.seek(self.offset + start)
            return handle.read(count)


@dataclass(frozen=True)
class CheckedRecording:
    """A recording that passed :func:`check_recording`.

    Attributes:
        source: the file to give ``sigmf.fromfile`` (the ``.sigmf-meta`` of a pair, or the archive).
        metadata: the parsed metadata (``global``, ``captures``, ``annotations``).
        data: where the data bytes lie.
    """

    source: Path
    metadata: dict
    data: DataRegion


def sigmf_files(path: Path) -> tuple[Path, Path | None]:
    """The metadata (or archive) file for ``path`` and its data file (None for an archive)."""
    names = get_sigmf_filenames(path)
    if path.name.endswith(".sigmf") or (not names["meta_fn"].is_file() and names["archive_fn"].is_file()):
        if not names["archive_fn"].is_file():
            raise FileNotFoundError(f"{path}: no such SigMF archive")
        return names["archive_fn"], None
    if not names["meta_fn"].is_file():
        raise FileNotFoundError(f"{path}: no SigMF metadata file {names['meta_fn'].name}")
    return names["meta_fn"], names["data_fn"]


def check_datatype(path: Path, datatype: object) -> None:
    """Refuse a ``core:datatype`` that ``sigmf`` cannot read."""
    if not isinstance(datatype, str) or not _DATATYPE.fullmatch(datatype):
        raise ValueError(
            f"{path}: unknown core:datatype {datatype!r}; expected e.g. cf32_le, ci16_le, ci8, cu8 "
            "(pattern (c|r)(f32|f64|i32|i16|u32|u16|i8|u8)(_le|_be))"
        )


def _exceeds_depth(value: object, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, depth + 1) for child in children)
    return False


def _parse_metadata(path: Path, text: bytes) -> dict:
    try:
        metadata = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: not valid SigMF metadata JSON: {err!r}") from None
    except RecursionError:
        raise ValueError(f"{path}: not valid SigMF metadata JSON: nested too deeply") from None
    if _exceeds_depth(metadata, MAX_JSON_DEPTH):
        raise ValueError(f"{path}: SigMF metadata nested deeper than {MAX_JSON_DEPTH} levels")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("global"), dict):
        raise ValueError(f"{path}: not valid SigMF metadata JSON: no \"global\" object")
    return metadata


def _read_metadata_file(path: Path) -> dict:
    if path.stat().st_size > MAX_SIGMF_METADATA_BYTES:
        raise ValueError(f"{path}: metadata of {path.stat().st_size} bytes, more than the "
                         f"{MAX_SIGMF_METADATA_BYTES} allowed")
    return _parse_metadata(path, path.read_bytes())


def _read_archive(archive: Path) -> tuple[dict, DataRegion]:
    """The metadata of an uncompressed ``.sigmf`` tar and where its data member lies."""
    size = archive.stat().st_size
    if size == 0:
        raise ValueError(f"{archive}: empty file, not a SigMF archive")
    with open(archive, "rb") as handle:
        head = handle.read(8)
    for magic, kind in _COMPRESSED_MAGIC.items():
        if head.startswith(magic):
            raise ValueError(f"{archive}: a {kind}-compressed file; a .sigmf archive is an uncompressed tar "
                             f"(unpack it, e.g. with tar xf, and give the .sigmf-meta)")
    try:
        with tarfile.open(archive, "r:") as tar:
            members = [member for member in tar.getmembers() if member.isfile()]
            metas = [member for member in members if member.name.endswith(".sigmf-meta")]
            datas = [member for member in members if member.name.endswith(".sigmf-data")]
            if len(metas) != 1 or len(datas) != 1:
                raise ValueError(f"{archive}: a SigMF archive holds one .sigmf-meta and one .sigmf-data; "
                                 f"this one has {len(metas)} and {len(datas)}")
            meta, data = metas[0], datas[0]
            for member in (meta, data):
                if member.offset_data + member.size > size:
                    raise ValueError(f"{archive}: truncated: {member.name} ends past the end of the file")
            if meta.size > MAX_SIGMF_METADATA_BYTES:
                raise ValueError(f"{archive}: metadata of {meta.size} bytes, more than the "
                                 f"{MAX_SIGMF_METADATA_BYTES} allowed")
            text = tar.extractfile(meta).read()
    except (tarfile.TarError, EOFError, OSError) as err:
        raise ValueError(f"{archive}: not a readable SigMF archive (an uncompressed tar): {err}") from None
    return _parse_metadata(archive, text), DataRegion(archive, data.offset_data, data.size)


def _whole_number(path: Path, where: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{path}: {where} is {value!r}; expected a whole number >= {minimum}")
    return value


def _check_fields(path: Path, metadata: dict) -> None:
    """Datatype, one channel, and whole non-negative numbers where sizes and sample indices go."""
    global_info = metadata["global"]
    check_datatype(path, global_info.get("core:datatype"))
    channels = _whole_number(path, "core:num_channels", global_info.get("core:num_channels", 1), 1)
    if channels != 1:
        raise ValueError(f"{path}: {channels} channels; only single-channel recordings are supported")
    _whole_number(path, "core:trailing_bytes", global_info.get("core:trailing_bytes", 0), 0)
    names = global_info.get(CLASSES_KEY, [])
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names) or \
            len(set(names)) != len(names):
        raise ValueError(f"{path}: {CLASSES_KEY} is {reprlib.repr(names)}; expected a list of distinct class "
                         "names")
    for section in ("captures", "annotations"):
        items = metadata.get(section, [])
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise ValueError(f"{path}: \"{section}\" is not a list of objects")
        for index, item in enumerate(items):
            for key in ("core:sample_start", "core:sample_count", "core:header_bytes"):
                if key in item or (key == "core:sample_start" and section == "annotations"):
                    _whole_number(path, f"{section}[{index}].{key}", item.get(key), 0)
            snr = item.get(SNR_KEY, 0)
            if isinstance(snr, bool) or not isinstance(snr, (int, float)) or abs(snr) > MAX_ABS_SNR_DB:
                raise ValueError(f"{path}: {section}[{index}].{SNR_KEY} is {reprlib.repr(snr)}; expected a "
                                 f"number of dB within ±{MAX_ABS_SNR_DB}")


def _check_data_size(path: Path, metadata: dict, data: DataRegion) -> None:
    """The data must hold a whole number of samples of the declared datatype."""
    global_info = metadata["global"]
    datatype = global_info["core:datatype"]
    sample_bytes = dtype_info(datatype)["sample_size"]
    skipped = global_info.get("core:trailing_bytes", 0) + sum(
        capture.get("core:header_bytes", 0) for capture in metadata.get("captures", []))
    data_bytes = data.size - skipped
    if data_bytes < 0 or data_bytes % sample_bytes:
        raise ValueError(
            f"{path}: data does not fit core:datatype {datatype}: {data.file.name} holds {data_bytes} "
            f"sample bytes, not a whole number of {sample_bytes}-byte samples"
        )


def _sampled_bytes(data: DataRegion, start: int) -> bytes:
    """Up to ``_SAMPLE_BLOCKS`` blocks spread over the data from byte ``start``, each 8-byte aligned."""
    usable = data.size - start
    if usable <= _SAMPLE_BLOCKS * _SAMPLE_BLOCK_BYTES:
        return data.read(start, usable)
    step = (usable - _SAMPLE_BLOCK_BYTES) // (_SAMPLE_BLOCKS - 1) // 8 * 8
    return b"".join(data.read(start + k * step, _SAMPLE_BLOCK_BYTES) for k in range(_SAMPLE_BLOCKS))


def _share_within(raw: bytes, dtype: np.dtype, exponent: int, shift: int = 0) -> float | None:
    """Share of the non-zero words of ``raw[shift:]`` (as ``dtype`` floats) that are finite with magnitude
    in ``2**-exponent .. 2**exponent``; None when fewer than ``_MIN_WORDS`` words are non-zero."""
    raw = raw[shift:]
    words = np.frombuffer(raw[: len(raw) // dtype.itemsize * dtype.itemsize], dtype)
    words = words[words != 0]  # NaN stays: it is not zero
    if len(words) < _MIN_WORDS:
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        magnitude = np.abs(words.astype(np.float64))
    return float(np.mean(np.isfinite(magnitude) & (magnitude >= 2.0**-exponent) & (magnitude <= 2.0**exponent)))


def datatype_misfit(datatype: str, raw: bytes) -> str | None:
    """Why bytes ``raw`` sampled from a recording cannot be of ``datatype``, or None when they can.

    Statistics on the bytes read as IEEE floats (in the datatype's byte order; little-endian for 8-bit
    types), counting only non-zero words, and only when there are ``_MIN_WORDS`` of them:

    - a fixed-point datatype (``ci16``, ``cu8``, ...) over float bytes: 95% or more of the words, read
      as float32 (or float64), are finite with magnitude within 2**±40, *and* at most 80% are when the
      words are read shifted by 2 bytes (4 and 6 too for float64). Float data carry an exponent at one
      place in every word, so the shifted words look random; fixed-point data look alike at every
      shift, since I and Q (and successive samples) are alike. The first condition alone already rules
      out noise and any zero-mean signal (each 32-bit word's high int16 would have to sit at 11,136 to
      21,503 in magnitude almost always; a full-scale tone manages 51%); the second spares a nearly
      constant signal parked in that band. Left undetected: float data so regular that its shifted
      words look like floats too. Wrongly refused: only ``ci32``/``cu32`` data parked near a constant
      of about ±2**30 (its words repeat every 4 bytes, so the shift does not spare it).
    - a float datatype over fixed-point bytes: half or more of the float words are NaN, infinite or
      beyond 2**±100 in magnitude. Quiet int16 or int8 data read as float32 land near 1e-34 or 1e34;
      real float recordings essentially never do. Loud fixed-point data can pass this test; their NaN
      or Inf samples are then refused when read.
    """
    match = _DATATYPE.fullmatch(datatype)
    order = ">" if match.group(3) == "_be" else "<"
    if match.group(2).startswith("f"):
        dtype = np.dtype(f"{order}f{int(match.group(2)[1:]) // 8}")
        share = _share_within(raw, dtype, _FLOAT_WILD_EXPONENT)
        if share is not None and 1 - share >= _FLOAT_WILD_SHARE:
            return (f"{1 - share:.0%} of the sampled values are NaN, infinite or beyond 2**±100, which "
                    f"{datatype} samples never are (fixed-point data declared as float?)")
        return None
    for float_type in ("f4", "f8"):
        dtype = np.dtype(order + float_type)
        share = _share_within(raw, dtype, _FLOAT_LOOKING_EXPONENT)
        if share is None or share < _FLOAT_LOOKING_SHARE:
            continue
        shifted = [_share_within(raw, dtype, _FLOAT_LOOKING_EXPONENT, shift)
                   for shift in range(2, dtype.itemsize, 2)]
        if all(other is not None and other <= _SHIFTED_FLOAT_LOOKING_SHARE for other in shifted):
            bits = dtype.itemsize * 8
            return (f"{share:.0%} of the sampled {bits}-bit words are ordinary float{bits} numbers (and "
                    f"only {max(shifted):.0%} when read 2 bytes off), as cf{bits}/rf{bits} data are and "
                    f"{datatype} data are not (float data declared as fixed point?)")
    return None


def _verify_sha512(path: Path, data: DataRegion, expected: object) -> None:
    digest = hashlib.sha512()
    for start in range(0, data.size, _HASH_CHUNK_BYTES):
        chunk = data.read(start, _HASH_CHUNK_BYTES)
        if not chunk:
            raise ValueError(f"{path}: data ends before its {data.size} bytes")
        digest.update(chunk)
    if digest.hexdigest() != expected:
        raise ValueError(f"{path}: not a valid SigMF recording: the data's SHA-512 hash does not match "
                         "core:sha512 (corrupt or altered data)")


def check_recording(path: Path, *, verify_checksum: bool) -> CheckedRecording:
    """Read and check the recording at ``path`` (see the module docstring) without ``sigmf``.

    Raises:
        FileNotFoundError: no such recording, or its data file is missing.
        ValueError: anything listed in the module docstring, naming the file and the problem.
    """
    source, data_file = sigmf_files(path)
    if data_file is None:
        metadata, data = _read_archive(source)
    else:
        metadata = _read_metadata_file(source)
        if not data_file.is_file():
            raise FileNotFoundError(f"{source}: its data file {data_file.name} does not exist")
        data = DataRegion(data_file, 0, data_file.stat().st_size)
    _check_fields(source, metadata)
    _check_data_size(source, metadata, data)
    datatype = metadata["global"]["core:datatype"]
    captures = metadata.get("captures", [])
    misfit = datatype_misfit(datatype, _sampled_bytes(data, captures[0].get("core:header_bytes", 0)
                                                      if captures else 0))
    if misfit:
        raise ValueError(f"{source}: data does not fit core:datatype {datatype}: {misfit}")
    if verify_checksum and "core:sha512" in metadata["global"]:
        _verify_sha512(source, data, metadata["global"]["core:sha512"])
    return CheckedRecording(source, metadata, data)
