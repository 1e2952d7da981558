"""The DALI pipeline (rfnet.imagenet.dali) against the torchvision path, on DALI's CPU backend.

Both take the same per-example draws, so the comparison is image by image: a crop one pixel off, a
mirror or a lighting offset left out moves many pixels by tens of grey levels, while the two decoders'
and resamplers' arithmetic differ by at most a few. Differences are measured in grey levels (0..255).
"""

import pytest
import torch

pytest.importorskip("nvidia.dali")

from rfnet.imagenet import dali  # noqa: E402
from rfnet.imagenet.dali import DaliBatchPreprocess  # noqa: E402
from rfnet.imagenet.folder import ImageNetFolder  # noqa: E402
from rfnet.imagenet.image_folders import write_procedural_imagenet  # noqa: E402
from rfnet.imagenet.lighting import PCALighting  # noqa: E402
from rfnet.imagenet.transforms import eval_transform, train_transform  # noqa: E402

MEAN_LEVELS, MAX_LEVELS = 0.5, 3.0
"""Measured on these folders (DALI 2.4, torchvision 0.29): mean 0.16-0.18, max 1.0-2.05 grey levels."""


@pytest.fixture(scope="module", params=[97, 300], ids=["upscaled", "downscaled"])
def root(request, tmp_path_factory):
    """Heights 97 (resized up to 256) or 300 (down, antialiased); widths vary, so the centre square moves."""
    folder = tmp_path_factory.mktemp("imagenet") / "data"
    return write_procedural_imagenet(folder, num_classes=3, train_per_class=3, val_per_class=1,
                                     size=request.param, seed=1)


def grey_levels(ours: torch.Tensor, theirs: torch.Tensor, std) -> torch.Tensor:
    """|ours - theirs| of normalised images ``[..., 3, H, W]`` back on the 0..255 scale."""
    return (ours - theirs).abs() * 255 * torch.tensor(std).view(3, 1, 1)


def both_paths(folder: ImageNetFolder, batch_size: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    """(DALI's batch, the torchvision path's items stacked) for every example of ``folder``."""
    indices = torch.arange(len(folder))
    encoded = [folder.encoded(i) for i in range(len(folder))]
    ours = DaliBatchPreprocess(folder, folder.transform, "cpu", batch_size)(encoded, indices)
    theirs = torch.stack([folder[i][0] for i in range(len(folder))])
    return ours, theirs


def test_training_crops_mirrors_and_lighting_match_the_torchvision_path(root):
    """Strong lighting (alpha std 1, ten times the paper's) so an offset left out could not hide."""
    transform = train_transform(227, seed=3, lighting=PCALighting(alpha_std=1.0))
    folder = ImageNetFolder(root, "train", transform=transform)
    folder.set_epoch(2)
    ours, theirs = both_paths(folder)
    assert ours.shape == theirs.shape == (9, 3, 227, 227) and ours.dtype == torch.float32
    levels = grey_levels(ours, theirs, transform.std)
    assert levels.mean() < MEAN_LEVELS and levels.max() <= MAX_LEVELS
    assert transform.draw(list(range(9)), 2).flip.any()  # the mirror was exercised


def test_a_batch_smaller_than_the_pipeline_and_a_new_epoch_take_their_own_draws(root):
    transform = train_transform(224, seed=0)
    folder = ImageNetFolder(root, "train", transform=transform)
    preprocess = DaliBatchPreprocess(folder, transform, "cpu", batch_size=8)
    indices = torch.tensor([4, 1])
    for epoch in (0, 5):
        folder.set_epoch(epoch)
        ours = preprocess([folder.encoded(i) for i in indices], indices)
        theirs = torch.stack([folder[int(i)][0] for i in indices])
        assert grey_levels(ours, theirs, transform.std).max() <= MAX_LEVELS


@pytest.mark.parametrize("ten_crop", [False, True], ids=["centre", "ten-crop"])
def test_evaluation_views_match_the_torchvision_path(root, ten_crop):
    transform = eval_transform(227, ten_crop=ten_crop)
    folder = ImageNetFolder(root, "val", transform=transform)
    ours, theirs = both_paths(folder)
    assert ours.shape == theirs.shape == ((3, 10, 3, 227, 227) if ten_crop else (3, 3, 227, 227))
    levels = grey_levels(ours, theirs, transform.std)
    assert levels.mean() < MEAN_LEVELS and levels.max() <= MAX_LEVELS


def test_a_corrupt_file_is_named(root, tmp_path):
    folder = ImageNetFolder(root, "val", transform=eval_transform(227))
    bad = folder.path(1)
    truncated = folder.encoded(1)[:200]
    preprocess = DaliBatchPreprocess(folder, folder.transform, "cpu", batch_size=4)
    with pytest.raises(ValueError, match=str(bad)):
        preprocess([folder.encoded(0), truncated], torch.tensor([0, 1]))
    good = preprocess([folder.encoded(0)], torch.tensor([0]))  # the pipeline is rebuilt after a failure
    assert good.shape == (1, 3, 227, 227)


def test_without_dali_the_error_says_how_to_install_it(root, monkeypatch):
    monkeypatch.setattr(dali, "dali_available", lambda: False)
    folder = ImageNetFolder(root, "val", transform=eval_transform(227))
    with pytest.raises(ValueError, match=r"pip install 'rfnet\[gpu\]'"):
        DaliBatchPreprocess(folder, folder.transform, "cpu", batch_size=4)
