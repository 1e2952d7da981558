"""The resumable training state: written atomically with ``torch.save``, read with ``weights_only=True``.

A checkpoint is a dict of tensors and plain containers (no pickled classes): ``format``, ``config``
(TrainConfig as a dict), ``fingerprint`` (what must match on resume), ``model``, ``optimizer``,
``scheduler``, ``epoch`` (epochs completed), ``global_step``, ``best_score``, ``best_accuracy``, ``best_epoch``,
``epochs_without_improvement``, ``batches_done`` (micro-batches of the next epoch already trained on:
0 unless written mid-epoch), ``ranks`` (one entry per rank: ``rng`` — python, numpy, torch, CUDA
states — and the running metric sums), ``data_order`` (seed, epoch, position: the permutation of an
epoch is a function of seed and epoch alone), ``metrics_records`` (lines of metrics.jsonl it covers).
"""

from __future__ import annotations

import pickle
import random
import zipfile
from pathlib import Path

import numpy as np
import torch

from rfnet.data.atomic import atomic_output

from .config import RESUMABLE_CHANGES

FORMAT = "rfnet.train.checkpoint/2"  # /2: running sums hold top-5 hits


def check_run_folder(out_dir: str | Path, resume: bool) -> Path:
    """Before a job loads anything: ``out_dir``'s checkpoint path, or a clear error when a fresh run would
    overwrite an earlier one (``ValueError``) or ``resume`` finds nothing to continue (``FileNotFoundError``)."""
    out_dir = Path(out_dir)
    checkpoint = out_dir / "checkpoint.pt"
    if checkpoint.exists() and not resume:
        raise ValueError(f"{checkpoint} exists: pass --resume to continue that run, or choose another --out")
    if resume and not checkpoint.exists():
        raise FileNotFoundError(f"{checkpoint}: no interrupted run to resume in {out_dir}")
    return checkpoint


def save_checkpoint(state: dict, path: str | Path) -> Path:
    """Write ``state`` to ``path`` through a temporary file and ``os.replace``."""
    path = Path(path)
    with atomic_output(path) as temporary:
        torch.save({"format": FORMAT, **state}, temporary)
    return path


def load_checkpoint(path: str | Path) -> dict:
    """Read a checkpoint; a missing, unreadable or foreign file → one clear error naming it."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no checkpoint to resume from")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile, pickle.UnpicklingError) as err:
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f"{path}: not a readable checkpoint (corrupt or truncated?): {first_line}") from None
    found = state.get("format") if isinstance(state, dict) else None
    if isinstance(found, str) and found.startswith(FORMAT.split("/")[0] + "/") and found != FORMAT:
        raise ValueError(f"{path}: written by another rfnet version (format {found!r}; this one resumes {FORMAT!r})")
    if found != FORMAT:
        raise ValueError(f"{path}: not an rfnet training checkpoint (expected format {FORMAT!r})")
    return state


def mismatched_fields(saved: dict, current: dict) -> list[str]:
    """``"name: saved -> current"`` for every fingerprint entry that differs (except RESUMABLE_CHANGES)."""
    names = sorted(set(saved) | set(current))
    return [
        f"{name}: {saved.get(name, '<absent>')!r} -> {current.get(name, '<absent>')!r}"
        for name in names
        if name not in RESUMABLE_CHANGES and saved.get(name) != current.get(name)
    ]


def capture_rng_state() -> dict:
    """This process's python, numpy, torch CPU and CUDA generator states, as tensors and lists."""
    version, words, gauss = random.getstate()
    _, keys, position, has_gauss, cached_gauss = np.random.get_state()
    state = {
        "python": [version, list(words), gauss],
        "numpy": [torch.from_numpy(keys.astype(np.int64)), position, has_gauss, cached_gauss],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict) -> None:
    """Inverse of :func:`capture_rng_state`."""
    version, words, gauss = state["python"]
    random.setstate((version, tuple(words), gauss))
    keys, position, has_gauss, cached_gauss = state["numpy"]
    np.random.set_state(("MT19937", keys.numpy().astype(np.uint32), position, has_gauss, cached_gauss))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
