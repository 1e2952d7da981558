"""``rfnet bench``: latency and throughput of saved models, appended to the results store."""

from __future__ import annotations

import argparse

from .defaults import job_help
from .options import (add_device, add_num_samples, add_quiet, check_output_file, comma_list, job_from_args,
                      non_negative_int, positive_float, positive_int)

JOB = "rfnet.jobs.bench:BenchJob"
"""The job this sub-command fills; its fields' defaults are the options' defaults."""


def add_parser(commands) -> None:
    bench = commands.add_parser(
        "bench",
        formatter_class=job_help(JOB),
        help="measure latency and throughput of saved models in several execution modes; store the results",
        description="Time each model (front end included, on random complex IQ) in each mode at each batch "
        "size: warm-up calls, then repeated calls; median, p90 and p99 per batch, examples per second, FLOPs "
        "per example and the fraction of the device's peak. Modes that do not apply to the device or model "
        "are skipped with the reason. Rows are appended to an SQLite results store (never overwritten); a "
        "finetune run's test accuracy (run/report/metrics.json) is stored beside them.",
    )
    bench.add_argument("--model", action="append", required=True, metavar="FOLDER", dest="models",
                       help="a finetune run folder (run/) or a saved model folder; repeat for several models")
    bench.add_argument("--name", action="append", metavar="NAME", dest="names",
                       help="display name of each --model, in order (default: the run folder's name)")
    bench.add_argument("--modes", type=comma_list(),
                       help="comma-separated modes: eager, compile, channels_last, bf16, fp16, cuda_graphs, int8, "
                       "onnxruntime, or all; those that do not apply to the device or model are skipped")
    bench.add_argument("--batch-sizes", type=comma_list(positive_int),
                       help="comma-separated batch sizes: latency at 1, throughput above")
    add_device(bench)
    add_num_samples(bench, "num_samples", "IQ samples per example (default: the model's input length, or its run's)",
                    old=())
    bench.add_argument("--warmup", type=non_negative_int, help="untimed calls before timing")
    bench.add_argument("--repeats", type=positive_int, help="timed calls at most")
    bench.add_argument("--budget", dest="budget_s", type=positive_float, metavar="SECONDS",
                       help="seconds of timed calls per point after which timing stops (at least 5 calls)")
    bench.add_argument("--out", help="results store (default: $RFNET_RESULTS, else ./rfnet-results.sqlite)")
    add_quiet(bench)
    bench.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rfnet.bench.store import MODES, default_store_path

    out = args.out or str(default_store_path())
    check_output_file(out)
    from tqdm import tqdm

    from rfnet.jobs.bench import BenchJob, bench, format_table
    from rfnet.bench.modes import check_modes

    if args.modes == ("all",):
        args.modes = MODES
    if args.modes is not None:
        check_modes(args.modes)
    job = job_from_args(BenchJob, args, out=out)
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
