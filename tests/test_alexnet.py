import math

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from rfnet.models import AlexNet, AlexNetTV, create_model, list_models


def n_params(model):
    return sum(p.numel() for p in model.parameters())


@pytest.fixture(scope="module")
def paper():
    torch.manual_seed(0)
    return create_model("alexnet").eval()


@pytest.fixture(scope="module")
def tv():
    torch.manual_seed(0)
    return create_model("alexnet_tv").eval()


def test_registry_lists_both_variants_and_refuses_unknown_names():
    assert {"alexnet", "alexnet_tv"} <= set(list_models())
    with pytest.raises(ValueError, match="unknown model 'alexnet2'"):
        create_model("alexnet2")


def test_parameter_counts_are_the_papers_and_torchvisions(paper, tv):
    assert n_params(paper) == 60_965_224
    assert n_params(tv) == 61_100_840
    # only fc8 depends on the number of classes: 4096 * n + n
    assert n_params(AlexNet(num_classes=11)) == 60_965_224 - 4_097_000 + 4097 * 11


def test_paper_layer_table(paper):
    layers = dict(paper.stages())
    assert [layers[f"conv{i}"].out_channels for i in range(1, 6)] == [96, 256, 384, 384, 256]
    assert [layers[f"conv{i}"].groups for i in range(1, 6)] == [1, 2, 1, 2, 2]
    assert [layers[f"conv{i}"].kernel_size for i in range(1, 6)] == [(11, 11), (5, 5), (3, 3), (3, 3), (3, 3)]
    assert layers["conv1"].stride == (4, 4)
    assert [layers[f"norm{i}"].towers for i in (1, 2)] == [2, 2]
    assert [(layers[f"pool{i}"].kernel_size, layers[f"pool{i}"].stride) for i in (1, 2, 5)] == [(3, 2)] * 3
    assert "ResponseNorm" in type(layers["norm1"]).__name__
    # dropout after fc6 and fc7 in the paper, before them in torchvision's layout
    assert paper.layer_names[-7:] == ["fc6", "relu6", "drop6", "fc7", "relu7", "drop7", "fc8"]


def test_torchvision_layout_drops_before_fc6_and_fc7(tv):
    assert tv.layer_names[-7:] == ["drop6", "fc6", "relu6", "drop7", "fc7", "relu7", "fc8"]
    assert not any("norm" in name for name in tv.layer_names)


@pytest.mark.parametrize(
    "kwargs, size, conv1",
    [
        ({}, 227, 55),                       # native: the paper's 55x55 maps
        ({"conv1_padding": 2}, 224, 55),     # 224 with the ports' padding
        ({}, 224, 54),                       # 224 without padding: floor, still 6x6 at the end
        ({}, 67, 15),                        # the smallest input the poolings allow
    ],
)
def test_paper_shapes(kwargs, size, conv1):
    model = AlexNet(num_classes=7, **kwargs).eval()
    x = torch.randn(2, 3, size, size)
    maps = model.layer_outputs(x, ["conv1", "pool5"])
    assert maps["conv1"].shape == (2, 96, conv1, conv1)
    assert model.forward_features(x).shape == (2, 256, 6, 6)
    assert model(x).shape == (2, 7)


def test_paper_maps_at_227_are_the_papers(paper):
    maps = paper.layer_outputs(torch.randn(1, 3, 227, 227), ["pool1", "pool2", "conv3", "pool5"])
    assert maps["pool1"].shape[1:] == (96, 27, 27)
    assert maps["pool2"].shape[1:] == (256, 13, 13)
    assert maps["conv3"].shape[1:] == (384, 13, 13)
    assert maps["pool5"].shape[1:] == (256, 6, 6)


@pytest.mark.parametrize("size", [224, 227, 63])
def test_torchvision_layout_shapes(tv, size):
    x = torch.randn(2, 3, size, size)
    assert tv.forward_features(x).shape == (2, 256, 6, 6)
    assert tv(x).shape == (2, 1000)


def test_paper_initialisation_statistics(paper):
    layers = dict(paper.stages())
    for name in ("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"):
        w = layers[name].weight
        assert abs(w.std().item() - 0.01) < 0.01 * 0.05, name
        assert abs(w.mean().item()) < 0.01 * 0.05, name
        expected_bias = 1.0 if name in ("conv2", "conv4", "conv5", "fc6", "fc7") else 0.0
        assert torch.all(layers[name].bias == expected_bias), name


