"""Training speed of ``rfnet finetune``'s AlexNet on the CPU, before and after this round's changes, in a plain
PyTorch loop and in rfnet's Trainer, side by side in one run.

The model is the one ``rfnet finetune --arch alexnet`` trains: :class:`~rfnet.models.SpectrogramClassifier`
(front end for 128-sample IQ, 67x67 images, paper AlexNet, He initialisation, 11 classes), on
RadioML-2016-style IQ from rfnet's synthetic generator, with the AlexNet recipe's AdamW, learning rate,
weight decay, batch size and parameter groups. Every run starts from the same weights and trains on the
same examples.

"Before" is the network as it was: fc6 on the average pool's 36 copies of pool5's 1x1 map, and LRN through
``torch.nn.functional.local_response_norm`` with autograd's backward. The benchmark rebuilds it on the current
model: a no-op forward hook on fc6 makes the fold step aside (see :class:`~rfnet.models.AlexNetBackbone`;
the hook counts fc6's calls to prove it) and :class:`TorchLRN` replaces the two LRN layers. "Now" is the
model as it is (fc6 folded with the pool, LRN with its hand-written backward).

Variants:

- ``plain_before`` / ``plain_fold_only`` / ``plain_now``: a plain loop (``DataLoader``, forward,
  cross-entropy, backward, ``AdamW.step``, nothing else); ``plain_fold_only`` has the fold but torch's LRN;
- ``trainer_before`` / ``trainer_now``: :class:`rfnet.train.Trainer` with the ``TrainConfig`` finetune builds
  (progress bar, metrics, a checkpoint at the epoch's end), i.e. ``rfnet finetune`` before / now;
- ``trainer_now_fused_adamw``: the Trainer with ``torch.optim.AdamW(fused=True)`` through its
  ``optimizer_factory``, which is what building the AdamW fused in ``rfnet.train.optim`` would give;
- with ``--channels-last`` / ``--compile``: the Trainer with those ``TrainConfig`` options (compile also with
  the fused AdamW).

Timing: every training step's loss is computed through :class:`ClockedLoss`, which reads the clock, so a step
is the time between two losses: data, forward, backward, optimiser step and whatever else the loop does.
The first ``--warmup`` steps of a run are not counted (the optimiser allocates its state, compilation).
Variants run in turn, ``--rounds`` times (before, now, before, now, ...), so load on the machine falls on
all alike; a run's examples/s is the batch over its median step, and the table gives the median and best
over rounds. ``--profile`` adds torch.profiler's table of one Trainer run (now). ``--threads 1 2`` runs the
whole table at each torch thread count (default: torch's own): on a CPU shared with other work, the
threads of one op wait for each other, and one thread can be the faster.

    python benchmarks/train_speed.py                                   # 3 rounds, 8 timed steps per run
    python benchmarks/train_speed.py --threads 1 2 --compile --profile --json benchmarks/results/train_speed.json
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import functools
import itertools
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset

from rfnet.data.examples import IQExamples
from rfnet.data.synthetic import SynthConfig, generate_chunks
from rfnet.jobs.datasets import LabelledData
from rfnet.jobs.finetune import FinetuneJob, build_model
from rfnet.jobs.recipes import RECIPES
from rfnet.models import TowerLocalResponseNorm
from rfnet.train import TrainConfig, Trainer

RECIPE = RECIPES["alexnet"]
RML2016_TRAIN_EXAMPLES = 176_000
"""Training examples per epoch of ``rfnet finetune --data rml2016`` (80% of 11 classes x 20 SNRs x 1000)."""


class ClockedLoss:
    """Cross-entropy that records when each training step's loss is computed (steps with gradients only)."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def __call__(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled():
            self.times.append(time.perf_counter())
        return F.cross_entropy(logits, targets)

    def examples_per_s(self, batch: int, warmup: int) -> float:
        """``batch`` over the median time between consecutive losses after the first ``warmup`` steps."""
        return batch / float(np.median(np.diff(self.times[warmup:])))


