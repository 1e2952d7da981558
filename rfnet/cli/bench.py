"""``rfnet bench``: latency and throughput of saved models, appended to the results store."""

from __future__ import annotations

import argparse


def add_parser(commands) -> None:
    bench = commands.add_parser(
        "bench",
        help="measure latency and throughput of saved models in several execution modes; store the results",
        description="Time each model (front end included, on random complex IQ) in each mode at each batch "
        "size: warm-up calls, then repeated calls; median, p90 and p99 per batch, examples per second, FLOPs "
        "per example and the fraction of the device's peak. Modes that do not apply to the device or model "
        "are skipped with the reason. Rows are appended to an SQLite results store (never overwritten); a "
        "finetune run's test accuracy (run/report/metrics.json) is stored beside them.",
    )
    bench.add_argument("--model", action="append", required=True, metavar="FOLDER",
                       help="a finetune run folder (run/) or a saved model folder; repeat for several models")
    bench.add_argument("--name", action="append", metavar="NAME",
                       help="display name of each --model, in order (default: the run folder's name)")
    bench.add_argument("--modes", default="all",
                       help="comma-separated modes: eager, compile, channels_last, bf16, fp16, cuda_graphs, int8, "
                       "onnxruntime; 'all' (default) tries each and skips those that do not apply")
    bench.add_argument("--batch-sizes", default="1,8,64,256",
                       help="comma-separated batch sizes (default 1,8,64,256: latency at 1, throughput above)")
    bench.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:1, auto")
    bench.add_argument("--num-samples", type=int,
                       help="IQ samples per example (default: the model's input length, or its run's)")
    bench.add_argument("--warmup", type=int, default=3, help="untimed calls before timing (default 3)")
    bench.add_argument("--repeats", type=int, default=50, help="timed calls at most (default 50)")
    bench.add_argument("--budget", type=float, default=5.0,
                       help="seconds of timed calls per point after which timing stops (at least 5 calls; default 5)")
    bench.add_argument("--out", help="results store (default $RFNET_RESULTS, else ./rfnet-results.sqlite)")
    bench.add_argument("--quiet", action="store_true", help="no progress bar")
    bench.set_defaults(run=run)


def _list(text: str, what: str, kind: type = str) -> tuple:
    try:
        items = tuple(kind(part.strip()) for part in text.split(",") if part.strip())
    except ValueError:
        raise ValueError(f"--{what} {text!r}: expected a comma-separated list of {kind.__name__}") from None
    if not items:
        raise ValueError(f"--{what}: empty list")
    return items


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from rfnet.bench.job import BenchJob, bench, format_table
    from rfnet.bench.modes import check_modes
    from rfnet.bench.store import MODES, default_store_path

    modes = MODES if args.modes.strip() == "all" else _list(args.modes, "modes")
    check_modes(modes)
    out = args.out or str(default_store_path())
    job = BenchJob(models=tuple(args.model), out=out, modes=modes,
                   batch_sizes=_list(args.batch_sizes, "batch-sizes", int), device=args.device,
                   names=tuple(args.name or ()), num_samples=args.num_samples, warmup=args.warmup,
                   repeats=args.repeats, budget_s=args.budget)
    with tqdm(desc="bench", unit="point", disable=args.quiet, leave=False) as bar:

        def start(total: int) -> None:
            bar.total = total
            bar.refresh()

        def advance(label: str) -> None:
            bar.set_postfix_str(label)
            bar.update(1)

        outcome = bench(job, progress=advance, start=start)
    print(format_table(outcome))
    print(f"{len(outcome.measurements)} measurements appended to {out}")
    return 0
