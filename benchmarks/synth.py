"""Synthetic generation throughput: rfnet against TorchSig's generator and a per-example scipy loop,
side by side in one run.

What is timed (1024 complex samples per example, one thread per process for the per-core figures):

- ``rfnet impaired``: ``rfnet.dsp.modulations.modulate`` + ``rfnet.dsp.channel.apply_channel`` with
  ``ChannelConfig.rml2018()`` (Rician multipath with Doppler, drifting CFO, carrier phase, phase noise,
  sample-clock offset with timing offset, AWGN at a random SNR), batches cycling through the 24
  RadioML 2018.01A classes.
- ``rfnet clean``: ``modulate`` + AWGN only (``ChannelConfig.clean()``), the counterpart of TorchSig
  with its impairments off.
- ``rfnet synth 1w / 2w``: ``rfnet.data.synthetic.write_synthetic`` end to end (generation,
  normalisation, HDF5 writing to a temporary folder) with 1 and 2 worker processes.
- ``scipy loop``: a plain per-example numpy/scipy generator doing comparable work (random symbols ->
  RRC with ``scipy.signal.upfirdn`` -> 3-path Rician fading with Doppler -> CFO, phase, phase noise ->
  timing + sample-rate offset by interpolation -> AWGN at the SNR).
- ``torchsig impaired / clean``: TorchSig 2.2's narrowband generator, impairment level 2 (its full
  over-the-air channel model) and 0 (clean), run by ``benchmarks/torchsig_worker.py`` in TorchSig's own
  interpreter (``--torchsig-python``), which stays up for the whole run and is asked for one timed
  block at a time, alternating with the in-process blocks so machine noise hits all sides alike.

Memory: each side's resident set (``VmRSS``) and peak (``VmHWM``) after its warm-up and at the end of
the run; their difference is the growth over the examples generated in between.

    python benchmarks/synth.py --torchsig-python /work/torchsig-venv/bin/python   # full run, ~5 min
    python benchmarks/synth.py --quick                                           # ~30 s, no TorchSig

Prints a table and writes ``benchmarks/results/synth.json``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import scipy.interpolate
import scipy.signal
import torch

from rfnet.data.synthetic import SynthConfig, write_synthetic
from rfnet.dsp.channel import ChannelConfig, apply_channel
from rfnet.dsp.classes import RML2018_CLASSES
from rfnet.dsp.modulations import modulate
from torchsig_worker import memory_kib  # beside this script; stdlib only until it runs TorchSig

NUM_SAMPLES = 1024
SNR_RANGE_DB = (-20.0, 30.0)
HERE = Path(__file__).resolve().parent
WORKER = HERE / "torchsig_worker.py"


# --- machine and memory -----------------------------------------------------------------------------

def cpu_model() -> str:
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def machine() -> dict:
    return {"nproc": os.cpu_count(), "cpu_model": cpu_model(), "load_average_start": os.getloadavg(),
            "python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
            "scipy": scipy.__version__,
            "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def timed_block(step, seconds: float) -> dict:
    """Call ``step()`` (returns examples made) until ``seconds`` have passed; examples/s and counts."""
    examples, start = 0, time.perf_counter()
    while True:
        examples += step()
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return {"examples": examples, "seconds": elapsed, "rate": examples / elapsed}


# --- rfnet -----------------------------------------------------------------------------------------

class RfnetSource:
    """Batches of ``batch`` examples, cycling through the 2018 classes, SNR uniform per example."""

    def __init__(self, channel: ChannelConfig, batch: int, seed: int):
        self.channel, self.batch = channel, batch
        self.generator = torch.Generator().manual_seed(seed)
        self.next_class = 0

    def step(self) -> int:
        name = RML2018_CLASSES[self.next_class % len(RML2018_CLASSES)]
        self.next_class += 1
        clean = modulate(name, self.batch, NUM_SAMPLES, generator=self.generator)
        low, high = SNR_RANGE_DB
        snr = low + (high - low) * torch.rand(self.batch, generator=self.generator)
        received = apply_channel(clean, snr, self.channel, generator=self.generator)
        return received.shape[0]


def rfnet_pipeline_rate(workers: int, examples_per_cell: int) -> dict:
    """``write_synthetic`` of the 2018 preset (24 classes, 1024 samples, rml2018 channel) cut down to
    ``examples_per_cell`` examples at each of 6 SNRs, to an HDF5 file in a temporary folder. The rate
    counts everything (with workers: starting them); ``rate_after_first_chunk`` is the steady state."""
    config = replace(SynthConfig.rml2018(), snr_min_db=-20, snr_max_db=30, snr_step_db=10,
                     examples_per_cell=examples_per_cell)
    first_chunk: list[tuple[int, float]] = []

    def progress(count: int) -> None:
        if not first_chunk:
            first_chunk.append((count, time.perf_counter()))

    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        summary = write_synthetic(Path(folder) / "synth.h5", config, seed=0, workers=workers, progress=progress)
        end = time.perf_counter()
    count, first_time = first_chunk[0]
    return {"examples": summary.num_examples, "seconds": end - start, "rate": summary.num_examples / (end - start),
            "first_chunk_seconds": first_time - start,
            "rate_after_first_chunk": (summary.num_examples - count) / (end - first_time),
            "workers": workers, "bytes": summary.num_bytes}


# --- scipy reference --------------------------------------------------------------------------------

def rrc_taps(samples_per_symbol: int, rolloff: float, span_symbols: int) -> np.ndarray:
    """Root-raised-cosine impulse response, unit energy, ``span_symbols * sps + 1`` taps."""
    t = np.arange(-span_symbols * samples_per_symbol / 2, span_symbols * samples_per_symbol / 2 + 1)
    t = t / samples_per_symbol
    b = rolloff
    with np.errstate(divide="ignore", invalid="ignore"):
        h = (np.sin(np.pi * t * (1 - b)) + 4 * b * t * np.cos(np.pi * t * (1 + b))) \
            / (np.pi * t * (1 - (4 * b * t) ** 2))
    h[t == 0] = 1 - b + 4 * b / np.pi
    edge = np.isclose(np.abs(t), 1 / (4 * b))
    h[edge] = b / np.sqrt(2) * ((1 + 2 / np.pi) * np.sin(np.pi / (4 * b)) + (1 - 2 / np.pi) * np.cos(np.pi / (4 * b)))
    return h / np.sqrt(np.sum(h ** 2))


class ScipyLoop:
    """The straightforward way: one example at a time with numpy/scipy, same impairments as
    ``ChannelConfig.rml2018()`` (parameters drawn per example from a numpy Generator)."""

    CONSTELLATIONS = {
        "BPSK": np.array([1, -1], complex),
        "QPSK": np.exp(1j * (np.pi / 4 + np.pi / 2 * np.arange(4))),
        "8PSK": np.exp(1j * np.pi / 4 * np.arange(8)),
        "16QAM": (np.arange(4)[:, None] * 2 - 3 + 1j * (np.arange(4)[None, :] * 2 - 3)).ravel(),
        "64QAM": (np.arange(8)[:, None] * 2 - 7 + 1j * (np.arange(8)[None, :] * 2 - 7)).ravel(),
    }
    SAMPLES_PER_SYMBOL = 8
    PATH_DELAYS = (0.0, 0.6, 1.5)
    PATH_MAGNITUDES = np.array([1.0, 0.5, 0.25]) / np.linalg.norm([1.0, 0.5, 0.25])
    RATE_HZ = 1e6

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.taps = rrc_taps(self.SAMPLES_PER_SYMBOL, 0.35, 10)
        self.names = list(self.CONSTELLATIONS)
        self.next_class = 0

    def example(self) -> np.ndarray:
        rng, n, sps = self.rng, NUM_SAMPLES, self.SAMPLES_PER_SYMBOL
        points = self.CONSTELLATIONS[self.names[self.next_class % len(self.names)]]
        self.next_class += 1
        symbols = points[rng.integers(len(points), size=n // sps + 16)]
        shaped = scipy.signal.upfirdn(self.taps, symbols, up=sps)[len(self.taps) // 2:][: n + 8]
        t = np.arange(len(shaped))
        # Rician multipath: each path delayed by interpolation, scaled by a sum-of-sinusoids gain.
        received = np.zeros(len(shaped), complex)
        doppler = 3.0 / self.RATE_HZ
        for path, (delay, magnitude) in enumerate(zip(self.PATH_DELAYS, self.PATH_MAGNITUDES)):
            angles = rng.uniform(0, 2 * np.pi, (2, 8))
            arrival = np.cos(rng.uniform(0, 2 * np.pi, 8))
            diffuse = (np.cos(2 * np.pi * doppler * np.outer(t, arrival) + angles[0]).sum(1)
                       + 1j * np.sin(2 * np.pi * doppler * np.outer(t, arrival) + angles[1]).sum(1)) / 4
            if path == 0:  # line of sight, K = 3
                gain = np.sqrt(3 / 4) * np.exp(1j * rng.uniform(0, 2 * np.pi)) + np.sqrt(1 / 4) * diffuse
            else:
                gain = diffuse
            delayed = np.interp(t - delay, t, shaped.real) + 1j * np.interp(t - delay, t, shaped.imag)
            received += magnitude * gain * delayed
        # Oscillator: drifting CFO, carrier phase, phase noise (Wiener).
        cfo = rng.uniform(-1000, 1000) + np.cumsum(rng.normal(0, 0.05, len(t)))
        linewidth = rng.uniform(0, 10)
        phase = (2 * np.pi * np.cumsum(cfo) / self.RATE_HZ + rng.uniform(0, 2 * np.pi)
                 + np.cumsum(rng.normal(0, np.sqrt(2 * np.pi * linewidth / self.RATE_HZ), len(t))))
        received = received * np.exp(1j * phase)
        # Sampling clock: offset by up to 20 ppm, instants delayed by up to one sample (cubic spline).
        instants = rng.uniform(0, 1) + np.arange(n) * (1 + rng.uniform(-20, 20) / self.RATE_HZ)
        out = scipy.interpolate.CubicSpline(t, received)(instants)
        # AWGN at a uniform SNR.
        snr_db = rng.uniform(*SNR_RANGE_DB)
        noise_power = np.mean(np.abs(out) ** 2) / 10 ** (snr_db / 10)
        noise = rng.normal(0, np.sqrt(noise_power / 2), (2, n))
        return (out + noise[0] + 1j * noise[1]).astype(np.complex64)

    def step(self) -> int:
        for _ in range(16):
            self.example()
        return 16


# --- TorchSig, in its own interpreter ---------------------------------------------------------------

class TorchSigWorker:
    """``torchsig_worker.py`` running in TorchSig's interpreter; one JSON line in, one JSON line out."""

    def __init__(self, python: str, seed: int):
        self.process = subprocess.Popen([python, str(WORKER), "--num-samples", str(NUM_SAMPLES),
                                         "--seed", str(seed)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.ready = self._reply()

    def _reply(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"TorchSig worker exited (code {self.process.wait()}); see its stderr above")
        return json.loads(line)

    def measure(self, level: int, seconds: float) -> dict:
        self.process.stdin.write(json.dumps({"impairment_level": level, "seconds": seconds}) + "\n")
        self.process.stdin.flush()
        return self._reply()

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


# --- the run ----------------------------------------------------------------------------------------

def best(blocks: list[dict]) -> float:
    return max(block["rate"] for block in blocks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--torchsig-python", help="python of a venv with torchsig 2.2 installed")
    parser.add_argument("--quick", action="store_true", help="short blocks, one round (~30 s)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 3, 1 with --quick)")
    parser.add_argument("--seconds", type=float, help="seconds per timed block (default 8, 2 with --quick)")
    parser.add_argument("--batch", type=int, default=128, help="rfnet examples per batch")
    parser.add_argument("--out", default=str(HERE / "results" / "synth.json"))
    args = parser.parse_args()
    rounds = args.rounds or (1 if args.quick else 3)
    seconds = args.seconds or (2.0 if args.quick else 8.0)
    pipeline_per_cell = 16 if args.quick else 128

    torch.set_num_threads(1)
    info = machine()
    info["command"] = "python " + " ".join([os.path.relpath(sys.argv[0])] + sys.argv[1:])
    print(f"{info['date_utc']}  {info['cpu_model']}  nproc {info['nproc']}  "
          f"load average {' '.join(f'{v:.2f}' for v in info['load_average_start'])}", flush=True)

    impaired = RfnetSource(ChannelConfig.rml2018(), args.batch, seed=1)
    clean = RfnetSource(ChannelConfig.clean(), args.batch, seed=2)
    loop = ScipyLoop(seed=3)
    for channel in (ChannelConfig.rml2018(), ChannelConfig.clean()):  # warm-up: fill every class's caches
        warm_up = RfnetSource(channel, batch=8, seed=0)
        for _ in RML2018_CLASSES:
            warm_up.step()
    impaired.step(), clean.step(), loop.step()
    memory = {"rfnet_after_warmup": memory_kib()}

    worker = None
    if args.torchsig_python and Path(args.torchsig_python).exists():
        print("starting the TorchSig worker (importing torchsig takes a while) ...", flush=True)
        worker = TorchSigWorker(args.torchsig_python, seed=4)
        print(f"TorchSig {worker.ready['torchsig']} ready: {worker.ready}", flush=True)
        worker.measure(2, 1.0), worker.measure(0, 1.0)  # warm-up
    else:
        print(f"TorchSig skipped (--torchsig-python {args.torchsig_python!r} not given or not found)")

    sides = {"rfnet_impaired": [], "rfnet_clean": [], "scipy_loop": [], "torchsig_impaired": [],
             "torchsig_clean": []}
    rfnet_memory, torchsig_memory = [], []
    for round_index in range(rounds):
        sides["rfnet_impaired"].append(timed_block(impaired.step, seconds))
        if worker:
            sides["torchsig_impaired"].append(worker.measure(2, seconds))
        sides["scipy_loop"].append(timed_block(loop.step, seconds))
        sides["rfnet_clean"].append(timed_block(clean.step, seconds / 2))
        if worker:
            sides["torchsig_clean"].append(worker.measure(0, seconds / 2))
            torchsig_memory.append(sides["torchsig_clean"][-1]["memory_kib"])
        rfnet_memory.append(memory_kib())
        print(f"round {round_index + 1}/{rounds}: " + ", ".join(
            f"{name} {blocks[-1]['rate']:.1f}/s" for name, blocks in sides.items() if blocks), flush=True)
    memory["rfnet_end"] = memory_kib()
    memory["rfnet_rounds"] = rfnet_memory
    if worker:
        memory["torchsig_after_warmup"] = worker.ready["memory_kib"]
        memory["torchsig_rounds"] = torchsig_memory
        worker.close()

    pipeline = [rfnet_pipeline_rate(workers, pipeline_per_cell) for workers in (1, 2)]
    info["load_average_end"] = os.getloadavg()

    rates = {name: best(blocks) for name, blocks in sides.items() if blocks}
    rates["rfnet_synth_1_worker"] = pipeline[0]["rate"]
    rates["rfnet_synth_2_workers"] = pipeline[1]["rate"]
    rates["rfnet_synth_2_workers_steady"] = pipeline[1]["rate_after_first_chunk"]
    ratios = {"rfnet_impaired / scipy_loop": rates["rfnet_impaired"] / rates["scipy_loop"]}
    if worker:
        ratios["rfnet_impaired / torchsig_impaired"] = rates["rfnet_impaired"] / rates["torchsig_impaired"]
        ratios["rfnet_clean / torchsig_clean"] = rates["rfnet_clean"] / rates["torchsig_clean"]
    # The same ratio within each round (blocks run back to back), median over rounds: steadier under load.
    pairs = {"rfnet_impaired / scipy_loop": ("rfnet_impaired", "scipy_loop"),
             "rfnet_impaired / torchsig_impaired": ("rfnet_impaired", "torchsig_impaired"),
             "rfnet_clean / torchsig_clean": ("rfnet_clean", "torchsig_clean")}
    round_ratios = {name: [ours["rate"] / theirs["rate"] for ours, theirs in zip(sides[a], sides[b])]
                    for name, (a, b) in pairs.items() if sides[b]}
    median_ratios = {name: float(np.median(values)) for name, values in round_ratios.items()}
    rfnet_examples = sum(block["examples"] for name in ("rfnet_impaired", "rfnet_clean")
                         for block in sides[name])
    growth = {"rfnet_rss_kib": memory["rfnet_end"]["VmRSS"] - memory["rfnet_after_warmup"]["VmRSS"],
              "rfnet_peak_kib": memory["rfnet_end"]["VmHWM"] - memory["rfnet_after_warmup"]["VmHWM"],
              "rfnet_examples": rfnet_examples}
    if worker:
        last = torchsig_memory[-1]
        growth["torchsig_rss_kib"] = last["VmRSS"] - memory["torchsig_after_warmup"]["VmRSS"]
        growth["torchsig_peak_kib"] = last["VmHWM"] - memory["torchsig_after_warmup"]["VmHWM"]
        growth["torchsig_examples"] = sum(block["examples"] for name in ("torchsig_impaired", "torchsig_clean")
                                          for block in sides[name])

    print(f"\nexamples/s per core, {NUM_SAMPLES} samples, best of {rounds} block(s) of {seconds:g} s "
          f"(load average at end {' '.join(f'{v:.2f}' for v in info['load_average_end'])})")
    for name, rate in rates.items():
        print(f"  {name:24s} {rate:10.1f}")
    print(f"  {'ratio':36s} {'of bests':>9s} {'median of per-round':>20s}")
    for name, ratio in ratios.items():
        print(f"  {name:36s} {ratio:8.1f}x {median_ratios[name]:19.1f}x")
    print("memory growth after warm-up (KiB): " + ", ".join(f"{k} {v}" for k, v in growth.items()))
    print("VmRSS after each round (MiB): rfnet " + " ".join(f"{m['VmRSS'] / 1024:.0f}" for m in rfnet_memory)
          + ("; torchsig " + " ".join(f"{m['VmRSS'] / 1024:.0f}" for m in torchsig_memory) if worker else ""))

    result = {"machine": info, "num_samples": NUM_SAMPLES, "rounds": rounds, "seconds_per_block": seconds,
              "rates_per_s": rates, "ratios": ratios,
              "median_per_round_ratios": median_ratios, "per_round_ratios": round_ratios, "memory_growth": growth, "memory_kib": memory,
              "blocks": sides, "pipeline": pipeline,
              "torchsig": worker.ready if worker else "skipped"}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(out.name + ".tmp")
    temporary.write_text(json.dumps(result, indent=1) + "\n")
    os.replace(temporary, out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
