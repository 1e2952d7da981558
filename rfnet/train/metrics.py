"""Running loss / accuracy / throughput sums, reduced across ranks, and the ``metrics.jsonl`` log.

Each line of ``metrics.jsonl`` is one JSON object with ``epoch`` (1-based), ``step`` (optimiser steps
so far), ``split`` (``"train_step"``: the last ``log_every`` steps; ``"train"``: a whole epoch;
``"val"``: validation after an epoch), ``loss`` (mean per example), ``accuracy`` (top-1, fraction),
``top5_accuracy`` (the true class among the 5 highest scores, or among all of them when there are fewer
classes), ``examples``, ``lr`` (first param group), ``examples_per_s`` (all ranks together), ``time`` (Unix seconds).
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import torch

from rfnet.data.atomic import atomic_output

from .distributed import DistributedContext


TOP_K = 5


class RunningMetrics:
    """Sums of loss, top-1 and top-5 hits and examples, kept on the compute device (no sync per batch)."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.reset()

    def reset(self, sums: torch.Tensor | None = None) -> None:
        """Start again from zero (or from ``sums`` saved in a checkpoint); restart the clock."""
        # loss sum, top-1 hits, top-5 hits, examples
        self.sums = torch.zeros(4, dtype=torch.float64, device=self.device)
        if sums is not None:
            self.sums.copy_(sums)
        self.started = time.perf_counter()

    @torch.no_grad()
    def add(self, logits: torch.Tensor, targets: torch.Tensor, mean_loss: torch.Tensor) -> None:
        """Add one batch: ``logits`` [B, C], ``targets`` int64 [B], ``mean_loss`` the batch's mean loss."""
        count = targets.shape[0]
        top = logits.topk(min(TOP_K, logits.shape[-1]), dim=-1).indices  # [B, k], best first
        hits = top == targets[:, None]
        correct, correct_top5 = hits[:, 0].sum(), hits.any(dim=-1).sum()
        loss_sum = mean_loss.detach().double() * count
        self.sums += torch.stack([loss_sum, correct.double(), correct_top5.double(), self.sums.new_tensor(count)])

    def summary(self, ctx: DistributedContext) -> dict[str, float]:
        """``loss``, ``accuracy``, ``top5_accuracy``, ``examples`` and ``examples_per_s`` over all ranks
        (a collective call)."""
        loss_sum, correct, correct_top5, examples = ctx.all_reduce_sum(self.sums).tolist()
        seconds = time.perf_counter() - self.started
        return {
            "loss": loss_sum / examples if examples else math.nan,
            "accuracy": correct / examples if examples else math.nan,
            "top5_accuracy": correct_top5 / examples if examples else math.nan,
            "examples": examples,
            "examples_per_s": examples / seconds if seconds > 0 else math.nan,
        }


class MetricsLog:
    """Appends records to ``path`` (one JSON object per line); does nothing on ranks other than 0.

    ``records`` counts the lines the file holds, so a checkpoint can say how much of the log it covers.
    """

    def __init__(self, path: Path, enabled: bool) -> None:
        self.path, self.enabled = Path(path), enabled
        self.records = 0

    def write(self, **record) -> None:
        if not self.enabled:
            return
        record["time"] = time.time()
        with self.path.open("a") as file:
            file.write(json.dumps(record) + "\n")
        self.records += 1

    def truncate(self, records: int) -> None:
        """Keep the first ``records`` lines: drop what an interrupted run logged after its checkpoint."""
        self.records = records
        if not self.enabled or not self.path.is_file():
            return
        lines = self.path.read_text().splitlines(keepends=True)
        if len(lines) != records:
            with atomic_output(self.path) as temporary:
                temporary.write_text("".join(lines[:records]))


def read_metrics(path: str | os.PathLike) -> list[dict]:
    """The records of a ``metrics.jsonl`` file, in order."""
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
