"""The one prepared device check (issue 13): on a CUDA machine, every GPU claim of rfnet measured in < 8 minutes.

    pip install --no-deps -e .               # on the GPU machine, beside its own torch
    pip install nvidia-dali-cuda130          # optional, where PyPI is reachable: the DALI rows and test
    python benchmarks/gpu_check.py           # the whole check, < 8 minutes
    python benchmarks/gpu_check.py --dry-run # anywhere: the same plumbing at tiny sizes on the CPU, seconds

Without CUDA (and without ``--dry-run``) it says so, runs the dry run and exits 0.

Stages, each in its own process under its own time box, so that a slow or hung stage is killed and
recorded while the others still run (the box is also cut to what is left of ``--budget-s``); each stage
writes its rows as it measures them, so a stage cut short still reports what it measured:

- ``tests``: ``pytest -m cuda`` (``tests/test_cuda.py``: the split, bf16, GPU decoding, the front end, bench).
- ``synthetic``: AlexNet training images/s on device-resident random tensors (the ceiling), crops 224 and
  227, batches 128-512: fp32, bf16 autocast, bf16 + channels_last, bf16 + channels_last + torch.compile,
  beside a plain pytorch/examples loop (torchvision's ``alexnet``, fp32, SGD) on the same tensors. Each
  row also gives the fraction of the GPU's dense bf16 peak (training FLOPs taken as 3x the forward's).
- ``jpeg``: the same training step fed from a generated ImageNet-like JPEG folder (375 high, 375-500 wide)
  through the real loaders: CPU workers (torchvision, the default), ``--decode-on-device`` (nvjpeg), and
  ``--pipeline dali``, also from its pre-resized copy (shorter side 256, ``rfnet.imagenet.resized``);
  beside pytorch/examples' loader (``ImageFolder``, PIL, transforms) and its plain step.
- ``bench``: ``rfnet bench`` latency and throughput of the AlexNet spectrogram classifier in every mode.
- ``accuracy``: a short ``benchmarks/accuracy.py --device cuda`` (8,800 examples, baselines at most 10 epochs).

Writes ``benchmarks/results/gpu_<stage>.json`` (``gpu_dryrun_<stage>.json`` for a dry run) and prints one
table. Goals (recorded, not asserted): training >= 3x the plain loop and >= 20,000 images/s at 224 in
bf16 from real JPEG files.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"

STAGE_BOXES_S = {"tests": 90, "synthetic": 130, "jpeg": 100, "bench": 80, "accuracy": 60}
"""Each stage's time box in seconds (460 in all, under the 8 minutes with start-up to spare)."""


# --- sizes: the real check and the dry run ------------------------------------------------------------

def sizes(dry_run: bool) -> dict:
    """What each stage measures; the dry run keeps every code path at tiny sizes on the CPU."""
    if dry_run:
        return {"device": "cpu", "crops": [67], "batches": [2], "warmup": 0, "steps": 1,
                "variants": ["fp32", "bf16", "bf16_cl"], "jpeg_images": 8, "jpeg_height": 40, "workers": 0,
                "jpeg_warmup": 0, "jpeg_batches": 1}
    # largest batch first: if the box runs out, the rows that matter most are in
    return {"device": "cuda", "crops": [224, 227], "batches": [512, 256, 128], "warmup": 5, "steps": 20,
            "variants": ["fp32", "bf16", "bf16_cl", "bf16_cl_compile"], "jpeg_images": 2048, "jpeg_height": 375,
            "workers": max(1, (os.cpu_count() or 2) - 1), "jpeg_warmup": 2, "jpeg_batches": 8}


# --- one training step, timed ------------------------------------------------------------------------

def alexnet(crop: int, plain: bool) -> torch.nn.Module:
    """rfnet's AlexNet as ``rfnet train-imagenet`` builds it (conv1 padded 2 at 224), or torchvision's."""
    if plain:
        from torchvision.models import alexnet as torchvision_alexnet

        return torchvision_alexnet(num_classes=1000)
    from rfnet.models import create_model

    return create_model("alexnet", num_classes=1000, **({"conv1_padding": 2} if crop == 224 else {}))


