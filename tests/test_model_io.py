import json

import pytest
import torch
import torchvision

import rfnet
from rfnet.models import AlexNetTV, create_model, load, load_torchvision_weights, read_config, save


@pytest.fixture(scope="module")
def torchvision_alexnet():
    torch.manual_seed(0)
    return torchvision.models.alexnet(weights=None).eval()


def test_torchvision_weight_file_loads_and_gives_the_same_outputs(torchvision_alexnet, tmp_path):
    path = tmp_path / "alexnet.pth"
    torch.save(torchvision_alexnet.state_dict(), path)
    ours = load_torchvision_weights(create_model("alexnet_tv"), path).eval()
    x = torch.randn(2, 3, 224, 224)
    torch.testing.assert_close(ours(x), torchvision_alexnet(x), rtol=0, atol=0)


def test_torchvision_weights_adapt_to_one_channel(torchvision_alexnet):
    grey = load_torchvision_weights(create_model("alexnet_tv", in_chans=1), torchvision_alexnet.state_dict()).eval()
    x = torch.randn(2, 1, 224, 224)
    torch.testing.assert_close(grey(x), torchvision_alexnet(x.expand(-1, 3, -1, -1)), rtol=1e-4, atol=1e-5)


def test_torchvision_weights_that_do_not_fit_name_the_keys(torchvision_alexnet, tmp_path):
    state = dict(torchvision_alexnet.state_dict())
    state["features.99.weight"] = state.pop("features.10.weight")
    with pytest.raises(ValueError, match=r"missing keys \['features.10.weight'\].*unexpected keys \['features.99.weight'\]"):
        load_torchvision_weights(create_model("alexnet_tv"), state)
    with pytest.raises(ValueError, match=r"classifier.6.weight: file \(1000, 4096\) vs model \(11, 4096\)"):
        load_torchvision_weights(create_model("alexnet_tv", num_classes=11), torchvision_alexnet.state_dict())
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a torch file")
    with pytest.raises(ValueError, match="junk.pth: not a readable torch weight file"):
        load_torchvision_weights(create_model("alexnet_tv"), junk)
    with pytest.raises(FileNotFoundError, match="nowhere.pth"):
        load_torchvision_weights(create_model("alexnet_tv"), tmp_path / "nowhere.pth")
    with pytest.raises(TypeError, match="'alexnet_tv' layout"):
        load_torchvision_weights(create_model("alexnet"), state)


@pytest.mark.parametrize("name, config", [("alexnet", {"num_classes": 7, "init": "caffe", "alpha_over_n": False}), ("alexnet_tv", {"num_classes": 3, "in_chans": 2})])
def test_save_load_round_trip_rebuilds_the_model_with_no_arguments(tmp_path, name, config):
    model = create_model(name, **config).eval()
    path = save(model, tmp_path / "model")
    assert sorted(p.name for p in path.iterdir()) == ["config.json", "model.safetensors"]
    meta = read_config(path)
    assert meta == {"arch": name, "config": model.config, "rfnet_version": rfnet.__version__}
    loaded = load(path)
    assert type(loaded) is type(model) and loaded.config == model.config
    x = torch.randn(2, model.in_chans, 80, 80)
    torch.testing.assert_close(loaded.eval()(x), model(x), rtol=0, atol=0)


def test_load_can_adapt_a_saved_rgb_model_to_one_channel(tmp_path):
    model = create_model("alexnet", num_classes=4, init="caffe").eval()
    grey = load(save(model, tmp_path / "m"), in_chans=1).eval()
    x = torch.randn(1, 1, 80, 80)
    torch.testing.assert_close(grey(x), model(x.expand(-1, 3, -1, -1)), rtol=1e-4, atol=1e-6)


def test_saving_over_a_model_replaces_it_and_a_failed_save_leaves_the_old_one(tmp_path, monkeypatch):
    first = create_model("alexnet_tv", num_classes=2)
    save(first, tmp_path / "m")
    second = create_model("alexnet_tv", num_classes=3)
    save(second, tmp_path / "m")
    assert read_config(tmp_path / "m")["config"]["num_classes"] == 3

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("rfnet.models.io.save_file", crash)
    with pytest.raises(OSError, match="disk full"):
        save(create_model("alexnet_tv", num_classes=5), tmp_path / "m")
    assert read_config(tmp_path / "m")["config"]["num_classes"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # no staging folders left behind


def test_loading_broken_model_folders_says_what_is_wrong(tmp_path):
    path = save(create_model("alexnet_tv", num_classes=2), tmp_path / "m")
    with pytest.raises(FileNotFoundError, match="no config.json"):
        load(tmp_path)
    weights = path / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])  # truncated
    with pytest.raises(ValueError, match="model.safetensors: unreadable safetensors file"):
        load(path)
    (path / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match="config.json: not valid JSON"):
        load(path)
    (path / "config.json").write_text(json.dumps({"arch": "alexnet_tv", "config": {"num_classes": 9}}))
    save_other = save(create_model("alexnet_tv", num_classes=2), tmp_path / "other")
    (save_other / "config.json").write_text(json.dumps({"arch": "alexnet_tv", "config": {"num_classes": 9}}))
    with pytest.raises(ValueError, match=r"classifier.6.weight: file \(2, 4096\) vs model \(9, 4096\)"):
        load(save_other)


def test_save_refuses_models_it_cannot_rebuild(tmp_path):
    with pytest.raises(TypeError, match="needs 'arch' and 'config'"):
        save(torch.nn.Linear(2, 2), tmp_path / "x")
    assert not (tmp_path / "x").exists()
    from rfnet.models import TwoTowerAlexNet, create_model

    split = TwoTowerAlexNet.from_single(create_model("alexnet", num_classes=3), devices=("cpu", "cpu"))
    with pytest.raises(TypeError, match=r"registered.*\.to_single\(\)"):
        save(split, tmp_path / "split")  # it has arch and config, but load could not rebuild it
    assert not (tmp_path / "split").exists()


def test_load_places_the_model_on_the_device(tmp_path):
    path = save(AlexNetTV(num_classes=2), tmp_path / "m")
    assert next(load(path, device="meta").parameters()).device.type == "meta"
