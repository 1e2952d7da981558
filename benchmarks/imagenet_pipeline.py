"""ImageNet training input pipeline: where the time goes, and images/s against a PIL + torchvision
transforms v2 reference doing the same steps, side by side in one run.

Both pipelines turn a JPEG file into a normalised float32 ``[3, 227, 227]`` training crop: decode,
shorter side to 256 (bilinear, antialiased), centre 256x256, random 227 crop, random mirror, PCA
lighting, mean/std normalisation; then batches are collated.

- ours: :class:`rfnet.imagenet.folder.ImageNetFolder` with :func:`rfnet.imagenet.transforms.train_transform`
  (torchvision.io's libjpeg-turbo decoder on uint8 tensors; crop and mirror on uint8, one gather);
- reference: ``torchvision.datasets.ImageFolder`` (PIL loader) with ``v2.Compose([Resize(256),
  CenterCrop(256), RandomCrop(227), RandomHorizontalFlip(), ToImage(), ToDtype(float32, scale=True),
  lighting, Normalize])``, pytorch/examples' ImageNet loader plus the paper's steps.

Input: generated JPEGs of ImageNet-like size (375 high, 375-500 wide, quality 90, noisy stripes, so
decoding has real entropy to chew), written once into ``--data`` (kept between runs).

Part 1 times each stage per image in this process (one thread). Part 2 runs both DataLoaders over the
same files, batch ``--batch-size``, for each ``--workers`` count (one thread per process), and prints
images/s and ours/reference. Results also go to ``--out`` as JSON.

    python benchmarks/imagenet_pipeline.py                       # 128 images, 0 and 2 workers
    python benchmarks/imagenet_pipeline.py --images 512 --workers 0 2 4 8 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch
from PIL import Image
from torch.utils.data import DataLoader, default_collate
from torchvision.datasets import ImageFolder
from torchvision.transforms import v2

from rfnet.imagenet.image_folders import write_procedural_imagenet
from rfnet.imagenet.folder import ImageNetFolder
from rfnet.imagenet.lighting import PCALighting
from rfnet.imagenet.transforms import resize_center, train_transform
from rfnet.imagenet.jpeg import decode_rgb, read_encoded
from rfnet.imagenet.normalization import IMAGENET_MEAN, IMAGENET_STD

CROP = 227
CLASSES = 4


class ReferenceLighting:
    """PCA lighting on a float ``[3, H, W]`` tensor, drawn from torch's global RNG (as a plain transform would)."""

    def __init__(self, lighting: PCALighting) -> None:
        self.lighting = lighting

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        alpha = torch.randn(1, 3) * self.lighting.alpha_std
        return image + self.lighting.offsets(alpha)[0][:, None, None]


def reference_steps(crop: int = CROP) -> dict[str, v2.Transform]:
    """pytorch/examples' ImageNet training transforms plus the paper's steps, by stage."""
    return {
        "resize 256 + centre": v2.Compose([v2.Resize(256, antialias=True), v2.CenterCrop(256)]),
        "crop + flip + light + normalise": v2.Compose([
            v2.RandomCrop(crop), v2.RandomHorizontalFlip(), v2.ToImage(), v2.ToDtype(torch.float32, scale=True),
            ReferenceLighting(PCALighting()), v2.Normalize(IMAGENET_MEAN, IMAGENET_STD),
        ]),
    }


def reference_transform(crop: int = CROP) -> v2.Compose:
    return v2.Compose(list(reference_steps(crop).values()))


def stage_times(folder: ImageNetFolder, batch_size: int) -> dict[str, dict[str, float]]:
    """Milliseconds per image of each stage, ours and reference, over every image of ``folder``."""
    ours, reference = {}, {}
    transform = train_transform(CROP, seed=0)
    steps = reference_steps()

    def clock(table, name, fn):
        start = time.perf_counter()
        result = fn()
        table[name] = table.get(name, 0.0) + time.perf_counter() - start
        return result

    our_items, reference_items = [], []
    for index in range(len(folder)):
        path = folder.path(index)
        data = clock(ours, "read file", lambda: read_encoded(path))
        image = clock(ours, "decode", lambda: decode_rgb(data, path))
        square = clock(ours, "resize 256 + centre", lambda: resize_center(image))
        crop = clock(ours, "crop + flip + light + normalise",
                     lambda: transform.apply_batch(square[None], transform.draw([index]))[0])
        our_items.append((crop, 0))
        pil = clock(reference, "read file + decode", lambda: Image.open(path).convert("RGB"))
        pil = clock(reference, "resize 256 + centre", lambda: steps["resize 256 + centre"](pil))
        augment = steps["crop + flip + light + normalise"]
        tensor = clock(reference, "crop + flip + light + normalise", lambda: augment(pil))
        reference_items.append((tensor, 0))
    for table, items in ((ours, our_items), (reference, reference_items)):
        for start in range(0, len(items), batch_size):
            clock(table, "collate", lambda: default_collate(items[start : start + batch_size]))
    ours["read file + decode"] = ours.pop("read file") + ours.pop("decode")
    return {name: {k: 1e3 * v / len(folder) for k, v in table.items()} for name, table in
            (("ours", ours), ("reference", reference))}