class TrainStep:
    """SGD (the paper's momentum and weight decay) on ``model`` in ``variant``: ``fp32``, ``bf16`` (autocast),
    ``bf16_cl`` (and channels_last), ``bf16_cl_compile`` (and torch.compile). Call with a batch on the device."""

    def __init__(self, model: torch.nn.Module, variant: str, device: torch.device) -> None:
        self.channels_last = "_cl" in variant
        self.autocast = variant.startswith("bf16")
        self.device = device
        model = model.to(device)
        if self.channels_last:
            model = model.to(memory_format=torch.channels_last)
        self.optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
        self.model = torch.compile(model) if variant.endswith("compile") else model

    def __call__(self, images: torch.Tensor, targets: torch.Tensor) -> None:
        if self.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast):
            loss = torch.nn.functional.cross_entropy(self.model(images), targets)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed_rate(step: Callable[[], int], warmup: int, steps: int, device: torch.device) -> float:
    """Images/s over ``steps`` calls of ``step`` (each returns its batch size) after ``warmup`` untimed ones."""
    for _ in range(warmup):
        step()
    synchronize(device)
    start, images = time.perf_counter(), 0
    for _ in range(steps):
        images += step()
    synchronize(device)
    return images / (time.perf_counter() - start)


@functools.cache
def training_flops(crop: int, plain: bool) -> float:
    """FLOPs to train on one ``crop`` image: 3x the forward pass's (backward costs about twice forward)."""
    from rfnet.bench.flops import count_flops

    return 3 * count_flops(alexnet(crop, plain), torch.randn(1, 3, crop, crop))


@functools.cache
def bf16_peak(device: torch.device) -> float:
    from rfnet.bench.flops import device_peak

    return device_peak(device, "bf16").flops_per_s


# --- stages ------------------------------------------------------------------------------------------

class Rows:
    """A stage's results, rewritten to its JSON file after every row (a killed stage keeps what it had)."""

    def __init__(self, path: Path, stage: str, dry_run: bool) -> None:
        self.path, self.record = path, {"stage": stage, "dry_run": dry_run, "machine": machine(), "rows": []}
        self.save()

    def add(self, name: str, value: float | str, unit: str = "", **extra) -> None:
        self.record["rows"].append({"name": name, "value": value, "unit": unit, **extra})
        self.save()

    def save(self) -> None:
        temporary = self.path.with_suffix(".partial")
        temporary.write_text(json.dumps(self.record, indent=2) + "\n")
        temporary.replace(self.path)


def run_until(command: list[str], deadline: float) -> tuple[int | None, str]:
    """Run ``command`` in the repository until ``deadline`` at most: (exit code, or None when it was stopped
    at the deadline; its output so far, stdout and stderr together)."""
    try:
        done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=max(1.0, deadline - time.time()))
        return done.returncode, done.stdout.decode(errors="replace")
    except subprocess.TimeoutExpired as stopped:
        return None, (stopped.output or b"").decode(errors="replace")


def stage_tests(rows: Rows, size: dict, deadline: float) -> None:
    # tests/test_cuda.py holds every test marked cuda; naming it spares collecting the whole suite
    command = [sys.executable, "-m", "pytest", "-m", "cuda", "-q", "-p", "no:cacheprovider", "tests/test_cuda.py"]
    code, output = run_until(command, deadline)
    summary = (output.strip().splitlines() or ["no output"])[-1] if code is not None else "stopped at the time box"
    rows.add("pytest -m cuda", summary, exit_code=code, output_tail=output[-4000:])


