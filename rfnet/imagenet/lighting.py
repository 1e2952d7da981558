"""The paper's PCA colour lighting: add ``eigvec @ (alpha * eigval)`` to every pixel, ``alpha ~ N(0, 0.1)``.

Krizhevsky et al. (2012), section 4.1: to each RGB pixel add ``[p1 p2 p3] [a1 l1, a2 l2, a3 l3]^T``
with ``p_i, l_i`` the eigenvectors and eigenvalues of the 3x3 covariance of RGB pixel values over the
training set and one ``a_i ~ N(0, 0.1)`` per image (redrawn each time the image is used). The offset is
the same for every pixel of an image, so its covariance over draws is ``P diag((0.1 l)^2) P^T``.

Values are for images on [0, 1]. The default is the commonly published ImageNet decomposition
(fb.resnet.torch); ``rfnet imagenet-pca`` computes one from your training set, saved as JSON::

    {"eigval": [l1, l2, l3], "eigvec": [[row R], [row G], [row B]], "mean": [r, g, b], ...}

``eigvec`` holds the eigenvectors as its *columns* (row ``c`` is colour channel ``c``), eigenvalues in
descending order, as in the published table.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from rfnet.data.atomic import atomic_output

IMAGENET_EIGVAL = (0.2175, 0.0188, 0.0045)
IMAGENET_EIGVEC = (
    (-0.5675, 0.7192, 0.4009),
    (-0.5808, -0.0045, -0.8140),
    (-0.5836, -0.6948, 0.4203),
)
"""The published ImageNet RGB decomposition on [0, 1] images (fb.resnet.torch): columns are eigenvectors."""
PAPER_ALPHA_STD = 0.1


@dataclass(frozen=True)
class PCALighting:
    """Eigen-decomposition of the RGB covariance and the standard deviation of ``alpha``.

    ``eigval``: 3 eigenvalues, descending; ``eigvec``: 3x3, columns are the matching unit eigenvectors,
    rows the R, G, B channels; ``alpha_std``: std of the per-image weights (0.1 in the paper).
    """

    eigval: tuple[float, float, float] = IMAGENET_EIGVAL
    eigvec: tuple[tuple[float, float, float], ...] = IMAGENET_EIGVEC
    alpha_std: float = PAPER_ALPHA_STD

    def __post_init__(self) -> None:
        if torch.tensor(self.eigval).shape != (3,) or torch.tensor(self.eigvec).shape != (3, 3):
            raise ValueError(f"PCALighting needs 3 eigenvalues and a 3x3 eigvec, got {self.eigval}, {self.eigvec}")
        if self.alpha_std < 0:
            raise ValueError(f"alpha_std must be >= 0, got {self.alpha_std}")

    @classmethod
    def from_json(cls, path: str | os.PathLike, alpha_std: float = PAPER_ALPHA_STD) -> PCALighting:
        """Read ``eigval`` and ``eigvec`` from a file written by ``rfnet imagenet-pca`` (or by hand)."""
        path = Path(path)
        try:
            data = json.loads(path.read_text())
            eigval, eigvec = data["eigval"], data["eigvec"]
            return cls(tuple(map(float, eigval)), tuple(tuple(map(float, row)) for row in eigvec), alpha_std)
        except FileNotFoundError:
            raise FileNotFoundError(f"{path}: PCA file not found") from None
        except (ValueError, KeyError, TypeError) as err:
            raise ValueError(f"{path}: expected JSON with 'eigval' (3 numbers) and 'eigvec' (3x3): {err}") from None

    def offsets(self, alpha: torch.Tensor) -> torch.Tensor:
        """RGB offsets ``[B, 3]`` (on [0, 1]) for weights ``alpha`` ``[B, 3]`` (already scaled by ``alpha_std``)."""
        eigval = torch.tensor(self.eigval, dtype=alpha.dtype, device=alpha.device)
        eigvec = torch.tensor(self.eigvec, dtype=alpha.dtype, device=alpha.device)
        return (alpha * eigval) @ eigvec.T


def write_pca_json(path: str | os.PathLike, eigval, eigvec, **extras) -> None:
    """Write a decomposition :meth:`PCALighting.from_json` reads (atomically); ``extras`` are kept as JSON."""
    record = {"eigval": [float(v) for v in eigval], "eigvec": [[float(v) for v in row] for row in eigvec], **extras}
    with atomic_output(path) as temporary:
        temporary.write_text(json.dumps(record, indent=2) + "\n")
