"""Latency and throughput of rfnet's classifiers in each execution mode, as ratios against eager torchvision
AlexNet measured in the same run.

Subjects (11 RadioML 2016 classes, 128-sample complex IQ in, front end included):

- ``alexnet 227``: ``SpectrogramClassifier`` with the paper AlexNet and the default front end
  (``SpectrogramConfig.for_length(128)``: 227x227 images);
- ``alexnet 67``: the same at ``image_size`` 67x67 (what ``rfnet finetune`` trains by default);
- ``vtcnn2`` and ``radioml_resnet``: the raw-IQ baselines, on the same 128 samples.

Reference: ``torchvision.models.alexnet(weights=None)`` in eval mode, eager, on float32 227x227 images
(no front end), timed at the start and again at the end of the run; ratios are against the mean of the
two, and both are printed so drift in the machine's load shows.

For each subject and mode (:mod:`rfnet.bench.modes`; modes that do not apply are listed with why):
batch-1 latency (median and p90 of up to ``--latency-repeats`` calls, ``--budget`` seconds at most) and
batch-256 throughput (median of ``--throughput-repeats`` calls), after ``--warmup`` untimed calls (for
``compile`` the first of them compiles). Ratios: latency ours / reference (below 1 is faster), throughput
ours / reference (above 1 is faster).

    python benchmarks/latency.py                                    # CPU, every mode
    python benchmarks/latency.py --device cuda --json benchmarks/results/latency_cuda.json
    python benchmarks/latency.py --modes eager,int8 --out rfnet-results.sqlite   # also into a results store

Writes a JSON record (``--json``) and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torchvision
from torch import nn

from rfnet.bench.flops import compute_type, count_flops, device_peak
from rfnet.bench.machine import describe_machine, software_versions
from rfnet.bench.modes import prepare, skip_reason
from rfnet.bench.store import MODES, Measurement, ResultsStore
from rfnet.bench.timing import Timing, time_calls
from rfnet.data.atomic import atomic_output
from rfnet.deploy.export import random_iq
from rfnet.dsp.classes import RML2016_CLASSES
from rfnet.dsp.spectrogram import SpectrogramConfig
from rfnet.models import SpectrogramClassifier, create_model

NUM_SAMPLES = 128
LATENCY_BATCH = 1
REFERENCE = "torchvision alexnet (eager, 227x227 images)"


@dataclass(frozen=True)
class Point:
    """One subject in one mode: batch-1 and batch-256 timings (None where the mode was skipped)."""

    subject: str
    arch: str
    mode: str
    latency: Timing | None
    throughput: Timing | None
    flops_per_example: float | None
    peak_flops_per_s: float | None
    skipped: str | None = None


def subjects() -> dict[str, nn.Module]:
    """The models measured, built with seed 0 (weights do not change the time)."""
    torch.manual_seed(0)
    classes = list(RML2016_CLASSES)
    return {
        "alexnet 227": SpectrogramClassifier(classes, SpectrogramConfig.for_length(NUM_SAMPLES)),
        "alexnet 67": SpectrogramClassifier(classes, SpectrogramConfig.for_length(NUM_SAMPLES, image_size=(67, 67))),
        "vtcnn2": create_model("vtcnn2", classes=classes, num_samples=NUM_SAMPLES),
        "radioml_resnet": create_model("radioml_resnet", classes=classes, num_samples=NUM_SAMPLES),
    }


def time_point(run, make_input, device, args) -> tuple[Timing, Timing]:
    latency_input, throughput_input = make_input(LATENCY_BATCH), make_input(args.throughput_batch)
    latency = time_calls(lambda: run(latency_input), device=device, warmup=args.warmup,
                         repeats=args.latency_repeats, budget_s=args.budget)
    throughput = time_calls(lambda: run(throughput_input), device=device, warmup=args.warmup,
                            repeats=args.throughput_repeats, budget_s=args.budget)
    return latency, throughput


def measure_reference(device: torch.device, args) -> Point:
    model = torchvision.models.alexnet(weights=None).eval().to(device)
    generator = torch.Generator().manual_seed(0)

    def make_input(batch: int) -> torch.Tensor:
        return torch.rand(batch, 3, 227, 227, generator=generator).to(device)

    flops = count_flops(model, make_input(1))
    latency, throughput = time_point(prepare(model, "eager", device, NUM_SAMPLES), make_input, device, args)
    peak = device_peak(device, compute_type("eager", device)).flops_per_s
    return Point(REFERENCE, "torchvision_alexnet", "eager", latency, throughput, flops, peak)


def measure_subject(name: str, model: nn.Module, modes: list[str], device: torch.device, args,
                    progress) -> list[Point]:
    model = model.eval().to(device)
    arch = model.arch

    def make_input(batch: int) -> torch.Tensor:
        return random_iq(batch, NUM_SAMPLES, device=device)

    flops = count_flops(model, make_input(1))
    points = []
    for mode in modes:
        progress(f"{name} {mode}")
        reason = skip_reason(mode, device, model)
        if reason is not None:
            points.append(Point(name, arch, mode, None, None, flops, None, reason))
            continue
        try:
            latency, throughput = time_point(prepare(model, mode, device, NUM_SAMPLES), make_input, device, args)
        except (RuntimeError, ImportError, NotImplementedError) as err:
            reason = f"failed: {type(err).__name__}: {err}"[:200]
            points.append(Point(name, arch, mode, None, None, flops, None, reason))
            continue
        peak = device_peak(device, compute_type(mode, device)).flops_per_s
        points.append(Point(name, arch, mode, latency, throughput, flops, peak))
    return points


def rate(timing: Timing, batch: int) -> float:
    return batch / (timing.median_ms / 1e3)


def markdown_table(points: list[Point], reference: Point, batch: int) -> str:
    ref_latency = reference.latency.median_ms
    ref_rate = rate(reference.throughput, batch)
    lines = [f"| model | mode | batch-1 latency ms (median / p90) | latency ratio | batch-{batch} examples/s | "
             f"throughput ratio | GFLOP/example | % of peak at {batch} |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for p in points:
        if p.skipped is not None:
            continue
        examples_per_s = rate(p.throughput, batch)
        gflop = "-" if p.flops_per_example is None else f"{p.flops_per_example / 1e9:.3f}"
        peak = "-" if p.flops_per_example is None or p.peak_flops_per_s is None else \
            f"{100 * p.flops_per_example * examples_per_s / p.peak_flops_per_s:.1f}"
        lines.append(f"| {p.subject} | {p.mode} | {p.latency.median_ms:.2f} / {p.latency.p90_ms:.2f} | "
                     f"{p.latency.median_ms / ref_latency:.3f} | {examples_per_s:.1f} | "
                     f"{examples_per_s / ref_rate:.3f} | {gflop} | {peak} |")
    skipped = [f"- {p.subject} {p.mode}: {p.skipped}" for p in points if p.skipped is not None]
    return "\n".join(lines + ([""] + skipped if skipped else []))


def store_points(path: str, points: list[Point], device: torch.device, batch: int) -> None:
    store = ResultsStore(path)
    machine, versions = describe_machine(device), software_versions()
    for p in points:
        if p.skipped is not None:
            continue
        for size, timing in ((LATENCY_BATCH, p.latency), (batch, p.throughput)):
            examples_per_s = rate(timing, size)
            fraction = None if p.flops_per_example is None or p.peak_flops_per_s is None else \
                p.flops_per_example * examples_per_s / p.peak_flops_per_s
            store.add_measurement(Measurement(
                model=p.subject, model_path="", arch=p.arch, mode=p.mode, device=device.type,
                batch_size=size, median_ms=timing.median_ms, p90_ms=timing.p90_ms, p99_ms=timing.p99_ms,
                examples_per_s=examples_per_s, flops_per_example=p.flops_per_example, peak_fraction=fraction,
                machine=machine, versions=versions))


def point_record(p: Point, batch: int) -> dict:
    record = {"subject": p.subject, "arch": p.arch, "mode": p.mode, "skipped": p.skipped,
              "flops_per_example": p.flops_per_example, "peak_flops_per_s": p.peak_flops_per_s}
    for key, size, timing in (("latency", LATENCY_BATCH, p.latency), ("throughput", batch, p.throughput)):
        if timing is not None:
            record[key] = {"batch_size": size, "median_ms": timing.median_ms, "p90_ms": timing.p90_ms,
                           "p99_ms": timing.p99_ms, "examples_per_s": rate(timing, size), "calls": len(timing.times_ms)}
    return record


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated (default: every mode)")
    parser.add_argument("--subjects", default="alexnet 227,alexnet 67,vtcnn2,radioml_resnet")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--latency-repeats", type=int, default=30)
    parser.add_argument("--throughput-batch", type=int, default=256)
    parser.add_argument("--throughput-repeats", type=int, default=3)
    parser.add_argument("--budget", type=float, default=3.0, help="seconds of timed calls per point at most")
    parser.add_argument("--json", default="benchmarks/results/latency.json")
    parser.add_argument("--out", help="also append the rows to this results store")
    args = parser.parse_args()
    device = torch.device(args.device)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    chosen = [s.strip() for s in args.subjects.split(",")]
    models = subjects()
    unknown = [s for s in chosen if s not in models]
    if unknown:
        parser.error(f"--subjects: unknown {unknown}; choose from {list(models)}")
    load_before = os.getloadavg()
    began = time.perf_counter()

    def progress(label: str) -> None:
        print(f"[{time.perf_counter() - began:6.0f} s] {label}", file=sys.stderr, flush=True)

    progress("reference (start)")
    first = measure_reference(device, args)
    points = []
    for name in chosen:
        points += measure_subject(name, models[name], modes, device, args, progress)
    progress("reference (end)")
    last = measure_reference(device, args)
    batch = args.throughput_batch
    reference = Point(REFERENCE, first.arch, "eager", Timing(first.latency.times_ms + last.latency.times_ms),
                      Timing(first.throughput.times_ms + last.throughput.times_ms), first.flops_per_example,
                      first.peak_flops_per_s)
    load_after = os.getloadavg()
    machine = describe_machine(device)
    peak = device_peak(device, compute_type("eager", device))
    print(f"command: python {' '.join(shlex.quote(a) for a in sys.argv)}")
    print(f"machine: {machine}; load average (1/5/15 min) before {'/'.join(f'{x:.2f}' for x in load_before)}, "
          f"after {'/'.join(f'{x:.2f}' for x in load_after)}; wall {time.perf_counter() - began:.0f} s")
    print(f"peak fp32: {peak.flops_per_s / 1e9:.1f} GFLOP/s ({peak.source})")
    print(f"reference batch-1 latency {first.latency.median_ms:.2f} ms at the start, {last.latency.median_ms:.2f} ms "
          f"at the end; batch-{batch} throughput {rate(first.throughput, batch):.1f} / "
          f"{rate(last.throughput, batch):.1f} examples/s; ratios against the pooled calls "
          f"(median {reference.latency.median_ms:.2f} ms, {rate(reference.throughput, batch):.1f} examples/s)")
    print(markdown_table(points, reference, batch))
    record = {"machine": machine, "versions": software_versions(), "load_average_before": load_before,
              "load_average_after": load_after, "peak": {"flops_per_s": peak.flops_per_s, "source": peak.source},
              "settings": vars(args), "reference_start": point_record(first, batch),
              "reference_end": point_record(last, batch), "reference_pooled": point_record(reference, batch),
              "points": [point_record(p, batch) for p in points]}
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(args.json) as temporary:
        temporary.write_text(json.dumps(record, indent=2) + "\n")
    if args.out:
        store_points(args.out, [reference, *points], device, batch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