def stage_synthetic(rows: Rows, size: dict, deadline: float) -> None:
    device = torch.device(size["device"])
    for batch in size["batches"]:
        for crop in size["crops"]:
            images = torch.randn(batch, 3, crop, crop, device=device)
            targets = torch.randint(0, 1000, (batch,), device=device)
            for family, variant in [("plain", "fp32")] + [("rfnet", v) for v in size["variants"]]:
                if variant.endswith("compile") and (batch, crop) != (size["batches"][0], size["crops"][0]):
                    continue  # compiling costs tens of seconds per shape: the first (largest) shape only
                name = f"{family} {variant} {crop} b{batch}"
                if time.time() > deadline:
                    rows.add(name, "not reached in the time box")
                    continue
                step = TrainStep(alexnet(crop, plain=family == "plain"), variant, device)

                def one_step() -> int:
                    step(images, targets)
                    return batch

                rate = timed_rate(one_step, size["warmup"], size["steps"], device)
                fraction = training_flops(crop, family == "plain") * rate / bf16_peak(device)
                rows.add(name, round(rate, 1), "images/s", crop=crop, batch=batch, family=family, variant=variant,
                         bf16_peak_fraction=fraction)
                del step
                if device.type == "cuda":
                    torch.cuda.empty_cache()


def stage_jpeg(rows: Rows, size: dict, deadline: float) -> None:
    from torch.utils.data import DataLoader
    from torchvision.datasets import ImageFolder

    from imagenet_pipeline import reference_transform
    from rfnet.imagenet.dali import dali_available
    from rfnet.imagenet.folder import ImageNetFolder
    from rfnet.imagenet.image_folders import write_procedural_imagenet
    from rfnet.imagenet.resized import write_resized_copy
    from rfnet.imagenet.transforms import eval_transform, train_transform
    from rfnet.jobs.train_imagenet import device_decoding
    from rfnet.train.distributed import DistributedContext
    from rfnet.train.loaders import train_loader

    device, crop, batch = torch.device(size["device"]), size["crops"][0], size["batches"][0]
    data = Path(tempfile.gettempdir()) / "imagenet"  # in the check's scratch folder (run_stage)
    write_procedural_imagenet(data, 4, size["jpeg_images"] // 4, 1, size=size["jpeg_height"], seed=0)
    resized = data.with_name("imagenet_256")  # the pre-resized copy (rfnet.imagenet.resized)
    counts = write_resized_copy(data, resized, 256, workers=size["workers"] or 1)
    rows.add("copy at 256: MB read per epoch", round(counts["bytes_after"] / 1e6, 3), "MB",
             full_size_mb=round(counts["bytes_before"] / 1e6, 3), images=counts["images"])
    ctx = DistributedContext(device=device)
    loaders = {"plain (ImageFolder + PIL)": ("fp32", None, data),
               "rfnet, CPU workers": ("bf16_cl", None, data),
               "rfnet, --decode-on-device": ("bf16_cl", "torchvision", data),
               "rfnet, --pipeline dali": ("bf16_cl", "dali", data),
               "rfnet, CPU workers, copy at 256": ("bf16_cl", None, resized),
               "rfnet, --pipeline dali, copy at 256": ("bf16_cl", "dali", resized)}
    for name, (variant, on_device, root) in loaders.items():
        if time.time() > deadline:
            rows.add(name, "not reached in the time box")
            continue
        if on_device == "dali" and not dali_available():
            rows.add(name, "skipped: DALI is not installed (pip install 'rfnet[gpu]')")
            continue
        prepare = None  # (batch from the loader) -> (images, targets); None: the batch's first two items
        train = ImageNetFolder(root, "train", transform=train_transform(crop, seed=0))
        val = ImageNetFolder(root, "val", transform=eval_transform(crop))
        if name.startswith("plain"):
            dataset = ImageFolder(str(root / "train"), transform=reference_transform(crop))
            loader = DataLoader(dataset, batch_size=batch, shuffle=True, num_workers=size["workers"],
                                pin_memory=device.type == "cuda")
        elif on_device is None:
            loader = train_loader(train, batch, 0, 0, ctx, num_workers=size["workers"])
        else:  # what rfnet train-imagenet wires: workers read bytes, the device decodes and augments
            decoding = device_decoding(train, val, val, device, on_device, batch)
            encoded = decoding["datasets"][0]
            loader = train_loader(encoded, batch, 0, 0, ctx, num_workers=size["workers"],
                                  collate_fn=decoding["collate_fn"])
            prepare = functools.partial(decoding["prepare_batch"], dataset=encoded)
        step = TrainStep(alexnet(crop, plain=name.startswith("plain")), variant, device)
        batches = _cycle(loader)

        def one_batch() -> int:
            images, targets = (prepare or _first_two)(next(batches))
            step(images.to(device, non_blocking=True), targets.to(device, non_blocking=True))
            return len(targets)

        rate = timed_rate(one_batch, size["jpeg_warmup"], size["jpeg_batches"], device)
        rows.add(name, round(rate, 1), "images/s", crop=crop, batch=batch, variant=variant, workers=size["workers"])


def _cycle(loader):
    while True:
        yield from loader


def _first_two(batch):
    return batch[0], batch[1]


def stage_bench(rows: Rows, size: dict, deadline: float) -> None:
    from rfnet.models import create_model, save

    with tempfile.TemporaryDirectory() as folder:
        model_dir = save(create_model("spectrogram_classifier", classes=[f"c{i}" for i in range(11)],
                                      num_samples=128), Path(folder) / "alexnet")
        store = Path(folder) / "results.sqlite"
        modes, batches = ("eager", "1") if size["device"] == "cpu" else ("all", "1,256")
        command = [sys.executable, "-m", "rfnet", "bench", "--model", str(model_dir), "--device", size["device"],
                   "--modes", modes, "--batch-sizes", batches, "--warmup", str(size["warmup"]),
                   "--repeats", str(size["steps"]), "--budget", "2", "--out", str(store), "--quiet"]
        code, output = run_until(command, deadline - 5)  # 5 s to read back what it stored
        if store.exists():
            from rfnet.bench.store import ResultsStore

            for m in ResultsStore(store).measurements():
                rows.add(f"bench {m.mode} b{m.batch_size}", round(m.median_ms, 3), "ms median",
                         examples_per_s=m.examples_per_s, p99_ms=m.p99_ms, peak_fraction=m.peak_fraction)
        status = "stopped at the time box" if code is None else f"exit {code}"
        rows.add("rfnet bench output", status, output_tail=output[-4000:])


def stage_accuracy(rows: Rows, size: dict, deadline: float) -> None:
    if size["device"] == "cpu":
        rows.add("accuracy.py", "skipped in the dry run: minutes even at its smallest budget")
        return
    with tempfile.TemporaryDirectory() as folder:
        result = Path(folder) / "accuracy.json"
        # the script's default budget (8,800 examples) with the baselines capped at 10 epochs: what fits in the
        # box; the 44,000-example CPU run (and ten times it) would take the whole check
        command = [sys.executable, "benchmarks/accuracy.py", "--preset", "rml2016", "--out", f"{folder}/run",
                   "--per-class-snr", "100", "--snr-min", "-10", "--snr-max", "18", "--snr-step", "4",
                   "--baseline-epochs", "10", "--device", "cuda", "--json", str(result)]
        start = time.time()
        code, output = run_until(command, deadline)
        rows.add("accuracy.py wall time", round(time.time() - start, 1), "s", exit_code=code, output_tail=output[-4000:])
        if result.exists():
            rows.add("accuracy.py result", json.loads(result.read_text()))


STAGES: dict[str, Callable[[Rows, dict, float], None]] = {
    "tests": stage_tests, "synthetic": stage_synthetic, "jpeg": stage_jpeg, "bench": stage_bench,
    "accuracy": stage_accuracy,
}


# --- the orchestrator --------------------------------------------------------------------------------

def machine() -> dict:
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {"gpu": gpu, "cpu_count": os.cpu_count(), "processor": platform.processor() or platform.machine(),
            "torch": torch.__version__, "cuda": torch.version.cuda, "date_utc": time.strftime("%Y-%m-%d %H:%M")}


def result_path(out: Path, stage: str, dry_run: bool) -> Path:
    return out / f"gpu_{'dryrun_' if dry_run else ''}{stage}.json"


def run_stage(stage: str, box_s: float, out: Path, dry_run: bool, scratch: Path) -> dict:
    """Run ``stage`` in a child process (its own process group) for at most ``box_s`` seconds.

    The child's temporary files go to ``scratch`` (its ``TMPDIR``), a folder this process owns and removes:
    a child killed at its box cannot clean up after itself."""
    path = result_path(out, stage, dry_run)
    path.unlink(missing_ok=True)
    command = [sys.executable, __file__, "--stage", stage, "--deadline", str(time.time() + 0.9 * box_s),
               "--out", str(out)] + (["--dry-run"] if dry_run else [])
    start = time.time()
    child = subprocess.Popen(command, cwd=ROOT, start_new_session=True, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, env={**os.environ, "TMPDIR": str(scratch)})
    try:
        output, _ = child.communicate(timeout=box_s)
        status = "ok" if child.returncode == 0 else f"failed (exit {child.returncode})"
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)  # the stage and its workers (DataLoader, compile, DALI)
        output, _ = child.communicate()
        status = f"killed at its {box_s:.0f} s time box"
    record = json.loads(path.read_text()) if path.exists() else {"stage": stage, "rows": []}
    record.update(status=status, seconds=round(time.time() - start, 1), output_tail=(output or "")[-4000:])
    path.write_text(json.dumps(record, indent=2) + "\n")
    return record


