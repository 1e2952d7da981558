"""``rfnet imagenet-pca``: the RGB eigen-decomposition of an ImageNet training set, for PCA lighting."""

from __future__ import annotations

import argparse
import os
import sys

from .defaults import job_help
from .options import add_quiet, add_seed, check_output_file, given_options, non_negative_int, positive_int

JOB = "rfnet.imagenet.pca:imagenet_colour_statistics"
"""The function this sub-command calls; its parameters' defaults are the options' defaults (except
``--workers``: the command line decodes with up to 4 processes, the function in its own by default)."""


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "imagenet-pca",
        formatter_class=job_help(JOB),
        help="RGB covariance eigen-decomposition of DATA/train for the PCA colour lighting (JSON)",
        description="Compute the mean, covariance and eigen-decomposition of RGB pixel values (on [0, 1]) over "
        "a random sample of DATA/train's images, reduced to a shorter side of at most --max-side first. "
        "The JSON holds 'eigval' (descending) and 'eigvec' (columns are eigenvectors), which "
        "'rfnet train-imagenet --pca-file' and rfnet.imagenet.lighting.PCALighting.from_json read.",
    )
    parser.add_argument("--data", required=True, metavar="FOLDER", help="folder holding train/<wnid>/*.JPEG")
    parser.add_argument("--out", required=True, help="output JSON file (written when done; replaced)")
    parser.add_argument("--max-images", type=positive_int, help="use this many random training images (default: all)")
    parser.add_argument("--max-side", type=positive_int, help="reduce larger images to this shorter side first")
    add_seed(parser, "which images are drawn")
    parser.add_argument("--workers", type=non_negative_int, default=min(4, os.cpu_count() or 1), metavar="N",
                        help="decoding processes (the result does not depend on it)")
    add_quiet(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import inspect
    from pathlib import Path

    from tqdm import tqdm

    from rfnet.imagenet.pca import imagenet_colour_statistics, write_colour_statistics

    out = Path(args.out)
    check_output_file(args.out)
    if not out.parent.is_dir():
        raise FileNotFoundError(f"{out}: output folder {out.parent} does not exist")
    given = given_options(imagenet_colour_statistics, args)
    call = inspect.signature(imagenet_colour_statistics).bind(args.data, **given)
    call.apply_defaults()
    try:
        with tqdm(unit="img", desc="imagenet-pca", disable=args.quiet) as bar:
            call.arguments["progress"] = bar.update
            stats = imagenet_colour_statistics(*call.args, **call.kwargs)
    except KeyboardInterrupt:
        print(f"rfnet imagenet-pca: interrupted; nothing written to {out}", file=sys.stderr)
        return 130
    write_colour_statistics(
        out, stats, data=str(Path(args.data).resolve()), max_images=call.arguments["max_images"],
        seed=call.arguments["seed"], max_side=call.arguments["max_side"],
    )
    print(f"{stats.images} images, {stats.pixels} pixels")
    print("eigval " + " ".join(f"{v:.4f}" for v in stats.eigval.tolist()))
    for row in stats.eigvec.tolist():
        print("eigvec " + " ".join(f"{v:+.4f}" for v in row))
    print(f"wrote {out}")
    return 0
