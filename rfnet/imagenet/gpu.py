"""Decode and preprocess ImageNet batches on the GPU: workers only read file bytes, the device does the rest.

CPU workers decoding JPEGs cap a loader at a few hundred images/s per core; nvjpeg on one GPU decodes
thousands. Here DataLoader workers return the undecoded bytes (:class:`EncodedImageNet`,
:func:`collate_encoded`) and :class:`DeviceBatchPreprocess` decodes the batch in one call on the device,
resizes each image to 256x256 there, and crops, mirrors, lights and normalises the whole batch with one
gather. The random draws are the same per-example ones as the CPU path
(:class:`~rfnet.imagenet.transforms.TrainTransform`), so both give the same crops; on a CPU device
the result equals the dataset's own items, which is what the tests check.

    loader = DataLoader(EncodedImageNet(folder), batch_size=128, num_workers=8, collate_fn=collate_encoded)
    preprocess = DeviceBatchPreprocess(folder, train_transform(227, seed=0), "cuda")
    for encoded, targets, indices in loader:
        images = preprocess(encoded, indices)        # float32 [128, 3, 227, 227] on cuda
"""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

from .folder import ImageNetFolder
from .transforms import EvalTransform, TrainTransform, resize_center
from .jpeg import decode_rgb_batch


class EncodedImageNet(Dataset):
    """``folder``'s examples as ``(file bytes uint8 [n], class index, example index)``, undecoded."""

    def __init__(self, folder: ImageNetFolder) -> None:
        self.folder = folder

    def __len__(self) -> int:
        return len(self.folder)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int, int]:
        return self.folder.encoded(index), int(self.folder.targets[index]), index

    def set_epoch(self, epoch: int) -> None:
        """Pass the engine's epoch on to the folder, whose epoch seeds the device-side augmentation."""
        self.folder.set_epoch(epoch)


def collate_encoded(
    batch: list[tuple[torch.Tensor, int, int]],
) -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor]:
    """``(list of byte tensors, targets int64 [B], example indices int64 [B])``: bytes vary in length, so no stacking."""
    encoded, targets, indices = zip(*batch)
    return list(encoded), torch.tensor(targets), torch.tensor(indices)


class DeviceBatchPreprocess:
    """Decode + preprocess a batch of encoded images of ``folder`` on ``device`` with ``transform``.

    ``transform``: a :class:`TrainTransform` (per-example draws for ``folder.epoch``) or an
    :class:`EvalTransform`. Returns float32 ``[B, 3, crop, crop]`` (``[B, 10, 3, crop, crop]`` for 10 crops).
    """

    def __init__(self, folder: ImageNetFolder, transform: TrainTransform | EvalTransform, device: str | torch.device):
        if not isinstance(transform, (TrainTransform, EvalTransform)):
            raise ValueError(f"DeviceBatchPreprocess needs a TrainTransform or EvalTransform, got {transform!r}")
        self.folder, self.transform, self.device = folder, transform, torch.device(device)

    def __call__(self, encoded: list[torch.Tensor], indices: torch.Tensor) -> torch.Tensor:
        indices = [int(i) for i in indices]
        paths = [self.folder.path(i) for i in indices]
        images = decode_rgb_batch(encoded, paths, self.device)
        squares = [resize_center(image, self.transform.resize) for image in images]
        if isinstance(self.transform, TrainTransform):
            return self.transform.apply_batch(squares, self.transform.draw(indices, self.folder.epoch))
        return self.transform.apply_batch(squares)
