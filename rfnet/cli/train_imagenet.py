"""``rfnet train-imagenet``: AlexNet on ImageNet with the paper's recipe, on 1 or 2 devices, or under torchrun."""

from __future__ import annotations

import argparse
import os

from .options import interrupted_run


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "train-imagenet",
        help="train AlexNet on an ImageNet-layout folder with the paper's recipe (1 GPU, 2 GPUs, torchrun)",
        description="Train AlexNet on DATA/train, validating on DATA/val's centre crops each epoch: SGD, "
        "momentum 0.9, weight decay 5e-4, batch 128, lr 0.01 divided by 10 when val top-1 stops improving "
        "(3 times at most), 90 epochs. OUT/best is the best epoch's model (the backbone for "
        "'rfnet finetune --backbone OUT/best'); OUT/summary.json its top-1 / top-5 error on the centre crop "
        "and the 10-crop average. Data parallel: launch with torchrun (--nproc-per-node, --nnodes); "
        "--batch-size is then split over the processes. Ctrl-C and --resume continue an interrupted run.",
    )
    parser.add_argument("--data", required=True, help="folder holding train/<wnid>/*.JPEG and val/")
    parser.add_argument("--out", required=True, help="run folder (checkpoint, best/, metrics.jsonl, summary.json)")
    parser.add_argument("--model", default="alexnet", choices=["alexnet", "alexnet_tv"],
                        help="the paper's net (227 crops) or torchvision's layout (224) (default alexnet)")
    parser.add_argument("--init", default="paper", choices=["paper", "caffe", "he", "torchvision"],
                        help="weight initialisation (default paper: N(0, 0.01), biases 1 in conv2/4/5, fc6/7)")
    parser.add_argument("--drop-rate", type=float, default=0.5, help="dropout after fc6 and fc7 (default 0.5)")
    parser.add_argument("--crop-size", type=int,
                        help="crop side in pixels (default 227 for alexnet, 224 for alexnet_tv; "
                        "alexnet at 224 pads conv1 by 2)")
    parser.add_argument("--resize", type=int, default=256, help="images are first made RESIZE x RESIZE (default 256)")
    parser.add_argument("--no-flip", action="store_true", help="no mirrored training crops")
    parser.add_argument("--no-lighting", action="store_true", help="no PCA colour lighting in training")
    parser.add_argument("--pca-file", help="JSON eigen-decomposition for the lighting (default: published ImageNet)")
    parser.add_argument("--epochs", type=int, default=90)
    parser.add_argument("--batch-size", type=int, default=128, help="examples per step, over all processes")
    parser.add_argument("--lr", type=float, default=0.01, help="initial learning rate (default 0.01)")
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--update-rule", default="torch", choices=["torch", "paper"],
                        help="torch's SGD, or the paper's v <- 0.9 v - 0.0005 lr w - lr grad; w <- w + v "
                        "(the same until the lr drops)")
    parser.add_argument("--plateau-patience", type=int, default=1,
                        help="epochs without a new best val top-1 before the lr is divided by 10 (default 1)")
    parser.add_argument("--lr-drops", type=int, default=3, help="divide the lr at most this many times (default 3)")
    parser.add_argument("--bias-lr-factor", type=float, default=1.0,
                        help="biases train at this x the lr (the reference code: 2)")
    parser.add_argument("--no-bias-decay", action="store_true", help="no weight decay on biases (the reference code)")
    parser.add_argument("--model-parallel", type=int, default=1, choices=[1, 2],
                        help="2: the paper's two-tower split, one tower per device of --devices")
    parser.add_argument("--devices", default="cuda:0,cuda:1",
                        help="the two devices of --model-parallel 2 (default cuda:0,cuda:1; under torchrun "
                        "local rank r shifts CUDA indices by 2r)")
    parser.add_argument("--device", default="auto", help="one-device training: auto (cuda if available), cpu, cuda:1")
    parser.add_argument("--amp", default="auto", choices=["auto", "bf16", "off"],
                        help="auto: bf16 autocast on CUDA, off on CPU")
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--compile", action="store_true", help="torch.compile the model")
    parser.add_argument("--workers", type=int, default=8, help="data loading processes per training process")
    parser.add_argument("--decode-on-device", action="store_true",
                        help="workers only read JPEG bytes; the GPU decodes (nvjpeg), resizes and augments each batch")
    parser.add_argument("--no-ten-crop", action="store_true", help="skip the final 10-crop evaluation")
    parser.add_argument("--checkpoint-every", type=int, metavar="STEPS",
                        help="also checkpoint mid-epoch every STEPS optimiser steps")
    parser.add_argument("--seed", type=int, default=0, help="seeds weights, data order and augmentation")
    parser.add_argument("--resume", action="store_true", help="continue the interrupted run in --out")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rfnet.jobs.train_imagenet import ImageNetJob, format_outcome, train_imagenet

    job = ImageNetJob(
        data=args.data, out=args.out, model=args.model, init=args.init, drop_rate=args.drop_rate,
        crop_size=args.crop_size, resize=args.resize, flip=not args.no_flip, lighting=not args.no_lighting,
        pca_file=args.pca_file,
        epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, momentum=args.momentum,
        weight_decay=args.weight_decay, update_rule=args.update_rule, plateau_patience=args.plateau_patience,
        lr_drops=args.lr_drops, bias_lr_factor=args.bias_lr_factor, bias_weight_decay=not args.no_bias_decay,
        model_parallel=args.model_parallel, devices=tuple(d.strip() for d in args.devices.split(",") if d.strip()),
        device=args.device, amp=args.amp, channels_last=args.channels_last, compile=args.compile,
        num_workers=args.workers, decode_on_device=args.decode_on_device, ten_crop=not args.no_ten_crop,
        checkpoint_every_steps=args.checkpoint_every, seed=args.seed, resume=args.resume, progress=not args.quiet,
    )  # fmt: skip
    try:
        outcome = train_imagenet(job)
    except KeyboardInterrupt:
        return interrupted_run("train-imagenet", args.out)
    if _is_main_process():
        print(format_outcome(outcome))
    return 0


def _is_main_process() -> bool:
    """Rank 0 under torchrun (``RANK``), or the only process."""
    return os.environ.get("RANK", "0") == "0"
