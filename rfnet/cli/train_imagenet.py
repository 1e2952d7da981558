"""``rfnet train-imagenet``: AlexNet on ImageNet with the paper's recipe, on 1 or 2 devices, or under torchrun."""

from __future__ import annotations

import argparse
import os

from .defaults import job_help
from .options import (add_deprecated_spelling, add_device, add_quiet, add_resume, add_seed, comma_list, device_name,
                      interrupted_run, job_from_args, non_negative_float, non_negative_int, positive_float,
                      positive_int)

JOB = "rfnet.jobs.train_imagenet:ImageNetJob"
"""The job this sub-command fills; its fields' defaults are the options' defaults."""

ARCHITECTURES = ("alexnet", "alexnet_tv")
"""``--arch`` choices: ``rfnet.jobs.train_imagenet.MODELS``, restated so that building the parser imports no job."""


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "train-imagenet",
        formatter_class=job_help(JOB),
        help="train AlexNet on an ImageNet-layout folder with the paper's recipe (1 GPU, 2 GPUs, torchrun)",
        description="Train AlexNet on DATA/train, validating on DATA/val's centre crops each epoch, with the "
        "paper's recipe as the defaults below: SGD with momentum and weight decay, the lr divided by 10 when "
        "val top-1 stops improving. OUT/best is the best epoch's model (the backbone for "
        "'rfnet finetune --backbone OUT/best'); OUT/summary.json its top-1 / top-5 error on the centre crop "
        "and the 10-crop average. Data parallel: launch with torchrun (--nproc-per-node, --nnodes); "
        "--batch-size is then split over the processes. Ctrl-C and --resume continue an interrupted run.",
    )
    parser.add_argument("--data", required=True, metavar="FOLDER", help="folder holding train/<wnid>/*.JPEG and val/")
    parser.add_argument("--out", required=True, metavar="FOLDER",
                        help="run folder (checkpoint, best/, metrics.jsonl, summary.json)")
    parser.add_argument("--arch", dest="model", choices=ARCHITECTURES,
                        help="the paper's net (227 crops) or torchvision's layout (224)")
    add_deprecated_spelling(parser, "--model", "--arch")
    parser.add_argument("--init", choices=["paper", "caffe", "he", "torchvision"],
                        help="weight initialisation (paper: N(0, 0.01), biases 1 in conv2/4/5, fc6/7)")
    parser.add_argument("--drop-rate", type=non_negative_float, help="dropout after fc6 and fc7")
    parser.add_argument("--crop-size", type=positive_int,
                        help="crop side in pixels (default: 227 for alexnet, 224 for alexnet_tv; "
                        "alexnet at 224 pads conv1 by 2)")
    parser.add_argument("--resize", type=positive_int, help="images are first made RESIZE x RESIZE")
    parser.add_argument("--no-flip", dest="flip", action="store_false", default=None,
                        help="no mirrored training crops")
    parser.add_argument("--no-lighting", dest="lighting", action="store_false", default=None,
                        help="no PCA colour lighting in training")
    parser.add_argument("--pca-file", help="JSON eigen-decomposition for the lighting (default: published ImageNet)")
    parser.add_argument("--epochs", type=positive_int, help="epochs to train")
    parser.add_argument("--batch-size", type=positive_int, help="examples per step, over all processes")
    parser.add_argument("--lr", type=positive_float, help="initial learning rate")
    parser.add_argument("--momentum", type=non_negative_float, help="SGD momentum")
    parser.add_argument("--weight-decay", type=non_negative_float, help="L2 weight decay")
    parser.add_argument("--update-rule", choices=["torch", "paper"],
                        help="torch's SGD, or the paper's v <- 0.9 v - 0.0005 lr w - lr grad; w <- w + v "
                        "(the same until the lr drops)")
    parser.add_argument("--plateau-patience", type=non_negative_int,
                        help="epochs without a new best val top-1 before the lr is divided by 10")
    parser.add_argument("--lr-drops", type=non_negative_int, help="divide the lr at most this many times")
    parser.add_argument("--bias-lr-factor", type=positive_float,
                        help="biases train at this x the lr (the reference code: 2)")
    parser.add_argument("--no-bias-decay", dest="bias_weight_decay", action="store_false", default=None,
                        help="no weight decay on biases (the reference code)")
    parser.add_argument("--model-parallel", type=int, choices=[1, 2],
                        help="2: the paper's two-tower split, one tower per device of --devices")
    parser.add_argument("--devices", type=comma_list(device_name),
                        help="the two devices of --model-parallel 2 (under torchrun local rank r shifts CUDA "
                        "indices by 2r)")
    add_device(parser)
    parser.add_argument("--amp", choices=["auto", "bf16", "off"], help="auto: bf16 autocast on CUDA, off on CPU")
    parser.add_argument("--channels-last", action="store_true", default=None, help="channels-last memory format")
    parser.add_argument("--compile", action="store_true", default=None, help="torch.compile the model")
    parser.add_argument("--workers", dest="num_workers", type=non_negative_int, metavar="N",
                        help="data loading processes per training process")
    parser.add_argument("--decode-on-device", action="store_true", default=None,
                        help="workers only read JPEG bytes; the GPU decodes (nvjpeg), resizes and augments each batch")
    parser.add_argument("--pipeline", choices=["torchvision", "dali"],
                        help="dali: workers only read JPEG bytes; NVIDIA DALI decodes them on the GPU and augments "
                        "each batch, with the same draws (pip install 'rfnet[gpu]')")
    parser.add_argument("--no-ten-crop", dest="ten_crop", action="store_false", default=None,
                        help="skip the final 10-crop evaluation")
    parser.add_argument("--checkpoint-every", dest="checkpoint_every_steps", type=positive_int, metavar="STEPS",
                        help="also checkpoint mid-epoch every STEPS optimiser steps (default: at epoch ends only)")
    add_seed(parser, "weights, data order and augmentation")
    add_resume(parser)
    add_quiet(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rfnet.jobs.train_imagenet import ImageNetJob, format_outcome, train_imagenet

    job = job_from_args(ImageNetJob, args, progress=not args.quiet)
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
