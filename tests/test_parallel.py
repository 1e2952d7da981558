import pytest
import torch

from rfnet.models import AlexNet, TwoTowerAlexNet
from rfnet.models.parallel import TOWER_WIDTHS

SIZE = 99  # small, but every map is bigger than 1x1 (pool5 gives 2x2)


@pytest.fixture(scope="module")
def single():
    torch.manual_seed(0)
    # odd class count: fc8 splits 3 + 2; no dropout so train-mode gradients are deterministic
    model = AlexNet(num_classes=5, init="caffe", drop_rate=0.0).double()
    with torch.no_grad():  # weights large enough that LRN and every ReLU matter
        for p in model.parameters():
            p.mul_(8.0)
    return model


def test_each_tower_holds_half_the_kernels_of_every_layer(single):
    split = TwoTowerAlexNet.from_single(single)
    for tower in split.towers:
        widths = {name: getattr(tower, name).weight.shape[0] for name in TOWER_WIDTHS}
        assert widths == {"conv1": 48, "conv2": 128, "conv3": 192, "conv4": 192, "conv5": 128, "fc6": 2048, "fc7": 2048}
        # conv2/4/5 see only their own tower's maps, conv3 and the FC layers see both towers'
        assert [getattr(tower, f"conv{i}").in_channels for i in (2, 3, 4, 5)] == [48, 256, 192, 192]
        assert (tower.fc6.in_features, tower.fc7.in_features, tower.fc8.in_features) == (9216, 4096, 4096)
    assert [t.fc8.out_features for t in split.towers] == [3, 2]
    total = sum(p.numel() for p in split.parameters())
    assert total == sum(p.numel() for p in single.parameters())


@pytest.mark.parametrize("size", [SIZE, 163])  # fc6 folded with the pool (2x2 pool5 map), and not (4x4)
def test_split_outputs_and_gradients_equal_the_single_device_net(single, size):
    split = TwoTowerAlexNet.from_single(single).double()
    x = torch.randn(3, 3, size, size, dtype=torch.float64)
    target = torch.tensor([0, 3, 4])

    single.zero_grad()
    out_single = single(x)
    torch.nn.functional.cross_entropy(out_single, target).backward()
    out_split = split(x)
    torch.nn.functional.cross_entropy(out_split, target).backward()

    assert out_single.abs().max() > 1e-3  # the comparison is not between zeros
    torch.testing.assert_close(out_split, out_single, rtol=1e-9, atol=1e-12)
    single_layers = dict(single.stages())
    for name in ("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"):
        for pname in ("weight", "bias"):
            joined = torch.cat([getattr(getattr(t, name), pname).grad for t in split.towers])
            expected = getattr(single_layers[name], pname).grad
            assert expected.abs().max() > 0, name
            torch.testing.assert_close(joined, expected, rtol=1e-9, atol=1e-12, msg=f"{name}.{pname}")


def test_round_trip_through_the_split_form_keeps_every_weight(single):
    back = TwoTowerAlexNet.from_single(single).to_single()
    for (key, a), (_, b) in zip(single.state_dict().items(), back.state_dict().items()):
        torch.testing.assert_close(a, b.double(), rtol=0, atol=0, msg=key)
    assert back.config == single.config


def test_activations_cross_only_into_conv3_and_the_fc_layers(single, monkeypatch):
    split = TwoTowerAlexNet.from_single(single).double()
    crossings = []
    original = TwoTowerAlexNet._exchange

    def record(parts, device):
        crossings.append([tuple(p.shape[1:]) for p in parts])
        return original(parts, device)

    monkeypatch.setattr(TwoTowerAlexNet, "_exchange", staticmethod(record))
    split(torch.randn(2, 3, SIZE, SIZE, dtype=torch.float64))
    maps = (128, 5, 5)  # own conv2 maps after pool2 at 99x99
    assert crossings == [
        [maps, maps], [maps, maps],                       # into conv3, on each tower
        [(128, 2, 2), (128, 2, 2)], [(128, 2, 2), (128, 2, 2)],  # into fc6: pool5's maps, not 9x copies
        [(2048,), (2048,)], [(2048,), (2048,)],           # into fc7
        [(2048,), (2048,)], [(2048,), (2048,)],           # into fc8
        [(3,), (2,)],                                     # the logits, gathered on devices[0]
    ]  # fmt: skip


def test_each_towers_parameters_live_on_its_own_device():
    # the meta device stands in for a second accelerator: nothing is allocated there
    split = TwoTowerAlexNet(num_classes=10, devices=("cpu", "meta"))
    assert {p.device.type for p in split.towers[0].parameters()} == {"cpu"}
    assert {p.device.type for p in split.towers[1].parameters()} == {"meta"}


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
@pytest.mark.parametrize("devices", [("cuda:0", "cuda:0"), ("cuda:0", "cpu")])
def test_split_on_cuda_equals_the_single_device_net(devices):
    model = AlexNet(num_classes=10, init="caffe", drop_rate=0.0)
    x = torch.randn(4, 3, 227, 227)
    expected = model(x)
    split = TwoTowerAlexNet.from_single(model, devices=devices)
    out = split(x.to(devices[0]))
    assert out.device == torch.device(devices[0])
    torch.testing.assert_close(out.cpu(), expected, rtol=1e-3, atol=1e-4)


def test_bad_arguments():
    with pytest.raises(ValueError, match="exactly two devices"):
        TwoTowerAlexNet(devices=("cpu",))
    with pytest.raises(ValueError, match="num_classes >= 2"):
        TwoTowerAlexNet(num_classes=1)
    with pytest.raises(TypeError, match="paper AlexNet"):
        TwoTowerAlexNet.from_single(torch.nn.Linear(2, 2))
    split = TwoTowerAlexNet(num_classes=4)
    with pytest.raises(ValueError, match=r"\[B, 3, H, W\] with H, W >= 67"):
        split(torch.randn(1, 3, 50, 50))


def test_both_forms_share_one_settings_dataclass_so_no_setting_is_lost_between_them():
    import dataclasses

    from rfnet.models import AlexNetConfig

    settings = AlexNetConfig(num_classes=3, in_chans=1, drop_rate=0.25, init="he", alpha_over_n=False,
                             conv1_padding=2)
    assert all(getattr(settings, f.name) != f.default for f in dataclasses.fields(AlexNetConfig))
    split = TwoTowerAlexNet.from_single(AlexNet(**dataclasses.asdict(settings)))
    assert split.settings == settings and split.min_input_size == 63
    assert split.to_single().settings == settings
    with pytest.raises(ValueError, match=r"alexnet_two_tower: unknown setting\(s\) \['colour'\]"):
        TwoTowerAlexNet(colour="red")
