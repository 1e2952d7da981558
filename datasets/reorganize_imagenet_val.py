"""Sort ImageNet's flat ``val/`` (50,000 ``ILSVRC2012_val_*.JPEG``) into ``val/<wnid>/`` class folders.

The labels come from Kaggle's ``LOC_val_solution.csv`` or the devkit's
``ILSVRC2012_validation_ground_truth.txt`` (with its ``meta.mat`` beside it), found next to the folder
or given with ``--ground-truth``. Everything is checked before the first file moves: a missing image or
label, or a destination already taken, stops it with one error and nothing changed. Run it again after
an interruption to finish. rfnet reads a flat val folder as it is, so this is only for tools that want
class folders.

    python datasets/reorganize_imagenet_val.py /data/imagenet/val --dry-run
    python datasets/reorganize_imagenet_val.py /data/imagenet/val
    python datasets/reorganize_imagenet_val.py /data/imagenet/val --out /data/val_sorted --mode symlink
"""

from __future__ import annotations

import argparse
import sys

from rfnet.imagenet.val import MODES, apply_val_plan, plan_val_folders


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("val_dir", help="the flat val folder")
    parser.add_argument("--ground-truth", help="LOC_val_solution.csv or ILSVRC2012_validation_ground_truth.txt")
    parser.add_argument("--out", help="where the class folders go (default: inside val_dir)")
    parser.add_argument("--mode", choices=MODES, default="move",
                        help="move the files (default), or leave them and symlink / hardlink / copy")
    parser.add_argument("--dry-run", action="store_true", help="check and say what would happen; change nothing")
    args = parser.parse_args(argv)
    try:
        plan = plan_val_folders(args.val_dir, args.ground_truth, args.out)
        if plan.out_dir.resolve() == plan.val_dir.resolve() and args.mode != "move":
            raise ValueError(f"--mode {args.mode} needs --out elsewhere than {plan.val_dir}")
        print(plan.summary())
        if args.dry_run:
            for source, destination in plan.steps[:5]:
                print(f"  {source} -> {destination}")
            print("dry run: nothing changed")
            return 0
        apply_val_plan(plan, args.mode)
    except (ValueError, FileNotFoundError) as err:
        print(f"reorganize_imagenet_val: error: {err}", file=sys.stderr)
        return 2
    print(f"done: {len(plan.steps)} images placed ({args.mode})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