def test_caffe_initialisation_statistics():
    layers = dict(AlexNet(num_classes=10, init="caffe").stages())
    assert abs(layers["fc6"].weight.std().item() - 0.005) < 0.005 * 0.05
    assert abs(layers["conv3"].weight.std().item() - 0.01) < 0.01 * 0.05
    assert torch.all(layers["fc7"].bias == 0.1) and torch.all(layers["conv1"].bias == 0)


def test_unknown_init_is_refused():
    with pytest.raises(ValueError, match="unknown init 'xavier'"):
        AlexNet(num_classes=2, init="xavier")


def test_forward_head_and_reset_classifier():
    model = AlexNet(num_classes=10, init="caffe").eval()
    x = torch.randn(3, 3, 99, 99)
    features = model.forward_features(x)
    assert model.num_features == math.prod(features.shape[1:]) == 9216
    torch.testing.assert_close(model.forward_head(features), model(x))
    assert model.forward_head(features, pre_logits=True).shape == (3, model.head_hidden_size)
    model.reset_classifier(4)
    assert model(x).shape == (3, 4) and model.num_classes == 4 == model.config["num_classes"]
    model.reset_classifier(0)
    assert model(x).shape == (3, 4096)


def test_freeze_up_to_a_named_layer():
    model = AlexNet(num_classes=3, init="caffe")
    frozen = model.freeze(up_to="conv5")
    assert "conv1.weight" in frozen and "conv5.bias" in frozen and not any(f.startswith("fc") for f in frozen)
    loss = model(torch.randn(2, 3, 67, 67)).sum()
    loss.backward()
    layers = dict(model.stages())
    assert layers["conv5"].weight.grad is None and layers["conv1"].weight.grad is None
    assert layers["fc6"].weight.grad is not None and layers["fc6"].weight.grad.abs().sum() > 0
    model.freeze(None)
    assert all(p.requires_grad for p in model.parameters())
    with pytest.raises(ValueError, match="no layer 'conv9'"):
        model.freeze(up_to="conv9")


def test_layer_outputs_are_the_named_layers_outputs_along_the_forward_pass():
    model = AlexNetTV(num_classes=5).eval()
    x = torch.randn(2, 3, 80, 80)
    maps = model.layer_outputs(x, ["relu1", "fc8"])
    assert torch.all(maps["relu1"] >= 0)
    torch.testing.assert_close(maps["fc8"], model(x))
    with pytest.raises(ValueError, match="layers are"):
        model.layer_outputs(x, ["conv6"])


@pytest.mark.parametrize(
    "arch, size, shapes",
    [
        ("alexnet", 227, [(96, 55), (256, 27), (384, 13), (384, 13), (256, 13)]),
        ("alexnet_tv", 224, [(64, 55), (192, 27), (384, 13), (256, 13), (256, 13)]),
    ],
)
def test_forward_intermediates_follows_timms_contract(arch, size, shapes):
    torch.manual_seed(0)
    model = create_model(arch, num_classes=5).eval()
    x = torch.randn(1, 3, size, size)
    final, intermediates = model.forward_intermediates(x)  # (final features, [one map per conv stage])
    assert isinstance(final, torch.Tensor) and isinstance(intermediates, list)
    torch.testing.assert_close(final, model.forward_features(x), rtol=0, atol=0)
    assert [tuple(t.shape) for t in intermediates] == [(1, c, n, n) for c, n in shapes]
    named = model.layer_outputs(x, model.intermediate_names)
    for t, name in zip(intermediates, model.intermediate_names, strict=True):
        torch.testing.assert_close(t, named[name], rtol=0, atol=0)

    only = model.forward_intermediates(x, indices=2, intermediates_only=True)  # an int: the last n
    assert isinstance(only, list) and [t.shape for t in only] == [t.shape for t in intermediates[-2:]]
    picked = model.forward_intermediates(x, indices=[-1, 0], intermediates_only=True)  # forward order
    assert [t.shape for t in picked] == [intermediates[0].shape, intermediates[-1].shape]
    early, kept = model.forward_intermediates(x, indices=[1], stop_early=True)
    torch.testing.assert_close(early, intermediates[1], rtol=0, atol=0)  # stops at the last stage asked for
    assert len(kept) == 1
    final_normed, _ = model.forward_intermediates(x, indices=[0], norm=True)  # no norm layer: unchanged
    torch.testing.assert_close(final_normed, final, rtol=0, atol=0)


