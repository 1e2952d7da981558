"""Read image files as RGB ``uint8`` tensors with torchvision's decoder, naming the file when one is bad.

ImageNet's ``.JPEG`` files are mostly baseline JPEG, but some are greyscale or CMYK and one training file
is a PNG under a ``.JPEG`` name; ``torchvision.io.decode_image`` sniffs the format and converts every
one of them to 3-channel RGB. A truncated or corrupt file raises ``ValueError`` with its path (the
decoder itself refuses incomplete data: "Image is incomplete or truncated").

torchvision 0.29 marks its image codecs deprecated in favour of TorchCodec and warns on every call;
rfnet uses them on purpose (the CUDA batch decoder included) and silences that one warning here.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import torch
from torchvision.io import ImageReadMode, decode_image, decode_jpeg, read_file

IMAGE_SUFFIXES = (".jpeg", ".jpg", ".png")
"""File name endings (compared in lower case) that count as images in ImageNet folders."""


def is_image_name(name: str) -> bool:
    """True for ``*.JPEG``, ``*.jpg``, ``*.jpeg``, ``*.png`` in any case."""
    return name.lower().endswith(IMAGE_SUFFIXES)


def read_encoded(path: str | os.PathLike) -> torch.Tensor:
    """The bytes of ``path`` as a 1-D ``uint8`` tensor (what the decoders take)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: image file not found")
    with torchvision_io():
        return read_file(str(path))


def decode_rgb(data: torch.Tensor, path: str | os.PathLike) -> torch.Tensor:
    """Decode encoded bytes ``data`` (1-D ``uint8``) to RGB ``uint8 [3, H, W]`` on the CPU.

    ``path`` only names the file in the ``ValueError`` raised for truncated or corrupt data.
    """
    try:
        with torchvision_io():
            return decode_image(data, mode=ImageReadMode.RGB)
    except RuntimeError as err:
        raise ValueError(f"{path}: cannot decode the image (truncated or corrupt file?): {_reason(err)}") from None


def read_rgb(path: str | os.PathLike) -> torch.Tensor:
    """Read and decode ``path`` to RGB ``uint8 [3, H, W]`` (see :func:`decode_rgb`)."""
    return decode_rgb(read_encoded(path), path)


def decode_rgb_batch(
    encoded: Sequence[torch.Tensor], paths: Sequence[str | os.PathLike], device: str | torch.device
) -> list[torch.Tensor]:
    """Decode many JPEGs at once to RGB ``uint8 [3, H_i, W_i]`` tensors on ``device``.

    On a CUDA device this is one batched call to nvjpeg (``decode_jpeg`` with a list), far faster than
    one image at a time. nvjpeg reads JPEG only: a non-JPEG file in the batch (ImageNet has one PNG) or a
    batch that nvjpeg rejects is retried image by image on the CPU, so the error, if any, names the file.
    On the CPU every image is decoded by :func:`decode_rgb`.
    """
    device = torch.device(device)
    if device.type != "cuda":
        return [decode_rgb(data, path).to(device) for data, path in zip(encoded, paths, strict=True)]
    if all(_is_jpeg(data) for data in encoded):
        try:
            with torchvision_io():
                return decode_jpeg(list(encoded), mode=ImageReadMode.RGB, device=device)
        except RuntimeError:
            pass  # find (and name) the bad file below
    return [decode_rgb(data, path).to(device) for data, path in zip(encoded, paths, strict=True)]


@contextmanager
def torchvision_io() -> Iterator[None]:
    """Call ``torchvision.io`` codecs without their deprecation warning (see the module docstring)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The image decoding and encoding", category=DeprecationWarning)
        yield


def _is_jpeg(data: torch.Tensor) -> bool:
    return data.numel() >= 3 and data[:3].tolist() == [0xFF, 0xD8, 0xFF]


def _reason(err: RuntimeError) -> str:
    """The decoder's own message without its C++ source location prefix."""
    return str(err).rsplit(", ", 1)[-1]
