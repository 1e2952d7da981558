"""``rfnet finetune``: train a classifier and report on the test split."""

from __future__ import annotations

import argparse

from .options import DATA_HELP, add_snr_range, class_list, interrupted_run, snr_range


class RecipeDefaultsHelpFormatter(argparse.HelpFormatter):
    """Help that appends each model's recipe value to the recipe options (--lr, --weight-decay,
    --batch-size, --epochs), read from :data:`rfnet.jobs.recipes.RECIPES` only when help is shown, so that
    building the parser (every ``rfnet`` call) does not import the jobs."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        from rfnet.jobs.recipes import RECIPE_OPTIONS, RECIPES

        if action.dest not in RECIPE_OPTIONS:
            return action.help
        values = ", ".join(f"{name} {getattr(recipe, action.dest):g}" for name, recipe in RECIPES.items())
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
        "Each model trains with its own recipe (rfnet.jobs.recipes) unless --lr, --weight-decay, --batch-size "
        "or --epochs say otherwise: AlexNet with rfnet's fine-tuning default, VT-CNN2 and the RadioML ResNet "
        "with Adam, as their papers did, and early stopping. Ctrl-C and --resume continue an interrupted run.",
    )
    finetune.add_argument("--data", required=True, help=DATA_HELP)
    finetune.add_argument("--out", required=True, help="run folder (checkpoint, best/, metrics.jsonl, report/)")
    finetune.add_argument("--backbone", default="scratch",
                          help="'scratch' (default), a saved AlexNet folder (gets a new head for the data's "
                          "classes) or a saved classifier folder such as an earlier run's best/ (continued; "
                          "its head is replaced if its classes differ from the data's)")
    finetune.add_argument("--model", default="alexnet", choices=["alexnet", "alexnet_tv", "vtcnn2", "radioml_resnet"],
                          help="with --backbone scratch: AlexNet on spectrograms (paper or torchvision layout, "
                          "He init) or a baseline on raw IQ (default alexnet)")
    finetune.add_argument("--freeze-up-to", metavar="LAYER",
                          help="freeze the AlexNet backbone up to and including this layer (conv1 ... fc7)")
    finetune.add_argument("--lr", type=float, help="AdamW learning rate")
    finetune.add_argument("--lr-backbone", type=float, help="learning rate of conv1-fc7 (default --lr)")
    finetune.add_argument("--lr-head", type=float, help="learning rate of fc8, the new head (default --lr)")
    finetune.add_argument("--weight-decay", type=float,
                          help="AdamW decoupled weight decay, 0 = Adam")
    finetune.add_argument("--epochs", type=int, help="most epochs to train")
    finetune.add_argument("--batch-size", type=int, help="examples per step")
    add_snr_range(finetune)
    finetune.add_argument("--classes", help="comma-separated class subset, in label order")
    finetune.add_argument("--per-class-snr", type=int, help="synthetic presets: examples per (class, SNR)")
    finetune.add_argument("--window", type=int, default=128, help="SigMF data: samples per window (default 128)")
    finetune.add_argument("--image-size", type=int,
                          help="spectrogram side in pixels (default 67; alexnet needs >= 67, alexnet_tv >= 63)")
    finetune.add_argument("--imagenet-normalize", action=argparse.BooleanOptionalAction, default=True,
                          help="centre the spectrogram with the ImageNet mean/std (default on: an ImageNet-trained "
                          "--backbone needs it, and AlexNet from scratch, without batch norm, leaves chance sooner "
                          "on centred images)")
    finetune.add_argument("--adv-train", choices=["fgm", "fgsm", "pgd", "pgd_linf"],
                          help="adversarial training: replace each training batch by its adversarial version "
                          "under this attack (IQ domain)")
    finetune.add_argument("--adv-psr", type=float, default=-10.0,
                          help="PSR budget of --adv-train in dB (perturbation-to-signal power; default -10)")
    finetune.add_argument("--adv-steps", type=int, default=5, help="PGD steps of --adv-train pgd (default 5)")
    finetune.add_argument("--device", default="auto", help="auto (cuda if available), cpu, cuda, cuda:1, ...")
    finetune.add_argument("--seed", type=int, default=0, help="seeds the data, split, model and training")
    finetune.add_argument("--resume", action="store_true", help="continue the interrupted run in --out")
    finetune.add_argument("--quiet", action="store_true", help="no progress bars")
    finetune.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rfnet.jobs.finetune import FinetuneJob, finetune, format_outcome

    job = FinetuneJob(
        data=args.data, out=args.out, backbone=args.backbone, model=args.model, freeze_up_to=args.freeze_up_to,
        lr=args.lr, lr_backbone=args.lr_backbone, lr_head=args.lr_head, weight_decay=args.weight_decay,
        epochs=args.epochs, batch_size=args.batch_size, classes=class_list(args.classes),
        snr_range=snr_range(args), per_class_snr=args.per_class_snr, window_samples=args.window,
        image_size=args.image_size, imagenet_normalize=args.imagenet_normalize, adv_train=args.adv_train,
        adv_psr_db=args.adv_psr, adv_steps=args.adv_steps, device=args.device,
        seed=args.seed, resume=args.resume, progress=not args.quiet,
    )
    try:
        outcome = finetune(job)
    except KeyboardInterrupt:
        return interrupted_run("finetune", args.out)
    print(format_outcome(outcome))
    return 0
