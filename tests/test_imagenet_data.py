"""ImageNet data: folders, labels, val forms, preprocessing, PCA lighting, generators, bad input."""

import json

import numpy as np
import pytest
import torch

from rfnet.imagenet.image_folders import fake_wnid, write_digits_imagenet, write_procedural_imagenet
from rfnet.imagenet.folder import ImageNetFolder
from rfnet.imagenet.lighting import IMAGENET_EIGVAL, IMAGENET_EIGVEC, PCALighting
from rfnet.imagenet.transforms import (
    CropDraws,
    EvalTransform,
    eval_transform,
    resize_center,
    train_transform,
)
from rfnet.imagenet.jpeg import read_rgb
from rfnet.imagenet.resized import write_resized_copy

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


@pytest.mark.slow
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


def _coordinate_image(size=256):
    """uint8 [3, size, size]: channel 0 holds the row index, channel 1 the column index."""
    rows, cols = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    return torch.stack([rows, cols, torch.zeros_like(rows)]).to(torch.uint8)


IDENTITY = dict(mean=(0.0, 0.0, 0.0), std=(1 / 255,) * 3)  # output = input pixel values, as floats


def test_train_crops_cover_every_position_stay_inside_and_flip_half_the_time():
    crop = 227
    transform = train_transform(crop, seed=7, lighting=None, **IDENTITY)
    draws = transform.draw(range(3000), epoch=0)
    span = 256 - crop
    assert set(draws.top.tolist()) == set(range(span + 1)) == set(draws.left.tolist())
    assert abs(draws.flip.float().mean().item() - 0.5) < 0.04  # 4.4 sigma for 3000 draws
    # the crop itself: pixels tell where they came from
    squares = _coordinate_image().expand(8, -1, -1, -1)
    crops = transform.apply_batch(squares, CropDraws(draws.top[:8], draws.left[:8], draws.flip[:8], draws.alpha[:8]))
    steps = torch.arange(crop, dtype=torch.float32)
    for k in range(8):
        top, left, flip = draws.top[k].item(), draws.left[k].item(), draws.flip[k].item()
        torch.testing.assert_close(crops[k, 0, :, 0], top + steps, rtol=0, atol=1e-3)
        expected_cols = left + (steps.flip(0) if flip else steps)
        torch.testing.assert_close(crops[k, 1, 0, :], expected_cols, rtol=0, atol=1e-3)
    assert draws.flip[:8].any() and not draws.flip[:8].all()  # both cases were checked


def test_single_image_path_equals_the_batch_path_for_the_same_example():
    image = torch.randint(0, 256, (3, 300, 280), dtype=torch.uint8)
    transform = train_transform(224, seed=1)
    one = transform(image, example=11, epoch=4)
    batch = transform.apply_batch(resize_center(image)[None], transform.draw([11], epoch=4))
    assert torch.equal(one, batch[0])


def test_pca_lighting_offsets_have_the_predicted_covariance():
    lighting = PCALighting()
    transform = train_transform(8, seed=2, resize=8, flip=False, lighting=lighting, mean=(0, 0, 0), std=(1, 1, 1))
    grey = torch.full((4000, 3, 8, 8), 0.5)
    out = transform.apply_batch(grey, transform.draw(range(4000)))
    offsets = (out - 0.5).double()
    assert torch.allclose(offsets, offsets[:, :, :1, :1], atol=1e-6)  # one offset per image, every pixel
    offsets = offsets[:, :, 0, 0]
    eigvec = torch.tensor(IMAGENET_EIGVEC, dtype=torch.float64)
    eigval = torch.tensor(IMAGENET_EIGVAL, dtype=torch.float64)
    covariance = torch.cov(offsets.T)
    in_eigenbasis = eigvec.T @ covariance @ eigvec  # should be diag((0.1 * eigval)^2)
    predicted = (0.1 * eigval) ** 2
    torch.testing.assert_close(in_eigenbasis.diagonal(), predicted, rtol=0.1, atol=0)
    correlation = in_eigenbasis / torch.outer(predicted, predicted).sqrt()
    assert (correlation - torch.eye(3)).abs().max() < 0.1
    assert (offsets.mean(0).abs() < 4 * 0.1 * eigval.max() / 4000**0.5).all()


