"""ImageNet-scale AlexNet data: folders on disk, JPEG decoding, the paper's augmentation, colour PCA.

- :mod:`rfnet.imagenet.folder`: :class:`ImageNetFolder` reads ``train/<wnid>/*.JPEG`` and ``val/``.
- :mod:`rfnet.imagenet.transforms`, :mod:`~rfnet.imagenet.lighting`: crop, mirror, PCA lighting, normalise
  (statistics in :mod:`~rfnet.imagenet.normalization`).
- :mod:`rfnet.imagenet.gpu`: decode and augment whole batches on the training device (nvjpeg);
  :mod:`rfnet.imagenet.dali`: the same with NVIDIA DALI (optional: ``pip install 'rfnet[gpu]'``).
- :mod:`rfnet.imagenet.pca`, :mod:`~rfnet.imagenet.labels`, :mod:`~rfnet.imagenet.val`,
  :mod:`~rfnet.imagenet.jpeg`, :mod:`~rfnet.imagenet.image_folders` (generated stand-in folders),
  :mod:`~rfnet.imagenet.resized` (a pre-resized copy of a folder, for slow disks).

Sub-modules load on first use (PEP 562), so reading :mod:`~rfnet.imagenet.normalization` does not import
torchvision.
"""

import importlib

__all__ = ["ImageNetFolder"]


def __getattr__(name: str):
    if name == "ImageNetFolder":
        return importlib.import_module(f"{__name__}.folder").ImageNetFolder
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
