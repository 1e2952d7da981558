"""RadioML-style synthetic datasets: ``modulate`` → ``apply_channel`` at each SNR → normalise → write.

The dataset is a grid of cells, one per (class, SNR), each holding ``examples_per_cell`` examples, in
class-major then SNR order (as RML2018.01A is stored). Cells are cut into chunks of at most
``chunk_samples // num_samples`` examples; chunk *k* is generated from its own seed, derived from
``(seed, k)`` with numpy's ``SeedSequence``, so the bytes written depend on the seed and the config only
(and the torch build), never on how many worker processes made them. Workers (``multiprocessing``, spawned, one torch thread each) generate chunks
ahead; the parent writes them in order, holding at most ``2 × workers`` chunks, so memory stays flat
whatever the dataset size.

Normalisation of each received example (``SynthConfig.normalization``):

- ``"sum_abs"``: divide by ``sum(|x|)`` over the example, exactly what RadioML 2016.10a's generator did
  (``generate_RML2016.10a.py``), so an ``rml2016`` file has 10a's scale (power ≈ 1/samples²);
- ``"unit_power"``: divide by ``sqrt(mean(|x|²))``, so each example has power 1 (rfnet's convention;
  RML2018.01A's exact normalisation is not published);
- ``"none"``: keep the channel's output (signal at unit power plus noise).

SNR labels (``SynthConfig.snr_labels``):

- ``"true"`` (default): the label is the SNR delivered, on rfnet's power definition (signal power over
  noise power per complex sample, before normalisation);
- ``"rml2016_nominal"``: the label means what RadioML 2016.10a's labels mean. Its generator added noise of
  *amplitude* ``10**(-label/10)`` to a unit-power signal, so the SNR delivered is ``2 × label`` dB (a
  label of 10 dB is 20 dB of SNR). Use it to put synthetic curves on the published file's axis.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from multiprocessing import get_context
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np
import torch

from rfnet import __version__
from rfnet.data.radioml_hdf5 import Rml2018HDF5Writer
from rfnet.data.radioml_pickle import Rml2016PickleWriter
from rfnet.data.sigmf_io import SigMFWriter
from rfnet.dsp.channel import ChannelConfig, apply_channel
from rfnet.dsp.classes import MODULATIONS, RML2016_CLASSES, RML2018_CLASSES
from rfnet.dsp.modulations import ModulationConfig, modulate

NORMALIZATIONS = ("unit_power", "sum_abs", "none")
SNR_LABELS = ("true", "rml2016_nominal")

SNR_LIMITS_DB = (-100, 100)
"""SNRs a config may ask for, dB. float32 holds about 144 dB of dynamic range (24-bit mantissa); within
±100 dB the weaker of signal and noise is still resolved to about 1 % of its power."""

OUTPUT_SUFFIXES = (".h5", ".hdf5", ".pkl", ".pickle", ".sigmf-meta", ".sigmf")


@dataclass(frozen=True)
class SynthConfig:
    """What to generate. Override any field of a preset with ``dataclasses.replace``.

    Attributes:
        classes: modulation names (any of :data:`rfnet.dsp.classes.MODULATIONS`), in label order.
        num_samples: complex samples per example.
        snr_min_db, snr_max_db, snr_step_db: the SNR grid, whole dB, both ends included.
        examples_per_cell: examples per (class, SNR).
        modulation: per-example modulation parameters (samples per symbol, roll-off, FM deviation, ...).
        channel: channel impairments. Its ``sample_rate_hz`` is the recording's sample rate and must
            equal ``modulation.sample_rate_hz``.
        normalization: one of :data:`NORMALIZATIONS` (see the module docstring).
        snr_labels: what an SNR of the grid means, one of :data:`SNR_LABELS` (see the module docstring).
        chunk_samples: complex samples generated at once, i.e. ``chunk_samples // num_samples``
            examples per chunk (at least 1, at most a cell). Bounds a worker's working memory (about
            1 KB per sample: ~250 MB at the default 2**18); part of the config because chunking
            decides the per-chunk seeds, so changing it changes the bytes.
    """

    classes: tuple[str, ...] = RML2016_CLASSES
    num_samples: int = 128
    snr_min_db: int = -20
    snr_max_db: int = 18
    snr_step_db: int = 2
    examples_per_cell: int = 1000
    modulation: ModulationConfig = dataclasses.field(default_factory=ModulationConfig)
    channel: ChannelConfig = dataclasses.field(default_factory=ChannelConfig.rml2016)
    normalization: str = "sum_abs"
    snr_labels: str = "true"
    chunk_samples: int = 2**18

    def __post_init__(self) -> None:
        object.__setattr__(self, "classes", tuple(self.classes))
        unknown = [name for name in self.classes if name not in MODULATIONS]
        if unknown:
            raise ValueError(f"unknown modulation(s) {unknown}; known: {', '.join(MODULATIONS)}")
        if not self.classes or len(set(self.classes)) != len(self.classes):
            raise ValueError(f"classes {list(self.classes)} must be non-empty and name each class once")
        for name in ("num_samples", "examples_per_cell", "chunk_samples", "snr_step_db"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive whole number, got {value!r}")
        for name in ("snr_min_db", "snr_max_db"):
            value = getattr(self, name)
            if not isinstance(value, int) or not SNR_LIMITS_DB[0] <= value <= SNR_LIMITS_DB[1]:
                raise ValueError(f"{name} must be a whole number of dB in {list(SNR_LIMITS_DB)}, got {value!r}")
        if self.snr_min_db > self.snr_max_db:
            raise ValueError(f"snr_min_db ({self.snr_min_db}) is above snr_max_db ({self.snr_max_db})")
        if self.modulation.sample_rate_hz != self.channel.sample_rate_hz:
            raise ValueError(f"modulation.sample_rate_hz ({self.modulation.sample_rate_hz}) differs from "
                             f"channel.sample_rate_hz ({self.channel.sample_rate_hz})")
        if self.normalization not in NORMALIZATIONS:
            raise ValueError(f"normalization must be one of {NORMALIZATIONS}, got {self.normalization!r}")
        if self.snr_labels not in SNR_LABELS:
            raise ValueError(f"snr_labels must be one of {SNR_LABELS}, got {self.snr_labels!r}")
        delivered = [self.delivered_snr_db(label) for label in (self.snr_min_db, self.snr_max_db)]
        if not SNR_LIMITS_DB[0] <= min(delivered) <= max(delivered) <= SNR_LIMITS_DB[1]:
            raise ValueError(f"SNR labels {self.snr_min_db}..{self.snr_max_db} ({self.snr_labels}) deliver "
                             f"{delivered[0]}..{delivered[1]} dB, outside {list(SNR_LIMITS_DB)}")

    @classmethod
    def rml2016(cls) -> "SynthConfig":
        """RadioML 2016.10a's shape: 11 classes, 128 samples, SNR -20..18 dB step 2, its modulation
        parameters, channel and scale, 1000 examples per cell."""
        return cls()

    @classmethod
    def rml2018(cls) -> "SynthConfig":
        """RadioML 2018.01A's shape: 24 classes, 1024 samples, SNR -20..30 dB step 2, 4096 per cell,
        an over-the-air-like channel at 1 MS/s, unit power."""
        return cls(classes=RML2018_CLASSES, num_samples=1024, snr_min_db=-20, snr_max_db=30,
                   examples_per_cell=4096, modulation=ModulationConfig(sample_rate_hz=1e6),
                   channel=ChannelConfig.rml2018(), normalization="unit_power")

    @property
    def snrs(self) -> tuple[int, ...]:
        """The SNR grid, dB."""
        return tuple(range(self.snr_min_db, self.snr_max_db + 1, self.snr_step_db))

    def delivered_snr_db(self, label_db: float) -> float:
        """The SNR (dB, rfnet's power definition) delivered for a cell labelled ``label_db``."""
        return 2.0 * label_db if self.snr_labels == "rml2016_nominal" else float(label_db)

    @property
    def num_examples(self) -> int:
        return len(self.classes) * len(self.snrs) * self.examples_per_cell

    def to_dict(self) -> dict:
        """Plain JSON-able dict of every field (nested configs included)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))


PRESETS: dict[str, Callable[[], SynthConfig]] = {"rml2016": SynthConfig.rml2016, "rml2018": SynthConfig.rml2018}


@dataclass(frozen=True)
class Chunk:
    """One block of examples of a single (class, SNR) cell. ``index`` orders chunks in the file."""

    index: int
    label: int
    snr_db: int
    count: int


def plan_chunks(config: SynthConfig) -> list[Chunk]:
    """Every chunk of the dataset, in file order (class-major, then SNR)."""
    per_chunk = max(1, config.chunk_samples // config.num_samples)
    chunks = []
    for label in range(len(config.classes)):
        for snr in config.snrs:
            for start in range(0, config.examples_per_cell, per_chunk):
                count = min(per_chunk, config.examples_per_cell - start)
                chunks.append(Chunk(len(chunks), label, snr, count))
    return chunks


def chunk_seed(seed: int, chunk_index: int) -> int:
    """A 64-bit seed for chunk ``chunk_index``, derived from the dataset ``seed`` (numpy SeedSequence)."""
    return int(np.random.SeedSequence([seed, chunk_index]).generate_state(1, dtype=np.uint64)[0])


def normalize(iq: torch.Tensor, normalization: str) -> torch.Tensor:
    """Scale each example of complex ``[batch, samples]`` as ``normalization`` says (module docstring)."""
    if normalization == "unit_power":
        return iq / iq.abs().square().mean(dim=1, keepdim=True).sqrt()
    if normalization == "sum_abs":
        return iq / iq.abs().sum(dim=1, keepdim=True)
    return iq


def generate_chunk(config: SynthConfig, seed: int, chunk: Chunk) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """Make one chunk: complex64 ``[count, num_samples]``, int64 labels ``[count]``, int64 SNRs ``[count]``."""
    generator = torch.Generator().manual_seed(chunk_seed(seed, chunk.index))
    clean = modulate(config.classes[chunk.label], chunk.count, config.num_samples, generator=generator,
                     config=config.modulation)
    received = apply_channel(clean, config.delivered_snr_db(chunk.snr_db), config.channel, generator=generator)
    iq = normalize(received, config.normalization).to(torch.complex64)
    return iq, np.full(chunk.count, chunk.label, np.int64), np.full(chunk.count, chunk.snr_db, np.int64)


def _init_worker(lifeline: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it stops the pool
    torch.set_num_threads(1)
    threading.Thread(target=_exit_when_closed, args=(lifeline,), name="lifeline", daemon=True).start()


def _exit_when_closed(lifeline: Connection) -> None:
    """Wait on the read end of a pipe whose write end only the parent holds; nothing is ever sent, so the
    wait ends when that end closes: the parent gave up on the work, or died (SIGKILL included). Then this
    worker ends at once, mid-chunk, rather than live on as an orphan."""
    try:
        lifeline.recv()
    except (EOFError, OSError):
        pass
    os._exit(1)


def _generate_in_process(config: SynthConfig, seed: int, chunks: list[Chunk]) -> Iterator[tuple]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the same arithmetic as the workers, so the same bytes
    try:
        for chunk in chunks:
            yield generate_chunk(config, seed, chunk)
    finally:
        torch.set_num_threads(threads)


def _generate_in_workers(config: SynthConfig, seed: int, chunks: list[Chunk], workers: int) -> Iterator[tuple]:
    """Chunks from ``workers`` spawned processes, in order. If the caller stops early (an error,
    ``KeyboardInterrupt``, SIGTERM turned into an exception, ``close()``), the lifeline pipe is closed
    first, so the workers end at once instead of finishing their chunks; if this process is killed
    outright, the kernel closes it and they end too."""
    pending: deque[Future] = deque()
    context = get_context("spawn")
    lifeline, keep_alive = context.Pipe(duplex=False)
    try:
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                                 initargs=(lifeline,)) as pool:
            try:
                for chunk in chunks:
                    pending.append(pool.submit(generate_chunk, config, seed, chunk))
                    if len(pending) >= 2 * workers:
                        yield pending.popleft().result()
                while pending:
                    yield pending.popleft().result()
            except BaseException:
                # The workers end now, rather than the pool waiting for their chunks; their pending futures
                # fail as a broken pool's (cancelling them first trips Python 3.11's executor).
                keep_alive.close()
                raise
    finally:
        keep_alive.close()
        lifeline.close()


def generate_chunks(config: SynthConfig, seed: int, *, workers: int = 1) -> Iterator[tuple]:
    """Yield every chunk ``(iq, labels, snrs)`` in file order; ``workers > 1`` uses that many processes."""
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative whole number, got {seed!r}")
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive whole number, got {workers!r}")
    chunks = plan_chunks(config)
    if workers == 1 or len(chunks) == 1:  # one chunk: starting a process would only cost time
        return _generate_in_process(config, seed, chunks)
    return _generate_in_workers(config, seed, chunks, workers)


def open_writer(path: Path, config: SynthConfig, seed: int):
    """The writer for ``path``'s suffix: HDF5 (2018 layout), pickle (2016 layout) or SigMF."""
    name = path.name.lower()
    if name.endswith((".h5", ".hdf5")):
        attributes = {"generator_config": config.to_dict(), "seed": seed, "rfnet_version": __version__}
        return Rml2018HDF5Writer(path, num_examples=config.num_examples, num_samples=config.num_samples,
                                 classes=config.classes, sample_rate_hz=config.channel.sample_rate_hz,
                                 attributes=attributes)
    if name.endswith((".pkl", ".pickle")):
        return Rml2016PickleWriter(path, config.classes)
    if name.endswith((".sigmf-meta", ".sigmf")):
        return SigMFWriter(path, classes=config.classes, sample_rate_hz=config.channel.sample_rate_hz,
                           description=f"rfnet synthetic RadioML-style dataset, seed {seed}",
                           extra_global={"rfnet:seed": seed, "rfnet:generator_config": config.to_dict()})
    raise ValueError(f"{path}: unknown output format; use a name ending in one of {', '.join(OUTPUT_SUFFIXES)}")


@dataclass(frozen=True)
class SynthSummary:
    """What :func:`write_synthetic` wrote."""

    path: Path
    num_examples: int
    classes: tuple[str, ...]
    snrs: tuple[int, ...]
    num_samples: int
    num_bytes: int

    def __str__(self) -> str:
        return (f"wrote {self.num_examples} examples ({len(self.classes)} classes, {len(self.snrs)} SNRs "
                f"{self.snrs[0]}..{self.snrs[-1]} dB, {self.num_samples} samples each) to {self.path} "
                f"({self.num_bytes} bytes)")


def _written_bytes(path: Path) -> int:
    if path.name.endswith(".sigmf-meta"):
        return path.stat().st_size + path.with_name(path.name[: -len("meta")] + "data").stat().st_size
    return path.stat().st_size


def write_synthetic(
    path: str | os.PathLike,
    config: SynthConfig,
    *,
    seed: int,
    workers: int = 1,
    progress: Callable[[int], object] | None = None,
) -> SynthSummary:
    """Generate ``config``'s dataset with ``seed`` and write it to ``path`` (format from its suffix).

    The file is written under a temporary name and renamed when complete; an existing file at ``path``
    is replaced then, and nothing is left behind on error or ``KeyboardInterrupt``.

    Args:
        progress: called with the number of examples after each chunk is written (e.g. ``tqdm.update``).
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path}: is a folder; give a file name ending in one of {', '.join(OUTPUT_SUFFIXES)}")
    writer = open_writer(path, config, seed)
    with writer, closing(generate_chunks(config, seed, workers=workers)) as chunks:
        for iq, labels, snrs in chunks:
            writer.write(iq, labels, snrs)
            if progress is not None:
                progress(len(labels))
    return SynthSummary(path, config.num_examples, config.classes, config.snrs, config.num_samples,
                        _written_bytes(path))
