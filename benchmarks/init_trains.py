"""Which AlexNet initialisation trains with the paper's SGD recipe? ("paper" vs "caffe" vs "torchvision")

The paper's net and optimiser (SGD, lr 0.01, momentum 0.9, weight decay 5e-4, dropout 0.5) on a small
learnable image task that a CPU can run: ``--classes`` classes, each a fixed smooth random pattern,
every example that pattern with random gain, shift and pixel noise. Prints the training loss every
``--log-every`` steps for each initialisation, side by side, and the last-window accuracy.

    python benchmarks/init_trains.py --steps 400 --size 67 --noise 0.5
"""

from __future__ import annotations

import argparse
import math
import time

import torch
import torch.nn.functional as F

from rfnet.models import AlexNet


def make_task(classes: int, size: int, generator: torch.Generator) -> torch.Tensor:
    """One smooth random pattern per class: float ``[classes, 3, size, size]``, zero mean, unit std."""
    coarse = torch.randn(classes, 3, 6, 6, generator=generator)
    patterns = F.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=False)
    return (patterns - patterns.mean()) / patterns.std()


def batch(
    patterns: torch.Tensor, n: int, noise: float, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` examples: a class pattern with random gain (0.5–1.5) and shift (±8 px) plus N(0, noise²) pixels."""
    labels = torch.randint(len(patterns), (n,), generator=generator)
    gain = 0.5 + torch.rand(n, 1, 1, 1, generator=generator)
    shift = torch.randint(-8, 9, (2,), generator=generator).tolist()
    images = gain * torch.roll(patterns[labels], shifts=shift, dims=(2, 3))
    return images + noise * torch.randn(images.shape, generator=generator), labels


def train(init: str, args: argparse.Namespace) -> tuple[list[float], float]:
    torch.manual_seed(args.seed)
    data_rng = torch.Generator().manual_seed(args.seed)
    patterns = make_task(args.classes, args.size, data_rng)
    model = AlexNet(num_classes=args.classes, init=init)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    losses, correct = [], []
    for _ in range(args.steps):
        images, labels = batch(patterns, args.batch, args.noise, data_rng)
        logits = model(images)
        loss = F.cross_entropy(logits, labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item() if math.isfinite(loss.item()) else float("nan"))
        correct.append((logits.argmax(1) == labels).float().mean().item())
    window = correct[-args.log_every :]
    return losses, sum(window) / len(window)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--size", type=int, default=99, help="image height and width, pixels")
    parser.add_argument("--noise", type=float, default=1.0, help="pixel noise std (patterns have std 1)")
    parser.add_argument("--log-every", type=int, default=25)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    inits = ("paper", "caffe", "torchvision")
    results = {}
    for init in inits:
        start = time.perf_counter()
        results[init] = train(init, args)
        print(f"# {init}: {time.perf_counter() - start:.0f} s", flush=True)
    print(f"chance loss ln({args.classes}) = {math.log(args.classes):.3f}")
    print(f"{'step':>6} " + " ".join(f"{init:>12}" for init in inits))
    for step in range(args.log_every - 1, args.steps, args.log_every):
        window = slice(step + 1 - args.log_every, step + 1)
        means = [sum(results[i][0][window]) / args.log_every for i in inits]
        print(f"{step + 1:>6} " + " ".join(f"{m:>12.3f}" for m in means))
    print(f"{'acc':>6} " + " ".join(f"{results[i][1]:>12.2f}" for i in inits))


if __name__ == "__main__":
    main()
