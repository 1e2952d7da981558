"""The backbones trace with torch.fx and torchvision's create_feature_extractor, and still check their input."""

import pytest
import torch
import torch.fx
from torchvision.models.feature_extraction import create_feature_extractor, get_graph_node_names

from rfnet.models import create_model
from rfnet.models.layers import TowerLocalResponseNorm
from rfnet.models.parallel import TwoTowerAlexNet


def build(arch):
    torch.manual_seed(0)
    if arch == "alexnet_two_tower":
        return TwoTowerAlexNet(num_classes=5).eval()
    return create_model(arch, num_classes=5).eval()


@pytest.mark.parametrize("size", [67, 227])
@pytest.mark.parametrize("arch", ["alexnet", "alexnet_tv", "alexnet_two_tower"])
def test_symbolic_trace_is_the_eager_model(arch, size):
    model = build(arch)
    traced = torch.fx.symbolic_trace(model)
    x = torch.randn(1, 3, size, size)
    with torch.no_grad():  # eager runs fc6 unfolded here too: the very same arithmetic
        torch.testing.assert_close(traced(x), model(x), rtol=0, atol=0)
    # With autograd recording, eager folds fc6 with the pool at 67 pixels; the graph keeps it plain:
    # the same function to float rounding, and the gradient reaches the input through the graph.
    x.requires_grad_(True)
    out = traced(x)
    torch.testing.assert_close(out, model(x), rtol=1e-4, atol=1e-5)
    out.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


@pytest.mark.parametrize("arch", ["alexnet", "alexnet_tv", "alexnet_two_tower"])
def test_traced_model_still_names_the_problem_with_a_wrong_input(arch):
    model = build(arch)
    traced = torch.fx.symbolic_trace(model)
    expected = rf"{model.arch} expects float images \[B, 3, H, W\] with H, W >= {model.min_input_size}"
    for bad in (torch.zeros(1, 1, 67, 67), torch.zeros(1, 3, 60, 60), torch.zeros(3, 67, 67)):
        with pytest.raises(ValueError, match=expected):
            traced(bad)


def test_the_graph_holds_the_paper_layers_by_name():
    train_nodes, eval_nodes = get_graph_node_names(build("alexnet"))
    assert train_nodes == eval_nodes
    for name in ("check_images", "features.conv1", "features.pool5", "avgpool", "classifier.fc6", "classifier.fc8"):
        assert name in eval_nodes
    assert any(node.startswith("features.norm1") for node in eval_nodes)


@pytest.mark.parametrize(
    "arch, nodes",
    [
        ("alexnet", {"features.norm1": (96, 15, 15), "features.pool5": (256, 1, 1), "avgpool": (256, 6, 6),
                     "classifier.fc7": (4096,)}),
        ("alexnet_tv", {"features.2": (64, 7, 7), "features.12": (256, 1, 1), "classifier.4": (4096,)}),
    ],
)  # fmt: skip
def test_create_feature_extractor_returns_the_requested_nodes(arch, nodes):
    model = build(arch)
    extractor = create_feature_extractor(model, return_nodes={name: name for name in nodes})
    x = torch.randn(2, 3, 67, 67)
    with torch.no_grad():
        out = extractor(x)
        assert {name: tuple(t.shape[1:]) for name, t in out.items()} == nodes
        if arch == "alexnet":
            torch.testing.assert_close(out["avgpool"], model.forward_features(x), rtol=0, atol=0)
            fc7 = model.layer_outputs(x, ["fc7"])["fc7"]
            torch.testing.assert_close(out["classifier.fc7"], fc7, rtol=0, atol=0)
    with pytest.raises(ValueError, match=r"expects float images \[B, 3, H, W\]"):
        extractor(torch.zeros(2, 1, 67, 67))


def test_lrn_traces_and_keeps_its_own_check():
    lrn = TowerLocalResponseNorm(towers=2)
    traced = torch.fx.symbolic_trace(lrn)
    x = torch.randn(2, 8, 5, 5)
    torch.testing.assert_close(traced(x), lrn(x), rtol=0, atol=0)
    with pytest.raises(ValueError, match="cannot be split into 2 towers"):
        traced(torch.randn(1, 5, 3, 3))
