"""VT-CNN2 and the RadioML ResNet: shapes, parameter counts, gradients, saving, bad input."""

import pytest
import torch

from rfnet.models import RadioMLResNet, VTCNN2, create_model, load, save

CLASSES_11 = [f"c{i}" for i in range(11)]
CLASSES_24 = [f"c{i}" for i in range(24)]


def iq(batch: int, samples: int) -> torch.Tensor:
    return torch.randn(batch, samples, dtype=torch.complex64)


def num_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def test_vtcnn2_parameter_count_is_the_notebooks():
    assert num_parameters(VTCNN2(CLASSES_11, num_samples=128)) == 2_830_427


def test_vtcnn2_parameter_count_follows_the_layer_arithmetic():
    # conv1 1,024 + conv2 122,960 + dense1 80 (N + 4) * 256 + 256 + dense2 257 * classes.
    for samples, classes in [(128, 11), (1024, 24), (16, 3)]:
        model = VTCNN2([f"c{i}" for i in range(classes)], num_samples=samples)
        assert num_parameters(model) == 1_024 + 122_960 + 80 * (samples + 4) * 256 + 256 + 257 * classes


def test_radioml_resnet_parameter_count():
    # 6 stacks: 96 + 12,416 then 5 x 13,472 = 79,872; FC 65,664 + 16,512 + 3,096.
    assert num_parameters(RadioMLResNet(CLASSES_24, num_samples=1024)) == 165_144


@pytest.mark.parametrize("name,samples,classes", [("vtcnn2", 128, CLASSES_11), ("vtcnn2", 1024, CLASSES_24),
                                                  ("radioml_resnet", 1024, CLASSES_24),
                                                  ("radioml_resnet", 128, CLASSES_11)])
def test_shapes_and_gradients_reach_the_iq(name, samples, classes):
    model = create_model(name, classes=classes, num_samples=samples).eval()
    x = iq(3, samples).requires_grad_()
    logits = model(x)
    assert logits.shape == (3, len(classes)) and logits.dtype == torch.float32
    logits[:, 0].sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert model.classes == classes


def test_iq_rows_are_i_then_q():
    model = VTCNN2(CLASSES_11, num_samples=8).eval()
    seen = {}

    def keep_input(module, inputs, output):
        seen["x"] = inputs[0]

    model.features.conv1.register_forward_hook(keep_input)
    x = iq(2, 8)
    model(x)
    assert torch.equal(seen["x"][:, 0, 0], x.real) and torch.equal(seen["x"][:, 0, 1], x.imag)


@pytest.mark.parametrize("name,samples", [("vtcnn2", 128), ("radioml_resnet", 128)])
def test_save_load_round_trip(tmp_path, name, samples):
    model = create_model(name, classes=CLASSES_11, num_samples=samples).eval()
    save(model, tmp_path / "m")
    again = load(tmp_path / "m").eval()
    x = iq(2, samples)
    assert again.classes == CLASSES_11 and type(again) is type(model)
    assert torch.equal(model(x), again(x))


@pytest.mark.parametrize("model", [VTCNN2(CLASSES_11, 128), RadioMLResNet(CLASSES_11, 128)],
                         ids=["vtcnn2", "resnet"])
@pytest.mark.parametrize("bad", [torch.randn(2, 128), torch.randn(2, 64, dtype=torch.complex64),
                                 torch.randn(128, dtype=torch.complex64), torch.randn(2, 2, 128)])
def test_bad_iq_names_the_expected_shape(model, bad):
    with pytest.raises(ValueError, match=r"complex64 \[batch, 128\]"):
        model(bad)


def test_nan_iq_is_refused():
    x = iq(2, 128)
    x[1, 5] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        VTCNN2(CLASSES_11, 128)(x)


def test_bad_construction():
    with pytest.raises(ValueError, match="multiple of 64"):
        RadioMLResNet(CLASSES_11, num_samples=100)
    with pytest.raises(ValueError, match="distinct"):
        VTCNN2(["a", "a"], 128)
    with pytest.raises(ValueError, match="sequence of class names"):
        VTCNN2("ab", 128)
