"""``rfnet robustness``: accuracy against PSR / JSR for attacks and jammers, self-checks, report."""

from __future__ import annotations

import argparse
import re

from .defaults import job_help
from .options import (DATA_HELP, add_data_selection, add_device, add_num_samples, add_quiet, add_seed,
                      check_report_folder, comma_list, job_from_args, non_negative_int, positive_float,
                      positive_int, snr_range)

JOB = "rfnet.jobs.robustness:RobustnessJob"
"""The job this sub-command fills; its fields' defaults are the options' defaults."""

ATTACKS_HELP = (
    "comma-separated: fgm, fgsm, pgd (L2), pgd_linf, apgd (auto-PGD, L2), apgd_linf, uap (universal, crafted "
    "on training data), transfer (crafted on --surrogate), noise (Gaussian, the PSR reference); jammers at "
    "JSR: tone, barrage, partial_band, chirp, pulsed, cochannel"
)


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "robustness",
        formatter_class=job_help(JOB),
        help="sweep adversarial attacks and jammers over PSR / JSR budgets: accuracy curves and self-checks",
        description="Attack one or more models in the IQ domain: each attack at each PSR (perturbation-to-signal "
        "power, dB) and each jammer at each JSR, accuracy per budget, the self-checks of Carlini et al. 2019 "
        "(monotone curves, an unbounded attack reaching ~0% or a gradient-masking warning, PGD >= FGM, "
        "convergence, white-box >= transfer, attacks >> noise). Writes OUT/report.json, report.csv, "
        "report.md and accuracy_vs_psr.png / accuracy_vs_jsr.png.",
    )
    # Let budget ranges that start negative ("--psr -40:0:2") be values, not options: argparse by default
    # takes only plain negative numbers ("-40") for values.
    parser._negative_number_matcher = re.compile(r"^-\d")
    parser.add_argument("--model", action="append", required=True, metavar="FOLDER", dest="models",
                        help="a finetune run folder or a saved model folder; repeat to compare models")
    parser.add_argument("--data", help=DATA_HELP + " (default: the first run's data and its test split)")
    parser.add_argument("--out", required=True, metavar="FOLDER", help="report folder")
    parser.add_argument("--attacks", type=comma_list(), help=ATTACKS_HELP)
    parser.add_argument("--psr", dest="psr_db", metavar="GRID",
                        help="PSR budgets in dB: start:stop:step (stop included) or a list")
    parser.add_argument("--jsr", dest="jsr_db", metavar="GRID", help="JSR budgets in dB for the jammers, as --psr")
    add_data_selection(parser, "in the models' label order")
    add_num_samples(parser, "window_samples", "SigMF data: samples per window (default: the model's)")
    parser.add_argument("--max-examples", type=non_negative_int,
                        help="attack at most this many examples, a stratified choice (0: all)")
    parser.add_argument("--batch-size", type=positive_int, help="examples per attack batch")
    parser.add_argument("--pgd-steps", type=positive_int, help="PGD iterations")
    parser.add_argument("--pgd-restarts", type=positive_int, help="PGD runs from random starts; the worst counts")
    parser.add_argument("--pgd-step-size", type=positive_float,
                        help="PGD step as a fraction of the budget's radius (default: 2.5 / steps)")
    parser.add_argument("--pgd-schedule", choices=["constant", "cosine"], help="PGD step size over the iterations")
    parser.add_argument("--apgd-steps", type=positive_int, help="APGD iterations")
    parser.add_argument("--uap-psr", dest="uap_psr_db", type=float, metavar="DB",
                        help="PSR (dB) the universal perturbation is crafted at")
    parser.add_argument("--uap-epochs", type=positive_int, help="passes over the crafting data")
    parser.add_argument("--uap-examples", type=positive_int,
                        help="crafting examples at most, a stratified choice of the training data")
    parser.add_argument("--surrogate", metavar="FOLDER",
                        help="model the transfer attack crafts on, e.g. a VT-CNN2 run (default: none)")
    parser.add_argument("--unbounded-psr", dest="unbounded_psr_db", type=float, metavar="DB",
                        help="PSR (dB) of the 'unbounded' attack of the gradient-masking check")
    add_seed(parser, "the example choice, random starts and crafting")
    add_device(parser)
    add_quiet(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    check_report_folder(args.out)
    from rfnet.jobs.robustness import RobustnessJob, robustness
    from rfnet.robustness.budget import parse_budget_grid

    args.psr_db = parse_budget_grid(args.psr_db, "--psr") if args.psr_db else None
    args.jsr_db = parse_budget_grid(args.jsr_db, "--jsr") if args.jsr_db else None
    everything = {"max_examples": None} if args.max_examples == 0 else {}
    job = job_from_args(RobustnessJob, args, snr_range=snr_range(args), progress=not args.quiet, **everything)
    report = robustness(job)
    for model in report["models"]:
        print(f"{model['name']}: clean accuracy {100 * model['clean_accuracy']:.1f}% ({model['examples']} examples)")
    for check in report["checks"]:
        print(f"[{'passed' if check['passed'] else 'FAILED'}] {check['model']} {check['name']}: {check['detail']}")
    print(f"report: {args.out}")
    return 0
