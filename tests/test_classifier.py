"""SpectrogramClassifier: IQ to logits through the front end and an AlexNet backbone; saving, fine-tuning
helpers, learning-rate groups, bad input, and check_classes."""

import pytest
import torch

from rfnet.dsp.spectrogram import SpectrogramConfig
from rfnet.models import SpectrogramClassifier, check_classes, create_model, load, save

CLASSES = ["BPSK", "QPSK", "8PSK"]
FRONT = {"image_size": [67, 67]}


def iq(batch: int, samples: int) -> torch.Tensor:
    return torch.randn(batch, samples, dtype=torch.complex64)


@pytest.fixture(scope="module", params=["alexnet", "alexnet_tv"])
def model(request):
    torch.manual_seed(0)
    return SpectrogramClassifier(CLASSES, FRONT, backbone=request.param,
                                 backbone_config={"init": "torchvision"}).eval()


@pytest.fixture(scope="module")
def tv_model():
    torch.manual_seed(0)
    return SpectrogramClassifier(CLASSES, FRONT, backbone="alexnet_tv").eval()


@pytest.mark.parametrize("samples", [128, 1024])
def test_forward_shapes_and_gradient_to_iq(model, samples):
    x = iq(2, samples).requires_grad_()
    logits = model(x)
    assert logits.shape == (2, len(CLASSES)) and logits.dtype == torch.float32
    logits[:, 1].sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    model.zero_grad(set_to_none=True)


def test_logits_are_backbone_of_frontend(model):
    x = iq(2, 128)
    with torch.no_grad():
        assert torch.equal(model(x), model.backbone(model.frontend(x)))
    assert model.frontend.config == SpectrogramConfig(**FRONT)
    assert model.backbone.num_classes == len(CLASSES) and model.classes == CLASSES


def test_save_load_round_trip_keeps_logits_and_classes(model, tmp_path):
    save(model, tmp_path / "m")
    again = load(tmp_path / "m").eval()
    x = iq(2, 128)
    with torch.no_grad():
        assert torch.equal(model(x), again(x))
    assert again.classes == CLASSES
    assert again.frontend.config == model.frontend.config
    assert again.backbone.arch == model.backbone.arch and again.config == model.config


def test_from_backbone_keeps_features_and_resets_fc8(tv_model):
    donor = tv_model.backbone
    front = dict(FRONT, imagenet_normalize=True)
    wrapped = SpectrogramClassifier.from_backbone(donor, ["a", "b"], front).eval()
    assert wrapped.classes == ["a", "b"] and wrapped.backbone.num_classes == 2
    assert wrapped.backbone.classifier[-1].out_features == 2
    assert donor.num_classes == len(CLASSES)  # the caller's model is left alone
    assert wrapped.backbone is not donor
    for (name, a), (_, b) in zip(donor.named_parameters(), wrapped.backbone.named_parameters()):
        if not name.startswith("classifier.6"):
            assert torch.equal(a, b), name
    assert wrapped.frontend.config.imagenet_normalize
    assert wrapped.config["backbone_config"]["num_classes"] == 2
    assert wrapped(iq(1, 128)).shape == (1, 2)


def test_param_groups_by_group_and_by_layer(tv_model):
    net = tv_model.backbone
    groups = tv_model.param_groups({"features": 1e-4, "classifier": 1e-3})
    assert [g["lr"] for g in groups] == [1e-4, 1e-3]
    assert sum(p.numel() for g in groups for p in g["params"]) == sum(p.numel() for p in net.parameters())
    assert {id(p) for p in groups[0]["params"]} == {id(p) for p in net.features.parameters()}
    by_layer = tv_model.param_groups({"conv1": 1e-4, "fc6": 1e-3, "head": 1e-2})
    assert [g["name"] for g in by_layer] == ["conv1-drop6", "fc6-relu7", "fc8"]
    assert [len(g["params"]) for g in by_layer] == [10, 4, 2]
    assert len(tv_model.param_groups(1e-3)) == 1
    torch.optim.SGD(by_layer, lr=0.1)  # torch accepts them


