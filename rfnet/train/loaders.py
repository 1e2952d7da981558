"""DataLoaders whose order is a pure function of (seed, epoch), sharded across data-parallel ranks.

Training order: a permutation drawn by :class:`~torch.utils.data.DistributedSampler` seeded from
(seed, epoch); rank ``r`` of ``W`` takes positions ``r, r + W, r + 2W, ...``, so step ``s`` of a
``W``-process run with batch ``b`` covers exactly the examples step ``s`` of a 1-process run with batch
``W * b`` covers (the permutation is padded by repetition to a multiple of ``W``). Validation: each
rank takes every ``W``-th example, no padding, so summed counts are exact.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from rfnet.seeding import seed_for

from .distributed import DistributedContext

DATA_ORDER_STREAM = 1  # seed_for(seed, DATA_ORDER_STREAM): the permutation's seed
WORKER_STREAM = 2  # seed_for(seed, WORKER_STREAM, epoch, rank): DataLoader worker base seed


def train_loader(
    dataset: Dataset,
    batch_size: int,
    seed: int,
    epoch: int,
    ctx: DistributedContext,
    *,
    num_workers: int = 0,
    collate_fn: Callable | None = None,
    skip_batches: int = 0,
) -> DataLoader:
    """Shuffled training batches for ``epoch`` (0-based) on this rank, less the first ``skip_batches``."""
    sampler = DistributedSampler(
        dataset, num_replicas=ctx.world_size, rank=ctx.rank, shuffle=True, seed=seed_for(seed, DATA_ORDER_STREAM)
    )
    sampler.set_epoch(epoch)
    if skip_batches:
        sampler = list(sampler)[skip_batches * batch_size :]
    worker_seed = seed_for(seed, WORKER_STREAM, epoch, ctx.rank)
    return _loader(dataset, sampler, batch_size, worker_seed, ctx, num_workers, collate_fn)


def val_loader(
    dataset: Dataset,
    batch_size: int,
    ctx: DistributedContext,
    *,
    num_workers: int = 0,
    collate_fn: Callable | None = None,
) -> DataLoader:
    """Validation batches in dataset order; this rank's share (every ``world_size``-th example)."""
    shard = range(ctx.rank, len(dataset), ctx.world_size)
    return _loader(dataset, shard, batch_size, 0, ctx, num_workers, collate_fn)


def _loader(dataset, sampler, batch_size, worker_seed, ctx, num_workers, collate_fn) -> DataLoader:
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        num_workers=num_workers,
        collate_fn=collate_fn,
        pin_memory=ctx.device.type == "cuda",
        persistent_workers=False,
        generator=torch.Generator().manual_seed(worker_seed),
    )