def table(records: list[dict]) -> str:
    lines = [f"{'stage':10s} {'status':28s} {'measurement':42s} value"]
    for record in records:
        rows = [r for r in record["rows"] if not isinstance(r["value"], dict) and "output" not in r["name"]]
        for index, row in enumerate(rows or [{"name": "-", "value": "", "unit": ""}]):
            status = record["status"] if index == 0 else ""
            value = f"{row['value']:,.1f}" if isinstance(row["value"], float) else str(row["value"])
            peak = row.get("bf16_peak_fraction")
            extra = f"  ({100 * peak:.1f}% of bf16 peak)" if isinstance(peak, float) else ""
            lines.append(f"{record['stage'] if index == 0 else '':10s} {status:28s} {row['name']:42s} "
                         f"{value} {row.get('unit', '')}{extra}".rstrip())
    return "\n".join(lines)


def check(stages: list[str], budget_s: float, out: Path, dry_run: bool) -> list[dict]:
    """Run ``stages`` in turn within ``budget_s`` seconds in all; print and return their records."""
    out.mkdir(parents=True, exist_ok=True)
    end, records = time.time() + budget_s, []
    with tempfile.TemporaryDirectory(prefix="rfnet_gpu_check_") as scratch:
        for stage in stages:
            box = min(STAGE_BOXES_S[stage] * (0.5 if dry_run else 1.0), end - time.time())
            if box < 5:
                records.append({"stage": stage, "rows": [], "status": "skipped: the total budget is spent"})
                continue
            print(f"[gpu_check] {stage} (at most {box:.0f} s)", flush=True)
            stage_scratch = Path(scratch) / stage
            stage_scratch.mkdir()
            records.append(run_stage(stage, box, out, dry_run, stage_scratch))
    print(table(records))
    return records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="tiny sizes on the CPU: checks the plumbing")
    parser.add_argument("--stages", default=",".join(STAGES), help="comma-separated, in order (default: all)")
    parser.add_argument("--budget-s", type=float, default=470.0, help="seconds for all stages together")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for gpu_<stage>.json")
    parser.add_argument("--stage", choices=sorted(STAGES), help=argparse.SUPPRESS)  # the child process
    parser.add_argument("--deadline", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stage:
        size = sizes(args.dry_run)
        STAGES[args.stage](Rows(result_path(args.out, args.stage, args.dry_run), args.stage, args.dry_run),
                           size, args.deadline)
        return 0
    stages = [s for s in args.stages.split(",") if s]
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        parser.error(f"--stages: unknown {unknown}; choose from {list(STAGES)}")
    dry_run = args.dry_run
    if not dry_run and not torch.cuda.is_available():
        print("[gpu_check] no CUDA GPU here: nothing to measure. Dry run of the plumbing on the CPU instead.")
        dry_run = True
    records = check(stages, args.budget_s, args.out, dry_run)
    return 0 if dry_run or all(r["status"] == "ok" for r in records) else 1


if __name__ == "__main__":
    sys.exit(main())
