"""Where this process sits in a (possibly) data-parallel run, and the few collectives the engine needs.

Under ``torchrun`` call :func:`init_from_env` once and hand the context to the Trainer; without
``torchrun`` it returns a single-process context, so the same script runs either way::

    ctx = init_from_env()
    Trainer(model, train, val, config, "run/", distributed=ctx).fit()
    ctx.close()
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistributedContext:
    """Rank ``rank`` of ``world_size`` processes, computing on ``device`` (``local_rank``: index on this node)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that writes files and shows the progress bar."""
        return self.rank == 0

    @property
    def is_distributed(self) -> bool:
        return self.world_size > 1

    def all_reduce_sum(self, values: torch.Tensor) -> torch.Tensor:
        """Sum of ``values`` over ranks (a float64 copy on this process's device; unchanged when single-process)."""
        values = values.to(self.device, torch.float64)
        if self.is_distributed:
            dist.all_reduce(values, op=dist.ReduceOp.SUM)
        return values

    def all_gather_object(self, obj: object) -> list:
        """``[obj from rank 0, obj from rank 1, ...]`` (``[obj]`` when single-process)."""
        if not self.is_distributed:
            return [obj]
        gathered: list = [None] * self.world_size
        dist.all_gather_object(gathered, obj)
        return gathered

    @torch.no_grad()
    def broadcast_state(self, model: torch.nn.Module) -> None:
        """Overwrite ``model``'s parameters and buffers on every rank with rank 0's (through this device)."""
        if not self.is_distributed:
            return
        for tensor in model.state_dict().values():
            carrier = tensor.to(self.device)
            dist.broadcast(carrier, src=0)
            tensor.copy_(carrier)

    def barrier(self) -> None:
        if self.is_distributed:
            dist.barrier()

    def close(self) -> None:
        """Destroy the process group, if this context made one."""
        if self.is_distributed and dist.is_initialized():
            dist.destroy_process_group()


def resolve_device(name: str) -> torch.device:
    """``"auto"`` → ``cuda`` when available, else ``cpu``; anything else as ``torch.device(name)``."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(name)
    except RuntimeError as err:
        raise ValueError(f"device {name!r} is not a torch device ({err})") from None


def init_from_env(device: str = "auto", devices_per_process: int = 1) -> DistributedContext:
    """Read torchrun's ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` and join the process group.

    Backend: NCCL when computing on CUDA, each process on ``cuda:LOCAL_RANK * devices_per_process``
    (a model split over ``devices_per_process`` GPUs uses the ones from there on); gloo on CPU.
    Without those variables (or ``WORLD_SIZE=1``) returns a single-process context on ``device``.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    base = resolve_device(device)
    if world_size == 1:
        return DistributedContext(device=base)
    try:
        rank, local_rank = int(os.environ["RANK"]), int(os.environ["LOCAL_RANK"])
    except (KeyError, ValueError) as err:
        raise ValueError(f"WORLD_SIZE={world_size} but RANK / LOCAL_RANK are missing or not integers ({err})") from None
    if base.type == "cuda":
        local = torch.device("cuda", local_rank * devices_per_process)
        torch.cuda.set_device(local)
        backend = "nccl"
    else:
        local, backend = base, "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend=backend, rank=rank, world_size=world_size)
    return DistributedContext(rank=rank, world_size=world_size, local_rank=local_rank, device=local)
