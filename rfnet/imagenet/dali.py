"""Decode and augment ImageNet batches with NVIDIA DALI: the GPU's JPEG decoders and batched resampling.

The same contract as :class:`~rfnet.imagenet.gpu.DeviceBatchPreprocess`, the torchvision path:
DataLoader workers only read file bytes (:class:`~rfnet.imagenet.gpu.EncodedImageNet`), and
:class:`DaliBatchPreprocess` turns a batch of them into network inputs on the training device. DALI
decodes on the GPU ("mixed": nvjpeg, and the hardware JPEG decoder where the GPU has one; on a CPU
device, DALI's CPU decoder), resizes every image in one batched call and crops, mirrors, lights and
normalises in one more.

Augmentation semantics are the torchvision path's, not merely alike: the random draws (crop corner,
mirror, lighting weights) are the transform's own per-example draws for ``(seed, epoch, example index)``
(:meth:`~rfnet.imagenet.transforms.TrainTransform.draw`), and the geometry is computed the way
torchvision computes it: the shorter side to ``resize`` with the longer side floored, the central square
with Python's round-half-to-even corner, then the crop at the drawn corner. So the sampler of the
training engine decides which examples a process reads (sharding over DDP ranks, shuffling, exact
mid-epoch resume), as it does for the torchvision path. What differs is only the resampling and JPEG
decoding arithmetic, a few grey levels (``tests/test_dali.py`` measures it on DALI's CPU backend).

DALI is optional: ``pip install 'rfnet[gpu]'`` (``nvidia-dali-cuda130``, matching torch's CUDA 13 wheels).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence

import numpy as np
import torch

from .folder import ImageNetFolder
from .jpeg import decode_rgb
from .transforms import EvalTransform, TrainTransform

DALI_HINT = "the DALI pipeline needs NVIDIA DALI: pip install 'rfnet[gpu]' (nvidia-dali-cuda130)"


def dali_available() -> bool:
    """Whether ``nvidia.dali`` can be imported (without importing it)."""
    try:
        return importlib.util.find_spec("nvidia.dali") is not None
    except ModuleNotFoundError:  # no "nvidia" namespace at all
        return False


class DaliBatchPreprocess:
    """Decode + preprocess a batch of ``folder``'s encoded images with DALI on ``device``.

    ``transform``: the folder's :class:`TrainTransform` (its per-example draws for ``folder.epoch``) or
    an :class:`EvalTransform`. ``batch_size``: the largest batch it will be given. Called as
    ``preprocess(encoded, indices)`` with ``encoded`` 1-D ``uint8`` byte tensors and ``indices`` their
    dataset indices; returns float32 ``[B, 3, crop, crop]`` (``[B, 10, 3, crop, crop]`` for 10 crops) on
    ``device``. A file DALI cannot decode raises ``ValueError`` naming it.
    """

    def __init__(
        self,
        folder: ImageNetFolder,
        transform: TrainTransform | EvalTransform,
        device: str | torch.device,
        batch_size: int,
        num_threads: int = 4,
    ) -> None:
        if not isinstance(transform, (TrainTransform, EvalTransform)):
            raise ValueError(f"DaliBatchPreprocess needs a TrainTransform or EvalTransform, got {transform!r}")
        if not dali_available():
            raise ValueError(DALI_HINT)
        self.folder, self.transform, self.device = folder, transform, torch.device(device)
        self.batch_size, self.num_threads = batch_size, num_threads
        self.views = 1 if isinstance(transform, TrainTransform) else len(transform.draws.top)
        self._pipeline = None

    def __call__(self, encoded: Sequence[torch.Tensor], indices: torch.Tensor) -> torch.Tensor:
        indices = [int(i) for i in indices]
        if len(indices) > self.batch_size:
            raise ValueError(f"a batch of {len(indices)} images is more than the pipeline's batch_size {self.batch_size}")
        views = self._views(indices)
        pipeline = self._pipeline if self._pipeline is not None else self._build()
        pipeline.feed_input("encoded", [data.numpy() for data in encoded])
        for name, column in views.items():
            pipeline.feed_input(name, column)
        try:
            (images,) = pipeline.run()
        except RuntimeError as err:
            self._pipeline = None  # a failed run leaves the pipeline unusable: build a fresh one next time
            self._name_bad_file(encoded, indices, err)
        return self._to_torch(images)

    def _build(self):
        from nvidia.dali import pipeline_def

        cuda = self.device.type == "cuda"
        build = pipeline_def(batch_size=self.batch_size, num_threads=self.num_threads,
                             device_id=(self.device.index or 0) if cuda else None, exec_dynamic=True,
                             prefetch_queue_depth=1)(_graph)
        self._pipeline = build(views=self.views, resize=self.transform.resize, crop=self.transform.crop_size,
                               std=self.transform.std, cuda=cuda)
        self._pipeline.build()
        return self._pipeline

    def _views(self, indices: list[int]) -> dict[str, list[np.ndarray]]:
        """Per image: each view's crop corner and mirror (``top0``, ``left0``, ``flip0``, ...) and the
        normalisation ``mean`` on 0..255 with the lighting offset folded in (``x + o - m == x - (m - o)``)."""
        count = len(indices)
        mean = torch.tensor(self.transform.mean).expand(count, 3)
        if isinstance(self.transform, TrainTransform):  # one view: each image's own draws
            draws = self.transform.draw(indices, self.folder.epoch)
            if self.transform.lighting is not None:
                mean = mean - self.transform.lighting.offsets(draws.alpha)
            columns = {f"{name}0": getattr(draws, name).tolist() for name in ("top", "left", "flip")}
        else:  # the transform's fixed views, the same for every image
            fixed = self.transform.draws
            columns = {f"{name}{view}": [value] * count for name in ("top", "left", "flip")
                       for view, value in enumerate(getattr(fixed, name).tolist())}
        views = {name: [np.int32(v) for v in column] for name, column in columns.items()}
        views["mean"] = list((255 * mean).float().numpy())
        return views

    def _to_torch(self, images) -> torch.Tensor:
        from nvidia.dali.plugin.pytorch import feed_ndarray

        dense = images.as_tensor()
        out = torch.empty(dense.shape(), dtype=torch.float32, device=self.device)
        stream = torch.cuda.current_stream(self.device) if self.device.type == "cuda" else None
        feed_ndarray(dense, out, cuda_stream=stream)
        return out

    def _name_bad_file(self, encoded, indices: list[int], err: RuntimeError) -> None:
        """Find the file DALI failed on by decoding each with torchvision (whose error names it); else say so."""
        for data, index in zip(encoded, indices):
            decode_rgb(data, self.folder.path(index))
        first = self.folder.path(indices[0])
        raise ValueError(f"DALI could not decode the batch starting at {first}: {_reason(err)}") from None


def _graph(views: int, resize: int, crop: int, std: Sequence[float], cuda: bool):
    """The DALI graph: external inputs ``encoded``, ``mean``, and per view ``top``/``left``/``flip``."""
    import nvidia.dali.math as dmath
    from nvidia.dali import fn, types

    encoded = fn.external_source(name="encoded", dtype=types.UINT8, ndim=1)
    mean = fn.external_source(name="mean", dtype=types.FLOAT, ndim=1)
    shape = fn.peek_image_shape(encoded, dtype=types.INT32)  # [H, W, C] from the file's header
    height, width = shape[0], shape[1]
    short = dmath.min(height, width)
    new_height, new_width = (height * resize) // short, (width * resize) // short  # torchvision floors the long side
    images = fn.decoders.image(encoded, device="mixed" if cuda else "cpu", output_type=types.RGB)
    size = fn.cast(fn.stack(new_height, new_width), dtype=types.FLOAT)
    images = fn.resize(images, size=size, interp_type=types.INTERP_LINEAR, antialias=True)
    square_top, square_left = _centre_corner(new_height, resize), _centre_corner(new_width, resize)
    outputs = []
    for view in range(views):
        top, left, flip = (fn.external_source(name=f"{name}{view}", dtype=types.INT32, ndim=0)
                           for name in ("top", "left", "flip"))
        outputs.append(fn.crop_mirror_normalize(
            images, crop=(crop, crop), dtype=types.FLOAT, output_layout="CHW", mirror=flip,
            crop_pos_y=(square_top + top) / dmath.max(new_height - crop, 1),
            crop_pos_x=(square_left + left) / dmath.max(new_width - crop, 1),
            mean=mean, std=[255 * s for s in std],
        ))
    return fn.stack(*outputs) if views > 1 else outputs[0]  # [10, 3, crop, crop] for the 10 crops


def _centre_corner(length, size: int):
    """``int(round((length - size) / 2))`` with Python's round half to even, as torchvision's centre crop."""
    excess = length - size
    half = excess // 2
    odd_excess, odd_half = excess - 2 * half, half - 2 * (half // 2)
    return half + odd_excess * odd_half


def _reason(err: RuntimeError) -> str:
    """DALI's own sentence from its multi-line error (the line after "encountered:"), else its first line."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    after = [lines[i + 1] for i, line in enumerate(lines[:-1]) if line == "encountered:"]
    return (after or lines or ["unknown error"])[0]