def test_ten_crop_is_four_corners_centre_and_their_mirrors():
    crop = 227
    ours = EvalTransform(crop, ten_crop=True, **IDENTITY)(_coordinate_image()).round()  # pixel values back
    assert ours.shape == (10, 3, crop, crop)
    far, centre = 256 - crop, (256 - crop) // 2
    corners = [(0, 0), (0, far), (far, 0), (far, far), (centre, centre)] * 2
    for k, (top, left) in enumerate(corners):
        mirrored = k >= 5  # crops of the mirrored image: column L there is far - L here
        left = far - left if mirrored else left
        assert ours[k, 0, 0, 0] == top and ours[k, 0, -1, 0] == top + crop - 1
        assert ours[k, 1, 0, 0] == (left + crop - 1 if mirrored else left)
        assert ours[k, 1, 0, -1] == (left if mirrored else left + crop - 1)
    torch.testing.assert_close(ours[4], EvalTransform(crop, **IDENTITY)(_coordinate_image()).round())


def test_ten_crop_on_a_decoded_jpeg_matches_torchvision(folders):
    from torchvision.transforms.v2 import functional as F

    dataset = ImageNetFolder(folders["loc"], "val", transform=eval_transform(224, ten_crop=True))
    square = resize_center(read_rgb(dataset.path(0)))
    normalised = F.normalize(square.float() / 255, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    reference = torch.stack(F.ten_crop(normalised, [224, 224]))
    torch.testing.assert_close(dataset[0][0], reference, atol=1e-5, rtol=0)


def test_device_batch_preprocess_equals_the_dataset_items(folders):
    from torch.utils.data import DataLoader

    from rfnet.imagenet.gpu import DeviceBatchPreprocess, EncodedImageNet, collate_encoded

    for transform in (train_transform(67, seed=4), eval_transform(67, ten_crop=True)):
        dataset = ImageNetFolder(folders["loc"], "train", transform=transform)
        dataset.set_epoch(3)
        loader = DataLoader(EncodedImageNet(dataset), batch_size=5, shuffle=True, collate_fn=collate_encoded)
        encoded, targets, indices = next(iter(loader))
        images = DeviceBatchPreprocess(dataset, transform, "cpu")(encoded, indices)
        expected = [dataset[int(i)] for i in indices]
        assert torch.equal(images, torch.stack([image for image, _ in expected]))
        assert targets.tolist() == [label for _, label in expected]


# -- rfnet imagenet-pca ---------------------------------------------------------------------------------


def test_imagenet_pca_command_matches_numpy_on_the_same_pixels(folders, tmp_path):
    from rfnet.cli import main

    out = tmp_path / "pca.json"
    assert main(["imagenet-pca", "--data", str(folders["loc"]), "--out", str(out), "--workers", "0", "--quiet"]) == 0
    result = json.loads(out.read_text())
    eigval, eigvec = np.array(result["eigval"]), np.array(result["eigvec"])
    assert np.all(np.diff(eigval) < 0) and eigval[-1] > 0
    np.testing.assert_allclose(eigvec.T @ eigvec, np.eye(3), atol=1e-10)
    train = ImageNetFolder(folders["loc"], "train")  # images are small: used as they are
    pixels = np.concatenate([read_rgb(train.path(i)).reshape(3, -1).numpy() for i in range(len(train))], axis=1) / 255
    assert result["pixels"] == pixels.shape[1] and result["images"] == len(train)
    covariance = np.cov(pixels)
    np.testing.assert_allclose(result["covariance"], covariance, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(result["mean"], pixels.mean(axis=1), rtol=1e-9)
    reference_val, reference_vec = np.linalg.eigh(covariance)
    np.testing.assert_allclose(eigval, reference_val[::-1], rtol=1e-8)
    np.testing.assert_allclose(np.abs(eigvec), np.abs(reference_vec[:, ::-1]), atol=1e-8)
    lighting = PCALighting.from_json(out)
    offset = lighting.offsets(torch.tensor([[1.0, 0.0, 0.0]], dtype=torch.float64))[0]
    np.testing.assert_allclose(offset.numpy(), eigval[0] * eigvec[:, 0], rtol=1e-6)


def test_imagenet_pca_max_images_draws_a_subset(folders, tmp_path):
    from rfnet.imagenet.pca import imagenet_colour_statistics

    stats = imagenet_colour_statistics(folders["loc"], max_images=5, seed=1)
    assert stats.images == 5 and torch.equal(
        stats.covariance, imagenet_colour_statistics(folders["loc"], max_images=5, seed=1).covariance
    )


# -- the val reorganiser ---------------------------------------------------------------------------------


def _script(name: str = "reorganize_imagenet_val"):
    """The script ``datasets/<name>.py`` as a module."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "datasets" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("form", ["loc", "devkit"])
def test_val_reorganiser_sorts_into_class_folders_and_finishes_an_interrupted_run(folders, tmp_path, form, capsys):
    import shutil

    root = shutil.copytree(folders[form], tmp_path / form)
    before = _val_labels_by_file(ImageNetFolder(root, "val"))
    script = _script()
    assert script.main([str(root / "val"), "--dry-run"]) == 0
    assert "nothing changed" in capsys.readouterr().out and len(list((root / "val").glob("*.JPEG"))) == len(before)
    # interrupted after two moves: run again to finish
    first, second = sorted(before)[:2]
    for name in (first, second):
        wnid = ImageNetFolder(folders[form], "train").classes[before[name]]
        (root / "val" / wnid).mkdir(exist_ok=True)
        (root / "val" / name).rename(root / "val" / wnid / name)
    with pytest.raises(ValueError, match="half-reorganised"):
        ImageNetFolder(root, "val")
    assert script.main([str(root / "val")]) == 0
    assert "2 already there" in capsys.readouterr().out
    assert not list((root / "val").glob("*.JPEG"))
    assert _val_labels_by_file(ImageNetFolder(root, "val")) == before


def test_val_reorganiser_changes_nothing_when_an_image_is_missing(folders, tmp_path, capsys):
    import shutil

    root = shutil.copytree(folders["loc"], tmp_path / "loc")
    (root / "val" / "ILSVRC2012_val_00000004.JPEG").unlink()
    files_before = sorted(p.name for p in (root / "val").iterdir())
    assert _script().main([str(root / "val"), "--out", str(tmp_path / "sorted"), "--mode", "symlink"]) == 2
    err = capsys.readouterr().err
    assert "ILSVRC2012_val_00000004" in err and "LOC_val_solution.csv" in err
    assert sorted(p.name for p in (root / "val").iterdir()) == files_before and not (tmp_path / "sorted").exists()


# -- the pre-resized copy -------------------------------------------------------------------------------


def test_a_resized_copy_reads_as_the_same_folder_with_its_shorter_sides_at_256(tmp_path, capsys):
    from torchvision.io import decode_jpeg, encode_jpeg
    from torchvision.transforms.v2 import functional as F

    from rfnet.imagenet.jpeg import torchvision_io

    source = write_procedural_imagenet(tmp_path / "full", num_classes=3, train_per_class=2, val_per_class=1,
                                       size=300, seed=0)
    assert _script("resize_imagenet").main([str(source), str(tmp_path / "small"), "--workers", "2"]) == 0
    assert "9 images (9 resized)" in capsys.readouterr().out  # 3 x 2 training and 3 val images
    for split in ("train", "val"):
        full, small = ImageNetFolder(source, split), ImageNetFolder(tmp_path / "small", split)
        assert small.classes == full.classes and list(small.targets) == list(full.targets)
        for index in range(len(full)):
            copy = read_rgb(small.path(index))
            # exactly the original with its shorter side brought to 256 and encoded once more, at quality 90
            smaller = F.resize(read_rgb(full.path(index)), [256], antialias=True)
            with torchvision_io():
                expected = decode_jpeg(encode_jpeg(smaller, quality=90))
            assert min(copy.shape[-2:]) == 256 and torch.equal(copy, expected), small.path(index)


def test_small_images_and_other_files_are_copied_byte_for_byte(folders, tmp_path):
    counts = write_resized_copy(folders["loc"], tmp_path / "copy", short_side=256, workers=1)
    assert counts["resized"] == 0 and counts["bytes_after"] == counts["bytes_before"] > 0
    for path in folders["loc"].rglob("*"):
        if path.is_file():
            assert (tmp_path / "copy" / path.relative_to(folders["loc"])).read_bytes() == path.read_bytes()


def test_a_resized_copy_refuses_bad_input_and_leaves_nothing(folders, tmp_path):
    with pytest.raises(ValueError, match="short_side must be in 256..320"):
        write_resized_copy(folders["loc"], tmp_path / "copy", short_side=128)
    with pytest.raises(FileNotFoundError, match="train: no such folder"):
        write_resized_copy(tmp_path, tmp_path / "copy")
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("x")
    with pytest.raises(ValueError, match="already exists"):
        write_resized_copy(folders["loc"], tmp_path / "taken")
    import shutil

    broken = shutil.copytree(folders["loc"], tmp_path / "broken")
    bad = sorted((broken / "train").rglob("*.JPEG"))[0]
    bad.write_bytes(bad.read_bytes()[:100])
    with pytest.raises(ValueError, match=bad.name):
        write_resized_copy(broken, tmp_path / "copy", workers=1)
    assert not (tmp_path / "copy").exists() and not list(tmp_path.glob(".copy*"))


# -- bad input ------------------------------------------------------------------------------------------


@pytest.fixture
def copy_of(folders, tmp_path):
    import shutil

    return lambda form: shutil.copytree(folders[form], tmp_path / form)


def test_truncated_jpeg_is_named_when_read(copy_of, tmp_path, capsys):
    from rfnet.cli import main

    root = copy_of("loc")
    dataset = ImageNetFolder(root, "train", transform=train_transform(67, seed=0))
    victim = dataset.path(2)
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated") as error:
        dataset[2]
    assert str(victim) in str(error.value)
    dataset[3]  # the others still read
    out = tmp_path / "pca.json"
    assert main(["imagenet-pca", "--data", str(root), "--out", str(out), "--workers", "1", "--quiet"]) == 2
    assert capsys.readouterr().err.strip().startswith(f"rfnet imagenet-pca: error: {victim}: cannot decode")
    assert not out.exists() and not list(tmp_path.glob(".pca.json*"))


def test_ground_truth_problems_name_the_file(copy_of):
    root = copy_of("loc")
    solution = root / "LOC_val_solution.csv"
    lines = solution.read_text().splitlines(keepends=True)
    solution.write_text("".join(lines[:-1]))
    with pytest.raises(ValueError, match=r"LOC_val_solution.csv: labels 8 images but .* holds 9; no entry for 1"):
        ImageNetFolder(root, "val")
    image_id, wnid_and_box = lines[-1].split(",")
    solution.write_text("".join(lines[:-1]) + f"{image_id},n09999999 {wnid_and_box.split(' ', 1)[1]}")
    with pytest.raises(ValueError, match="LOC_val_solution.csv: names 1 wnids that are not training classes, e.g. n09999999"):
        ImageNetFolder(root, "val")
    solution.unlink()
    with pytest.raises(FileNotFoundError, match="no validation ground truth"):
        ImageNetFolder(root, "val")


def test_devkit_ground_truth_with_the_wrong_count_or_ids(copy_of):
    root = copy_of("devkit")
    truth = root / "ILSVRC2012_devkit_t12" / "data" / "ILSVRC2012_validation_ground_truth.txt"
    lines = truth.read_text().splitlines(keepends=True)
    truth.write_text("".join(lines + lines[:1]))
    with pytest.raises(ValueError, match="ground_truth.txt: labels 10 images but .* holds 9"):
        ImageNetFolder(root, "val")
    truth.write_text("".join(lines[:-1]) + "77\n")
    with pytest.raises(ValueError, match=r"ground_truth.txt:9: ILSVRC2012_ID 77 is not a class in .*meta.mat"):
        ImageNetFolder(root, "val")


def test_missing_and_empty_folders(copy_of, tmp_path):
    root = copy_of("folders")
    (root / "val" / fake_wnid(1) / "ILSVRC2012_val_00000001.JPEG").unlink(missing_ok=True)
    for image in (root / "val" / fake_wnid(1)).iterdir():
        image.unlink()
    with pytest.raises(ValueError, match=f"{fake_wnid(1)}: class folder holds no images"):
        ImageNetFolder(root, "val")
    with pytest.raises(FileNotFoundError, match="nowhere/train: no such folder"):
        ImageNetFolder(tmp_path / "nowhere", "train")


def test_a_failed_generator_leaves_no_folder(tmp_path, monkeypatch):
    import rfnet.imagenet.image_folders as image_folders

    written = []

    def fail_on_the_fifth(path, image):
        if len(written) == 4:
            raise OSError("disk full")
        written.append(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")

    monkeypatch.setattr(image_folders, "_write_jpeg", fail_on_the_fifth)
    with pytest.raises(OSError, match="disk full"):
        write_procedural_imagenet(tmp_path / "gen", 2, 3, 1, size=16)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("pil_mode, pil_format", [("CMYK", "JPEG"), ("L", "JPEG"), ("RGB", "PNG")])
def test_cmyk_grey_and_png_named_jpeg_decode_to_rgb_as_pil_does(tmp_path, pil_mode, pil_format):
    from PIL import Image

    pixels = np.random.default_rng(0).integers(0, 256, (12, 20, 3), dtype=np.uint8)
    path = tmp_path / "n01440764_1.JPEG"  # ImageNet has all three under .JPEG names
    Image.fromarray(pixels).convert(pil_mode).save(path, format=pil_format, quality=95)
    ours = read_rgb(path)
    with Image.open(path) as image:
        expected = torch.from_numpy(np.asarray(image.convert("RGB")).copy()).permute(2, 0, 1)
    assert ours.shape == (3, 12, 20) and torch.equal(ours, expected)


def test_float_images_on_unit_scale_give_what_uint8_images_give():
    image = torch.randint(0, 256, (3, 270, 300), dtype=torch.uint8)
    transform = train_transform(224, seed=9)
    from_uint8 = transform(image, example=2)
    from_float = transform(image.float() / 255, example=2)
    # uint8 resizing works in fixed point on whole levels: within one level (/ std, in normalised units)
    torch.testing.assert_close(from_float, from_uint8, atol=1 / 255 / 0.224 + 1e-4, rtol=0)


def test_a_new_image_folder_follows_the_umask(tmp_path):
    import os

    from rfnet.imagenet.image_folders import new_folder

    previous = os.umask(0o022)
    try:
        with new_folder(tmp_path / "made") as temporary:
            (temporary / "x.txt").write_text("x")
    finally:
        os.umask(previous)
    assert (tmp_path / "made").stat().st_mode & 0o777 == 0o755  # tempfile.mkdtemp made it 0700
    assert [p.name for p in tmp_path.iterdir()] == ["made"]
