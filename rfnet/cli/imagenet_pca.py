"""``rfnet imagenet-pca``: the RGB eigen-decomposition of an ImageNet training set, for PCA lighting."""

from __future__ import annotations

import argparse
import os
import sys


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "imagenet-pca",
        help="RGB covariance eigen-decomposition of DATA/train for the PCA colour lighting (JSON)",
        description="Compute the mean, covariance and eigen-decomposition of RGB pixel values (on [0, 1]) over "
        "a random sample of DATA/train's images, reduced to a shorter side of at most --max-side first. "
        "The JSON holds 'eigval' (descending) and 'eigvec' (columns are eigenvectors), which "
        "'rfnet train-imagenet --pca-file' and rfnet.imagenet.lighting.PCALighting.from_json read.",
    )
    parser.add_argument("--data", required=True, help="folder holding train/<wnid>/*.JPEG")
    parser.add_argument("--out", required=True, help="output JSON file (written when done; replaced)")
    parser.add_argument("--max-images", type=int, help="use this many random training images (default all)")
    parser.add_argument("--max-side", type=int, default=256,
                        help="reduce larger images to this shorter side first (default 256)")
    parser.add_argument("--seed", type=int, default=0, help="which images are drawn (default 0)")
    parser.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1),
                        help="decoding processes (the result does not depend on it)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tqdm import tqdm

    from rfnet.imagenet.pca import imagenet_colour_statistics, write_colour_statistics

    out = Path(args.out)
    if not out.parent.is_dir():
        raise FileNotFoundError(f"{out}: output folder {out.parent} does not exist")
    try:
        with tqdm(unit="img", desc="imagenet-pca", disable=args.quiet) as bar:
            stats = imagenet_colour_statistics(
                args.data, args.max_images, seed=args.seed, max_side=args.max_side, workers=args.workers,
                progress=bar.update,
            )
    except KeyboardInterrupt:
        print(f"rfnet imagenet-pca: interrupted; nothing written to {out}", file=sys.stderr)
        return 130
    write_colour_statistics(
        out, stats, data=str(Path(args.data).resolve()), max_images=args.max_images, seed=args.seed,
        max_side=args.max_side,
    )
    print(f"{stats.images} images, {stats.pixels} pixels")
    print("eigval " + " ".join(f"{v:.4f}" for v in stats.eigval.tolist()))
    for row in stats.eigvec.tolist():
        print("eigvec " + " ".join(f"{v:+.4f}" for v in row))
    print(f"wrote {out}")
    return 0
