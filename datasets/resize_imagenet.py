"""Write a pre-resized copy of an ImageNet folder (shorter side 256-320), for disks too slow for full-size JPEGs.

Images longer than ``--short-side`` on their shorter side are resized and re-encoded (JPEG quality 90);
the rest, and every other file, are copied byte for byte, in the same layout: point ``rfnet
train-imagenet --data`` at the copy. The copy appears at OUT only when complete; OUT must not exist yet
(or be empty). See ``rfnet.imagenet.resized``.

    python datasets/resize_imagenet.py /data/ILSVRC2012 /fast/ILSVRC2012-256
    python datasets/resize_imagenet.py /data/ILSVRC2012 /fast/ILSVRC2012-288 --short-side 288 --workers 32
"""

from __future__ import annotations

import argparse
import sys

from rfnet.imagenet.resized import SHORT_SIDES, write_resized_copy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="the ImageNet folder (holding train/ and val/)")
    parser.add_argument("out", help="the new folder for the copy")
    parser.add_argument("--short-side", type=int, default=256,
                        help=f"shorter side of the copy's images, {SHORT_SIDES.start}..{SHORT_SIDES.stop - 1} (default: 256)")
    parser.add_argument("--workers", type=int, help="processes (default: one per CPU)")
    args = parser.parse_args(argv)
    try:
        counts = write_resized_copy(args.source, args.out, args.short_side, workers=args.workers)
    except (ValueError, FileNotFoundError) as err:
        print(f"resize_imagenet: error: {err}", file=sys.stderr)
        return 2
    print(f"done: {counts['images']} images ({counts['resized']} resized), "
          f"{counts['bytes_before'] / 2**20:.1f} MiB -> {counts['bytes_after'] / 2**20:.1f} MiB in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
