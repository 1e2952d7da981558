"""ImageNet data: folders, labels, val forms, preprocessing, PCA lighting, generators, bad input."""

import json

import numpy as np
import pytest
import torch

from rfnet.data.image_folders import fake_wnid, write_digits_imagenet, write_procedural_imagenet
from rfnet.data.imagenet import ImageNetFolder
from rfnet.data.imagenet_lighting import IMAGENET_EIGVAL, IMAGENET_EIGVEC, PCALighting
from rfnet.data.imagenet_transforms import (
    CropDraws,
    EvalTransform,
    crop_flip_light,
    eval_transform,
    resize_center,
    train_transform,
)
from rfnet.data.jpeg import read_rgb

CLASSES, TRAIN_PER_CLASS, VAL_PER_CLASS = 3, 4, 3


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """The same procedural images with flat val + LOC csv, flat val + devkit files, and val in folders."""
    base = tmp_path_factory.mktemp("imagenet")
    kwargs = dict(num_classes=CLASSES, train_per_class=TRAIN_PER_CLASS, val_per_class=VAL_PER_CLASS, size=40, seed=3)
    return {
        "loc": write_procedural_imagenet(base / "loc", **kwargs),
        "devkit": write_procedural_imagenet(base / "devkit", **kwargs, ground_truth="devkit"),
        "folders": write_procedural_imagenet(base / "folders", **kwargs, flat_val=False),
    }


def _val_labels_by_file(dataset):
    return {dataset.path(i).name: int(dataset.targets[i]) for i in range(len(dataset))}


# -- layout and labels ----------------------------------------------------------------------------------


def test_train_folder_items_and_class_mapping(folders):
    train = ImageNetFolder(folders["loc"], "train")
    assert len(train) == CLASSES * TRAIN_PER_CLASS
    assert train.classes == [fake_wnid(k) for k in range(CLASSES)] == sorted(train.classes)
    assert train.class_names == [f"stripes {k}" for k in range(CLASSES)]
    assert train.class_to_idx[fake_wnid(2)] == 2
    for index in (0, len(train) - 1):
        image, label = train[index]
        assert image.dtype == torch.uint8 and image.shape[0] == 3 and image.shape[1] == 40
        assert train.path(index).parent.name == train.classes[label]
    assert np.bincount(train.targets).tolist() == [TRAIN_PER_CLASS] * CLASSES


def test_the_three_val_forms_give_the_same_labels(folders):
    by_form = {form: ImageNetFolder(root, "val") for form, root in folders.items()}
    labels = {form: _val_labels_by_file(ds) for form, ds in by_form.items()}
    assert len(labels["loc"]) == CLASSES * VAL_PER_CLASS
    assert labels["loc"] == labels["devkit"] == labels["folders"]
    assert np.bincount(by_form["loc"].targets).tolist() == [VAL_PER_CLASS] * CLASSES
    # the devkit's ILSVRC2012_IDs are shuffled: labels only agree because meta.mat was used
    assert by_form["devkit"].label_files["ground_truth"].name == "ILSVRC2012_validation_ground_truth.txt"
    # the images themselves carry their class: stripes of the class hue, same pixels in every form
    for name in list(labels["loc"])[:3]:
        assert torch.equal(read_rgb(folders["loc"] / "val" / name), read_rgb(folders["devkit"] / "val" / name))


def test_generators_are_deterministic(tmp_path):
    one = write_procedural_imagenet(tmp_path / "a", 2, 2, 1, size=16, seed=5)
    two = write_procedural_imagenet(tmp_path / "b", 2, 2, 1, size=16, seed=5)
    files = sorted(p.relative_to(one) for p in one.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(two) for p in two.rglob("*") if p.is_file())
    assert all((one / f).read_bytes() == (two / f).read_bytes() for f in files)
    with pytest.raises(ValueError, match="already exists"):
        write_procedural_imagenet(one, 2, 2, 1, size=16)


def test_digits_folder(tmp_path):
    root = write_digits_imagenet(tmp_path / "digits", size=16, seed=0, val_fraction=0.25)
    train, val = ImageNetFolder(root, "train"), ImageNetFolder(root, "val")
    assert len(train) + len(val) == 1797 and abs(len(val) / 1797 - 0.25) < 0.01
    assert val.class_names == [f"digit {d}" for d in range(10)]
    assert set(np.unique(val.targets)) == set(range(10))
    image, _ = val[0]
    assert image.shape == (3, 16, 16) and torch.equal(image[0], image[1])  # grey


# -- preprocessing --------------------------------------------------------------------------------------


def test_train_transform_shapes_determinism_and_per_example_seeds(folders):
    dataset = ImageNetFolder(folders["loc"], "train", transform=train_transform(crop_size=67, seed=0))
    image, label = dataset[5]
    assert image.shape == (3, 67, 67) and image.dtype == torch.float32
    assert torch.equal(dataset[5][0], image)  # same (seed, epoch, index): same draws
    dataset.set_epoch(1)
    assert not torch.equal(dataset[5][0], image)  # a new epoch draws again
    other = ImageNetFolder(folders["loc"], "train", transform=train_transform(crop_size=67, seed=1))
    assert not torch.equal(other[5][0], image)


def test_eval_transform_centre_crop_matches_torchvision():
    from torchvision.transforms import v2

    image = torch.randint(0, 256, (3, 300, 411), dtype=torch.uint8)
    reference = v2.Compose([
        v2.Resize(256, antialias=True), v2.CenterCrop(256), v2.CenterCrop(224),
        v2.ToDtype(torch.float32, scale=True), v2.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])
    ours = eval_transform(224)(image)
    torch.testing.assert_close(ours, reference(image), atol=1e-5, rtol=0)