class TorchLRN(nn.Module):
    """``lrn`` (a :class:`~rfnet.models.TowerLocalResponseNorm`) as it was computed before: torch's
    ``local_response_norm`` per tower, differentiated by autograd."""

    def __init__(self, lrn: TowerLocalResponseNorm) -> None:
        super().__init__()
        self.lrn = lrn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lrn, channels = self.lrn, x.shape[1]
        alpha = lrn.alpha if lrn.alpha_over_n else lrn.alpha * lrn.size  # torch divides alpha by size
        per_tower = x.unflatten(1, (lrn.towers, channels // lrn.towers)).flatten(0, 1)
        normed = F.local_response_norm(per_tower, lrn.size, alpha=alpha, beta=lrn.beta, k=lrn.k)
        return normed.unflatten(0, (x.shape[0], lrn.towers)).flatten(1, 2)


def as_before(model: nn.Module, fold: bool, lrn: bool) -> list[int]:
    """Put back what was: fc6 on the pooled copies (``fold=False``) and torch's LRN (``lrn=False``), in place.
    Returns a one-element list counting fc6's calls (it stays 0 while the fold is on)."""
    calls = [0]

    def count(module, args, output) -> None:
        calls[0] += 1

    features = model.backbone.features
    if not fold:
        model.backbone.classifier.fc6.register_forward_hook(count)
    if not lrn:
        for name in ("norm1", "norm2"):
            setattr(features, name, TorchLRN(getattr(features, name)))
    return calls


def synthetic_data(examples: int, seed: int) -> LabelledData:
    """At least ``examples`` RadioML-2016-style examples (11 classes, 128 samples, SNR -20..18 dB)."""
    base = SynthConfig.rml2016()
    cells = len(base.classes) * len(base.snrs)
    config = dataclasses.replace(base, examples_per_cell=-(-examples // cells))
    iq, labels, snrs = (list(part) for part in zip(*generate_chunks(config, seed)))
    iq, labels, snrs = torch.cat(iq), np.concatenate(labels), np.concatenate(snrs)
    dataset = IQExamples(iq, labels, snrs, config.classes, "synthetic rml2016")
    return LabelledData(dataset, config.classes, labels, snrs.astype(np.float64), None, config.num_samples,
                        "synthetic rml2016")


def finetune_config(**options) -> TrainConfig:
    """The ``TrainConfig`` ``rfnet finetune`` builds for AlexNet (one epoch, on the CPU)."""
    return TrainConfig(epochs=1, batch_size=RECIPE.batch_size, optimizer="adamw", lr=RECIPE.lr,
                       weight_decay=RECIPE.weight_decay, early_stopping_patience=RECIPE.early_stopping_patience,
                       seed=0, device="cpu", progress_bar=True, **options)


def param_groups(model: nn.Module) -> list[dict]:
    """finetune's groups when no per-layer rate is given: conv1-fc7 and fc8, both at the recipe's rate."""
    return model.param_groups({"features": RECIPE.lr, "head": RECIPE.lr})


def fused_adamw(params, config: TrainConfig) -> torch.optim.Optimizer:
    """``build_optimizer``'s AdamW, fused into one kernel per parameter."""
    return torch.optim.AdamW(params, lr=config.lr, betas=(config.adam_beta1, config.adam_beta2),
                             weight_decay=config.weight_decay, fused=True)


def run_plain(model: nn.Module, train: Dataset, steps: int, seed: int) -> ClockedLoss:
    """``steps`` steps of the plain loop over ``train``; returns the clock."""
    loss_fn = ClockedLoss()
    optimizer = torch.optim.AdamW(param_groups(model), lr=RECIPE.lr, weight_decay=RECIPE.weight_decay)
    order = torch.Generator().manual_seed(seed)
    loader = DataLoader(train, batch_size=RECIPE.batch_size, shuffle=True, generator=order)
    model.train()
    for iq, labels, _ in itertools.islice(loader, steps):
        loss = loss_fn(model(iq), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return loss_fn


def run_trainer(model: nn.Module, train: Dataset, steps: int, config: TrainConfig,
                optimizer_factory: Callable | None = None) -> ClockedLoss:
    """One epoch of ``train`` (``steps`` batches) and one validation batch through the Trainer; returns the clock."""
    if len(train) != steps * config.batch_size:
        raise ValueError(f"{len(train)} training examples are not {steps} batches of {config.batch_size}")
    loss_fn = ClockedLoss()
    val = Subset(train, range(config.batch_size))
    with tempfile.TemporaryDirectory() as out:
        Trainer(model, train, val, config, out, param_groups=param_groups(model), loss_fn=loss_fn,
                optimizer_factory=optimizer_factory).fit()
    return loss_fn


@dataclasses.dataclass(frozen=True)
class Variant:
    """One way to train: ``run(model, train, steps) -> clock``, on the model with or without the fold and the LRN."""

    run: Callable[[nn.Module, Dataset, int], ClockedLoss]
    fold: bool = True
    lrn: bool = True


def variants(args: argparse.Namespace) -> dict[str, Variant]:
    """Every variant asked for, in the order they run in a round (before and now side by side)."""
    plain = functools.partial(run_plain, seed=args.seed)

    def trainer(optimizer_factory=None, **options):
        return functools.partial(run_trainer, config=finetune_config(**options), optimizer_factory=optimizer_factory)

    table = {
        "plain_before": Variant(plain, fold=False, lrn=False),
        "plain_fold_only": Variant(plain, lrn=False),
        "plain_now": Variant(plain),
        "trainer_before": Variant(trainer(), fold=False, lrn=False),
        "trainer_now": Variant(trainer()),
        "trainer_now_fused_adamw": Variant(trainer(fused_adamw)),
    }
    if args.channels_last:
        table["trainer_now_channels_last"] = Variant(trainer(channels_last=True))
    if args.compile:
        table["trainer_now_compile"] = Variant(trainer(compile=True))
        table["trainer_now_fused_adamw_compile"] = Variant(trainer(fused_adamw, compile=True))
    return table


def measure(name: str, variant: Variant, model: nn.Module, train: Dataset, args: argparse.Namespace) -> float:
    """Examples/s of one run of ``variant`` on a copy of ``model``."""
    copied = copy.deepcopy(model)
    fc6_calls = as_before(copied, variant.fold, variant.lrn)
    clock = variant.run(copied, train, args.warmup + args.steps + 1)
    if not variant.fold and not fc6_calls[0]:
        raise RuntimeError(f"{name}: fc6 was never called, so this was not the unfolded network")
    rate = clock.examples_per_s(RECIPE.batch_size, args.warmup)
    print(f"{name:<34} {rate:7.1f} examples/s  (load {os.getloadavg()[0]:.2f})", flush=True)
    return rate


def profile_trainer(model: nn.Module, train: Dataset, steps: int, rows: int) -> list[dict]:
    """torch.profiler over one Trainer run (now): the ops with the most self CPU time."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as profiler:
        run_trainer(copy.deepcopy(model), train, steps, finetune_config())
    averages = sorted(profiler.key_averages(), key=lambda event: event.self_cpu_time_total, reverse=True)
    total = sum(event.self_cpu_time_total for event in averages)
    print(profiler.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows))
    return [{"op": event.key, "self_cpu_s": event.self_cpu_time_total / 1e6,
             "share": event.self_cpu_time_total / total, "calls": event.count} for event in averages[:rows]]


def summarize(rates: dict[str, list[float]]) -> dict:
    """Median and best examples/s per variant, and the ratios between them."""
    stats = {name: {"median": statistics.median(values), "best": max(values), "runs": values}
             for name, values in rates.items()}

    def ratio(a: str, b: str) -> dict:
        per_round = [x / y for x, y in zip(rates[a], rates[b])]
        return {"of_medians": stats[a]["median"] / stats[b]["median"],
                "of_bests": stats[a]["best"] / stats[b]["best"], "per_round_median": statistics.median(per_round)}

    pairs = [("trainer_now", "trainer_before"), ("plain_now", "plain_before"), ("plain_fold_only", "plain_before"),
             ("plain_now", "plain_fold_only"), ("trainer_now", "plain_now"), ("trainer_before", "plain_before")]
    pairs += [(name, "trainer_before") for name in rates if name.startswith("trainer_now_")]
    return {"variants": stats, "ratios": {f"{a} / {b}": ratio(a, b) for a, b in pairs}}


def benchmark(model: nn.Module, train: Dataset, args: argparse.Namespace) -> dict:
    """Every variant, ``args.rounds`` times in turn, at the current torch thread count; the summary."""
    load_before = os.getloadavg()
    print(f"{len(train)} examples, batch {RECIPE.batch_size}, {args.steps} timed steps per run after {args.warmup}, "
          f"{args.rounds} rounds, {torch.get_num_threads()} torch threads; load average {load_before}", flush=True)
    table = variants(args)
    rates: dict[str, list[float]] = {name: [] for name in table}
    for _ in range(args.rounds):
        for name, variant in table.items():
            rates[name].append(measure(name, variant, model, train, args))
    results = summarize(rates)
    results["load_average"] = {"before": load_before, "after": os.getloadavg()}
    results["rml2016_epoch_hours"] = {name: RML2016_TRAIN_EXAMPLES / stat["median"] / 3600
                                      for name, stat in results["variants"].items()}
    print(f"\n{'variant':<34} {'median':>8} {'best':>8}  examples/s   rml2016 epoch (h)")
    for name, stat in results["variants"].items():
        print(f"{name:<34} {stat['median']:8.1f} {stat['best']:8.1f}  {results['rml2016_epoch_hours'][name]:17.2f}")
    for name, ratio in results["ratios"].items():
        print(f"{name:<52} {ratio['of_medians']:5.2f}x (medians)  {ratio['of_bests']:5.2f}x (bests)")
    print(f"{torch.get_num_threads()} torch threads; load average {load_before} before, "
          f"{results['load_average']['after']} after\n", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=8, help="timed steps per run")
    parser.add_argument("--warmup", type=int, default=2, help="steps per run before the clock counts")
    parser.add_argument("--threads", type=int, nargs="+", default=[torch.get_num_threads()],
                        help="torch thread counts to run the whole table at, one after the other (default: torch's)")
    parser.add_argument("--channels-last", action="store_true", help="also the Trainer with channels_last")
    parser.add_argument("--compile", action="store_true", help="also the Trainer with torch.compile")
    parser.add_argument("--profile", action="store_true", help="also profile one Trainer run, at the last thread count")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="write the results here")
    args = parser.parse_args()

    steps = args.warmup + args.steps + 1
    data = synthetic_data(steps * RECIPE.batch_size, args.seed)
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(args.seed))
    train = Subset(data.dataset, order[: steps * RECIPE.batch_size].tolist())  # every class and SNR
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(args.seed)
        model, _ = build_model(FinetuneJob(data="rml2016", out="unused", model="alexnet", seed=args.seed), data)
    results = {"machine": {"platform": platform.platform(), "processor": platform.processor(), "cpus": os.cpu_count(),
                           "torch": torch.__version__},
               "settings": vars(args), "by_threads": {}}
    for threads in args.threads:
        torch.set_num_threads(threads)
        results["by_threads"][str(threads)] = benchmark(model, train, args)
    if args.profile:
        results["profile_trainer_now"] = {"threads": torch.get_num_threads(),
                                          "ops": profile_trainer(model, train, steps, rows=25)}
    if args.json:
        with open(args.json, "w") as file:
            json.dump(results, file, indent=2)
            file.write("\n")


if __name__ == "__main__":
    main()