def loader_rate(dataset, batch_size: int, workers: int, repeats: int) -> float:
    """Best images/s over ``repeats`` full passes (worker start-up included, as an epoch pays it)."""
    best = 0.0
    for _ in range(repeats):
        loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=workers,
                            worker_init_fn=_one_thread if workers else None)
        start = time.perf_counter()
        count = sum(len(images) for images, _ in loader)
        best = max(best, count / (time.perf_counter() - start))
    return best


def _image_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


def _one_thread(_worker_id: int) -> None:
    torch.set_num_threads(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="/tmp/rfnet_imagenet_pipeline", help="generated JPEG folder (made once)")
    parser.add_argument("--images", type=int, default=128, help="training images to generate (4 classes)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    parser.add_argument("--repeats", type=int, default=2, help="passes per loader; the best counts")
    parser.add_argument("--out", default=str(Path(__file__).with_name("results") / "imagenet_pipeline.json"))
    args = parser.parse_args()
    torch.set_num_threads(1)

    root = Path(args.data) / f"{args.images}"
    if not root.exists():
        write_procedural_imagenet(root, CLASSES, args.images // CLASSES, 0, size=375, seed=0)
    folder = ImageNetFolder(root, "train")
    sizes = [_image_size(folder.path(i)) for i in range(len(folder))]
    width, height = (sum(side) / len(sizes) for side in zip(*sizes))
    print(f"{len(folder)} JPEGs, {width:.0f}x{height:.0f} "
          f"mean, {sum(folder.path(i).stat().st_size for i in range(len(folder))) / len(folder) / 1024:.0f} KiB mean; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

    stages = stage_times(folder, args.batch_size)
    print("\nper image, one thread (ms)")
    print(f"{'stage':34s} {'ours':>8s} {'reference':>10s} {'ref/ours':>9s}")
    for name in ["read file + decode", "resize 256 + centre", "crop + flip + light + normalise", "collate"]:
        ours, ref = stages["ours"][name], stages["reference"][name]
        print(f"{name:34s} {ours:8.2f} {ref:10.2f} {ref / ours:8.2f}x")
    total_ours, total_ref = sum(stages["ours"].values()), sum(stages["reference"].values())
    print(f"{'total':34s} {total_ours:8.2f} {total_ref:10.2f} {total_ref / total_ours:8.2f}x")

    ours_dataset = ImageNetFolder(root, "train", transform=train_transform(CROP, seed=0))
    reference_dataset = ImageFolder(str(root / "train"), transform=reference_transform())
    rates = []
    print(f"\nDataLoader, batch {args.batch_size} (images/s, best of {args.repeats} passes)")
    print(f"{'workers':>7s} {'ours':>8s} {'reference':>10s} {'ours/ref':>9s}")
    for workers in args.workers:
        ours = loader_rate(ours_dataset, args.batch_size, workers, args.repeats)
        ref = loader_rate(reference_dataset, args.batch_size, workers, args.repeats)
        rates.append({"workers": workers, "ours": ours, "reference": ref, "ratio": ours / ref})
        print(f"{workers:7d} {ours:8.0f} {ref:10.0f} {ours / ref:8.2f}x")

    record = {
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "machine": {"cpu_count": os.cpu_count(), "processor": platform.processor() or platform.machine(),
                    "load_average_end": os.getloadavg()[0], "torch": torch.__version__},
        "images": len(folder), "batch_size": args.batch_size, "stage_ms_per_image": stages, "loaders": rates,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(record, indent=2) + "\n")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
