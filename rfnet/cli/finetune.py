"""``rfnet finetune``: train a classifier and report on the test split."""

from __future__ import annotations

import argparse

from .defaults import DefaultsHelpFormatter
from .options import (DATA_HELP, add_data_selection, add_deprecated_spelling, add_device, add_num_samples, add_quiet,
                      add_resume, add_seed, interrupted_run, job_from_args, non_negative_float, positive_float,
                      positive_int, snr_range)

JOB = "rfnet.jobs.finetune:FinetuneJob"
"""The job this sub-command fills; its fields' defaults are the options' defaults."""

ARCHITECTURES = ("alexnet", "alexnet_tv", "vtcnn2", "radioml_resnet")
"""``--arch`` choices: ``rfnet.jobs.finetune.MODELS``, restated so that building the parser imports no job."""


class RecipeDefaultsHelpFormatter(DefaultsHelpFormatter):
    """Help that shows FinetuneJob's defaults and appends each model's recipe value to the recipe options
    (--lr, --weight-decay, --batch-size, --epochs, --lr-schedule), read from
    :data:`rfnet.jobs.recipes.RECIPES` only when help is shown, so that building the parser (every ``rfnet``
    call) does not import the jobs."""

    job = JOB

    def _get_help_string(self, action: argparse.Action) -> str | None:
        from rfnet.jobs.recipes import RECIPE_OPTIONS, RECIPES

        if action.dest not in RECIPE_OPTIONS:
            return super()._get_help_string(action)
        values = ", ".join(f"{name} {getattr(recipe, action.dest)}" for name, recipe in RECIPES.items())
        extra = ""
        if action.dest == "epochs":
            extra = "; early-stopping patience, epochs without a new best: " + ", ".join(
                f"{name} {recipe.early_stopping_patience} (validation {recipe.monitor})"
                for name, recipe in RECIPES.items() if recipe.early_stopping_patience is not None)
        return f"{action.help} (default: the model's recipe, {values}{extra})"


def add_parser(commands) -> None:
    finetune = commands.add_parser(
        "finetune",
        formatter_class=RecipeDefaultsHelpFormatter,
        help="train a classifier (AlexNet on spectrograms, or a raw-IQ baseline) and report on the test split",
        description="Split the data 80/10/10 (stratified by class and SNR; SigMF data by recording), train, "
        "keep the best model by validation accuracy (OUT/best), and evaluate it on the test split "
        "(OUT/report: metrics.json and figures, temperature fitted on the validation split). "
        "Each model trains with its own recipe (rfnet.jobs.recipes) unless --lr, --weight-decay, --batch-size, "
        "--epochs or --lr-schedule say otherwise: AlexNet with rfnet's fine-tuning default, VT-CNN2 and the "
        "RadioML ResNet with Adam, as their papers did, and early stopping. Ctrl-C and --resume continue an "
        "interrupted run.",
    )
    finetune.add_argument("--data", required=True, help=DATA_HELP)
    finetune.add_argument("--out", required=True, metavar="FOLDER",
                          help="run folder (checkpoint, best/, metrics.jsonl, report/)")
    finetune.add_argument("--backbone", metavar="FOLDER",
                          help="'scratch', a saved AlexNet folder (gets a new head for the data's classes) or a "
                          "saved classifier folder such as an earlier run's best/ (continued; its head is "
                          "replaced if its classes differ from the data's)")
    finetune.add_argument("--arch", dest="model", choices=ARCHITECTURES,
                          help="with --backbone scratch: AlexNet on spectrograms (paper or torchvision layout, "
                          "He init) or a baseline on raw IQ")
    add_deprecated_spelling(finetune, "--model", "--arch")
    finetune.add_argument("--freeze-up-to", metavar="LAYER",
                          help="freeze the AlexNet backbone up to and including this layer, conv1 ... fc7 "
                          "(default: train every layer)")
    finetune.add_argument("--lr", type=positive_float, help="AdamW learning rate")
    finetune.add_argument("--lr-backbone", type=positive_float, help="learning rate of conv1-fc7 (default --lr)")
    finetune.add_argument("--lr-head", type=positive_float, help="learning rate of fc8, the new head (default --lr)")
    finetune.add_argument("--weight-decay", type=non_negative_float, help="AdamW decoupled weight decay, 0 = Adam")
    finetune.add_argument("--epochs", type=positive_int, help="most epochs to train")
    finetune.add_argument("--batch-size", type=positive_int, help="examples per step")
    finetune.add_argument("--lr-schedule", choices=["constant", "cosine"],
                          help="learning rate over the epochs: constant, or cosine decay over --epochs")
    add_data_selection(finetune)
    add_num_samples(finetune, "window_samples", "SigMF data: samples per window")
    finetune.add_argument("--image-size", type=positive_int,
                          help="spectrogram side in pixels, at least the architecture's minimum (default: "
                          "rfnet.jobs.finetune.DEFAULT_IMAGE_SIZE, or a saved --backbone's own)")
    finetune.add_argument("--imagenet-normalize", action=argparse.BooleanOptionalAction,
                          help="centre the spectrogram with the ImageNet mean/std (an ImageNet-trained --backbone "
                          "needs it, and AlexNet from scratch, without batch norm, leaves chance sooner on "
                          "centred images)")
    finetune.add_argument("--adv-train", choices=["fgm", "fgsm", "pgd", "pgd_linf"],
                          help="adversarial training: replace each training batch by its adversarial version "
                          "under this attack, in the IQ domain (default: none)")
    finetune.add_argument("--adv-psr", dest="adv_psr_db", type=float, metavar="DB",
                          help="PSR budget of --adv-train in dB (perturbation-to-signal power)")
    finetune.add_argument("--adv-steps", type=positive_int, help="PGD steps of --adv-train pgd")
    add_device(finetune)
    add_seed(finetune, "the data, split, model and training")
    add_resume(finetune)
    add_quiet(finetune)
    finetune.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rfnet.jobs.finetune import FinetuneJob, finetune, format_outcome

    job = job_from_args(FinetuneJob, args, snr_range=snr_range(args), progress=not args.quiet)
    try:
        outcome = finetune(job)
    except KeyboardInterrupt:
        return interrupted_run("finetune", args.out)
    print(format_outcome(outcome))
    return 0