def test_param_groups_leave_out_frozen_parameters(tv_model):
    try:
        frozen = tv_model.freeze("conv3")
        assert frozen and all(name.startswith("backbone.conv") for name in frozen)
        groups = tv_model.param_groups({"conv4": 1e-4, "head": 1e-2})
        params = [p for g in groups for p in g["params"]]
        assert all(p.requires_grad for p in params)
        assert len(params) == sum(p.requires_grad for p in tv_model.parameters())
        with pytest.raises(ValueError, match="conv4"):
            tv_model.param_groups({"conv5": 1e-4})
    finally:
        tv_model.freeze(None)


def test_param_groups_bad_keys(tv_model):
    with pytest.raises(ValueError, match="unknown layer 'conv9'"):
        tv_model.param_groups({"conv9": 1e-3})
    with pytest.raises(ValueError, match="positive"):
        tv_model.param_groups({"features": -1.0})


@pytest.mark.parametrize("bad", [torch.randn(2, 128), torch.randn(128, dtype=torch.complex64),
                                 torch.randn(2, 4, dtype=torch.complex64), [1, 2, 3]],
                         ids=["real", "1d", "short", "list"])
def test_bad_iq_names_the_expected_shape(tv_model, bad):
    with pytest.raises(ValueError, match=r"complex64 \[batch, samples\]"):
        tv_model(bad)


def test_nan_iq_is_refused(tv_model):
    x = iq(2, 128)
    x[0, 3] = complex("nan")
    with pytest.raises(ValueError, match="NaN"):
        tv_model(x)


def test_front_end_that_does_not_fit_the_backbone():
    with pytest.raises(ValueError, match="minimum input"):
        SpectrogramClassifier(CLASSES, {"image_size": [32, 32]}, backbone="alexnet_tv")
    with pytest.raises(ValueError, match="in_chans"):
        SpectrogramClassifier(CLASSES, FRONT, backbone="alexnet_tv", backbone_config={"in_chans": 1})
    with pytest.raises(ValueError, match="num_classes"):
        SpectrogramClassifier(CLASSES, FRONT, backbone="alexnet_tv", backbone_config={"num_classes": 5})
    with pytest.raises(ValueError, match="not SpectrogramConfig fields"):
        SpectrogramClassifier(CLASSES, {"nfft": 8})
    with pytest.raises(ValueError, match="does not fit backbone 'vtcnn2'"):
        SpectrogramClassifier(CLASSES, FRONT, backbone="vtcnn2")
    with pytest.raises(ValueError, match="unknown model"):
        SpectrogramClassifier(CLASSES, FRONT, backbone="resnet50")


def test_one_channel_front_end_builds_a_one_channel_backbone():
    model = SpectrogramClassifier(["a", "b"], {"image_size": [63, 63], "channels": 1}, backbone="alexnet_tv")
    assert model.backbone.in_chans == 1
    assert model(iq(1, 128)).shape == (1, 2)


def test_registered_under_its_name():
    model = create_model("spectrogram_classifier", classes=["a", "b"], frontend=FRONT, backbone="alexnet_tv")
    assert isinstance(model, SpectrogramClassifier)


def test_check_classes_messages(tv_model):
    check_classes(tv_model, list(CLASSES))
    with pytest.raises(ValueError, match=r"lacks: \['16QAM'\].*not in the data: \['8PSK'\]"):
        check_classes(tv_model, ["BPSK", "QPSK", "16QAM"])
    with pytest.raises(ValueError, match=r"different order.*index 0"):
        check_classes(tv_model, ["QPSK", "BPSK", "8PSK"])
    with pytest.raises(ValueError, match=r"not in the data: \['8PSK'\]"):
        check_classes(tv_model, ["BPSK", "QPSK"])
    with pytest.raises(ValueError, match="no class names"):
        check_classes(torch.nn.Linear(2, 2), CLASSES)
