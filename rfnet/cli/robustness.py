"""``rfnet robustness``: accuracy against PSR / JSR for attacks and jammers, self-checks, report."""

from __future__ import annotations

import argparse
import re

from .options import DATA_HELP, add_snr_range, class_list, snr_range

ATTACKS_HELP = (
    "comma-separated: fgm, fgsm, pgd (L2), pgd_linf, apgd (auto-PGD, L2), apgd_linf, uap (universal, crafted "
    "on training data), transfer (crafted on --surrogate), noise (Gaussian, the PSR reference); jammers at "
    "JSR: tone, barrage, partial_band, chirp, pulsed, cochannel (default fgm,pgd,noise)"
)


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "robustness",
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
    parser.add_argument("--model", action="append", required=True, metavar="DIR",
                        help="a finetune run folder or a saved model folder; repeat to compare models")
    parser.add_argument("--data", help=DATA_HELP + " (default: the first run's data and its test split)")
    parser.add_argument("--out", required=True, help="report folder")
    parser.add_argument("--attacks", default="fgm,pgd,noise", help=ATTACKS_HELP)
    parser.add_argument("--psr", default="-40:0:2",
                        help="PSR budgets in dB: start:stop:step or a list (default -40:0:2)")
    parser.add_argument("--jsr", default="-20:20:2", help="JSR budgets in dB for the jammers (default -20:20:2)")
    add_snr_range(parser)
    parser.add_argument("--classes", help="comma-separated class subset, in the models' label order")
    parser.add_argument("--per-class-snr", type=int, help="synthetic presets: examples per (class, SNR)")
    parser.add_argument("--window", type=int, help="SigMF data: samples per window (default: the model's)")
    parser.add_argument("--max-examples", type=int, default=500,
                        help="attack at most this many examples, a stratified choice (default 500; 0: all)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--pgd-steps", type=int, default=10)
    parser.add_argument("--pgd-restarts", type=int, default=1)
    parser.add_argument("--pgd-step-size", type=float,
                        help="PGD step as a fraction of the budget's radius (default 2.5 / steps)")
    parser.add_argument("--pgd-schedule", choices=["constant", "cosine"], default="constant")
    parser.add_argument("--apgd-steps", type=int, default=20, help="APGD iterations (default 20)")
    parser.add_argument("--uap-psr", type=float, default=-10.0, help="PSR the universal perturbation is crafted at")
    parser.add_argument("--uap-epochs", type=int, default=5, help="passes over the crafting data")
    parser.add_argument("--uap-examples", type=int, default=2000,
                        help="crafting examples at most, a stratified choice of the training data (default 2000)")
    parser.add_argument("--surrogate", metavar="DIR", help="model the transfer attack crafts on (e.g. a VT-CNN2 run)")
    parser.add_argument("--unbounded-psr", type=float, default=20.0,
                        help="PSR of the 'unbounded' attack of the gradient-masking check (default +20 dB)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, auto, ...")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rfnet.jobs.robustness import RobustnessJob, parse_budgets, robustness

    job = RobustnessJob(
        models=tuple(args.model), out=args.out, data=args.data,
        attacks=class_list(args.attacks) or (), psr_db=parse_budgets(args.psr, "--psr"),
        jsr_db=parse_budgets(args.jsr, "--jsr"), classes=class_list(args.classes), snr_range=snr_range(args),
        per_class_snr=args.per_class_snr, window_samples=args.window,
        max_examples=args.max_examples or None, batch_size=args.batch_size, pgd_steps=args.pgd_steps,
        pgd_restarts=args.pgd_restarts, pgd_step_size=args.pgd_step_size, pgd_schedule=args.pgd_schedule,
        apgd_steps=args.apgd_steps, uap_psr_db=args.uap_psr, uap_epochs=args.uap_epochs,
        uap_examples=args.uap_examples, surrogate=args.surrogate,
        unbounded_psr_db=args.unbounded_psr, seed=args.seed, device=args.device, progress=not args.quiet,
    )
    report = robustness(job)
    for model in report["models"]:
        print(f"{model['name']}: clean accuracy {100 * model['clean_accuracy']:.1f}% ({model['examples']} examples)")
    for check in report["checks"]:
        print(f"[{'passed' if check['passed'] else 'FAILED'}] {check['model']} {check['name']}: {check['detail']}")
    print(f"report: {args.out}")
    return 0