def test_forward_intermediates_refuses_what_timm_refuses(paper):
    x = torch.randn(1, 3, 67, 67)
    for bad in (0, 6, [5], [-6]):
        with pytest.raises(ValueError, match="out of range|1 <= n <= 5"):
            paper.forward_intermediates(x, indices=bad)
    with pytest.raises(ValueError, match="output_fmt must be 'NCHW'"):
        paper.forward_intermediates(x, output_fmt="NLC")
    with pytest.raises(ValueError, match=r"expects float images \[B, 3, H, W\] with H, W >= 67"):
        paper.forward_intermediates(torch.randn(1, 3, 60, 60))


@pytest.mark.parametrize("in_chans", [1, 2])
def test_models_for_one_or_two_channels(in_chans):
    for name in ("alexnet", "alexnet_tv"):
        model = create_model(name, num_classes=4, in_chans=in_chans).eval()
        assert model(torch.randn(2, in_chans, 70, 70)).shape == (2, 4)


@pytest.mark.parametrize(
    "shape, dtype",
    [
        ((2, 1, 227, 227), torch.float32),   # wrong channel count
        ((2, 3, 66, 227), torch.float32),    # too small for the poolings
        ((3, 227, 227), torch.float32),      # wrong rank
        ((2, 3, 227, 227), torch.complex64), # not real images
    ],
)
def test_bad_input_names_the_expected_shape(paper, shape, dtype):
    with pytest.raises(ValueError, match=r"expects float images \[B, 3, H, W\] with H, W >= 67"):
        paper(torch.zeros(shape, dtype=dtype))


def test_fine_tuning_the_backbone_lowers_the_loss_on_a_learnable_task():
    torch.manual_seed(1)
    model = AlexNet(num_classes=2, in_chans=1, init="torchvision", drop_rate=0.0)
    model.freeze(up_to="conv2")
    labels = torch.arange(16) % 2
    images = torch.randn(16, 1, 67, 67) + labels.view(-1, 1, 1, 1) * 2.0  # class 1 is brighter
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    conv1_before = dict(model.stages())["conv1"].weight.clone()
    losses = []
    for _ in range(12):
        loss = torch.nn.functional.cross_entropy(model(images), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    torch.testing.assert_close(dict(model.stages())["conv1"].weight, conv1_before, rtol=0, atol=0)


def test_he_initialisation_statistics():
    layers = dict(AlexNet(num_classes=10, init="he").stages())
    for name in ("conv1", "conv3", "fc6"):
        w = layers[name].weight
        expected = (2.0 / w[0].numel()) ** 0.5
        assert abs(w.std().item() - expected) < expected * 0.05, name
        assert torch.all(layers[name].bias == 0)
    assert abs(layers["fc8"].weight.std().item() - 0.01) < 0.01 * 0.05


def unfolded(model, x):
    """The network as written: pool5 → average pool to 6x6 → flatten → the full 9216-input fc6 → ..."""
    return model.forward_head(model.forward_features(x))


def fc_flops(model, x):
    """FLOPs of the matrix products (fc6, fc7, fc8) in one forward pass of ``x``, autograd recording."""
    with FlopCounterMode(display=False) as counter:
        model(x)
    return sum(n for op, n in counter.get_flop_counts()["Global"].items() if "mm" in str(op))


@pytest.mark.parametrize("size, pool5", [(67, 1), (99, 2), (131, 3)])
@pytest.mark.parametrize("arch", ["alexnet", "alexnet_tv"])
def test_fc6_folded_with_the_pool_is_the_unfolded_network_at_a_fraction_of_the_cost(arch, size, pool5):
    torch.manual_seed(0)
    model = create_model(arch, num_classes=5).double().eval()
    x = torch.randn(2, 3, size, size, dtype=torch.float64)
    assert model.layer_outputs(x, ["pool5"])["pool5"].shape[-2:] == (pool5, pool5)
    torch.testing.assert_close(model(x), unfolded(model, x), rtol=1e-10, atol=1e-12)
    fc7_fc8 = 2 * 2 * (4096 * 4096 + 4096 * 5)
    fold = 2 * 4096 * 256 * 36 * pool5**2  # once per batch: fc6's weight times the pool's matrix
    assert fc_flops(model, x) == 2 * 2 * 4096 * 256 * pool5**2 + fold + fc7_fc8  # fc6 on the maps, not copies
    intermediates = model.layer_outputs(x, ["fc6", "fc8"])
    torch.testing.assert_close(intermediates["fc8"], model(x), rtol=0, atol=0)


@pytest.mark.parametrize("size", [67, 131])
def test_paper_fold_is_the_same_function_in_training_dropout_and_gradients_included(size):
    torch.manual_seed(0)
    model = AlexNet(num_classes=5, init="he").double().train()  # dropout 0.5 after fc6 and fc7
    x = torch.randn(3, 3, size, size, dtype=torch.float64)
    grads = []
    for forward in (model, lambda images: unfolded(model, images)):
        torch.manual_seed(7)  # the same dropout masks for both
        logits = forward(x)
        model.zero_grad()
        torch.nn.functional.cross_entropy(logits, torch.tensor([0, 3, 4])).backward()
        grads.append((logits.detach(), {name: p.grad.clone() for name, p in model.named_parameters()}))
    (folded_logits, folded), (reference_logits, reference) = grads
    torch.testing.assert_close(folded_logits, reference_logits, rtol=1e-10, atol=1e-12)
    assert folded["classifier.fc6.weight"].abs().max() > 0
    for name in reference:
        torch.testing.assert_close(folded[name], reference[name], rtol=1e-9, atol=1e-12, msg=name)


def test_torchvision_layout_is_not_folded_while_dropout_acts_on_fc6s_input():
    torch.manual_seed(0)
    model = AlexNetTV(num_classes=5).train()
    x = torch.randn(2, 3, 67, 67)
    torch.manual_seed(3)
    trained = model(x)
    torch.manual_seed(3)
    torch.testing.assert_close(trained, unfolded(model, x), rtol=0, atol=0)  # the unfolded path itself
    assert fc_flops(model.train(), x) == 2 * 2 * (4096 * 9216 + 4096 * 4096 + 4096 * 5)
    assert fc_flops(AlexNetTV(num_classes=5, drop_rate=0.0).train(), x) < 2 * 2 * 4096 * 9216  # no dropout: folded


@pytest.mark.parametrize("arch, size", [("alexnet", 227), ("alexnet", 163), ("alexnet_tv", 224)])
def test_at_and_above_the_native_size_nothing_is_folded_and_results_are_bit_identical(arch, size):
    torch.manual_seed(0)
    model = create_model(arch, num_classes=5).eval()
    x = torch.randn(2, 3, size, size)
    torch.testing.assert_close(model(x), unfolded(model, x), rtol=0, atol=0)
    assert fc_flops(model, x) == 2 * 2 * (4096 * 9216 + 4096 * 4096 + 4096 * 5)


def test_the_fold_leaves_parameters_and_state_dict_keys_as_they_were(paper, tv):
    convs = [f"features.conv{i}.{p}" for i in range(1, 6) for p in ("weight", "bias")]
    fcs = [f"classifier.{name}.{p}" for name in ("fc6", "fc7", "fc8") for p in ("weight", "bias")]
    assert list(paper.state_dict()) == convs + fcs
    tv_keys = [f"features.{i}.{p}" for i in (0, 3, 6, 8, 10) for p in ("weight", "bias")]
    assert list(tv.state_dict()) == tv_keys + [f"classifier.{i}.{p}" for i in (1, 4, 6) for p in ("weight", "bias")]
    assert paper.state_dict()["classifier.fc6.weight"].shape == (4096, 9216)


@pytest.mark.parametrize("no_autograd", [torch.no_grad, torch.inference_mode])
def test_inference_without_autograd_is_not_folded_and_bit_identical(no_autograd):
    torch.manual_seed(0)
    model = AlexNet(num_classes=5).eval()
    x = torch.randn(1, 3, 67, 67)  # at batch 1 the fold's pass over fc6's weight would cost more than it saves
    with no_autograd():
        torch.testing.assert_close(model(x), unfolded(model, x), rtol=0, atol=0)
        with FlopCounterMode(display=False) as features:
            model.forward_features(x)
        with FlopCounterMode(display=False) as whole:
            model(x)
    assert whole.get_total_flops() - features.get_total_flops() == 2 * (4096 * 9216 + 4096 * 4096 + 4096 * 5)


def test_a_hook_on_fc6_sees_every_call_so_the_fold_steps_aside():
    model = AlexNet(num_classes=5).eval()
    x = torch.randn(2, 3, 67, 67)
    seen = []
    handle = model.classifier.fc6.register_forward_hook(lambda module, args, out: seen.append(args[0].shape))
    hooked = model(x)
    handle.remove()
    assert seen == [(2, 9216)]
    torch.testing.assert_close(hooked, unfolded(model, x), rtol=0, atol=0)
