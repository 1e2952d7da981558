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


@pytest.mark.parametrize("umask, folder_mode, file_mode", [(0o022, 0o755, 0o644), (0o077, 0o700, 0o600)])
def test_a_saved_model_follows_the_umask(tmp_path, umask, folder_mode, file_mode):
    """Issue 14: best/ was written 0700 and model.safetensors 0600 whatever the umask."""
    import os
    import stat

    previous = os.umask(umask)
    try:
        saved = save(create_model("vtcnn2", classes=["a", "b"], num_samples=128), tmp_path / "best")
        save(create_model("vtcnn2", classes=["a", "b"], num_samples=128), saved)  # replacing one too
    finally:
        os.umask(previous)
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in (saved, *saved.iterdir())}
    assert modes == {"best": folder_mode, "model.safetensors": file_mode, "config.json": file_mode}
    assert [path.name for path in tmp_path.iterdir()] == ["best"]


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


NON_DEFAULT_SETTINGS = {
    "alexnet": {"num_classes": 7, "in_chans": 2, "drop_rate": 0.25, "init": "caffe", "alpha_over_n": False,
                "conv1_padding": 2},
    "alexnet_tv": {"num_classes": 3, "in_chans": 1, "drop_rate": 0.125, "init": "he"},
    "vtcnn2": {"classes": ["a", "b"], "num_samples": 64, "drop_rate": 0.25, "unit_power": False,
               "sample_rate_hz": 1e6},
    "radioml_resnet": {"classes": ["a", "b", "c"], "num_samples": 128, "drop_rate": 0.125, "unit_power": False,
                       "sample_rate_hz": 2e6},
    "spectrogram_classifier": {
        "classes": ["a", "b"], "frontend": {"n_fft": 32, "image_size": [70, 64], "channels": 2},
        "backbone": "alexnet_tv", "backbone_config": {"num_classes": 2, "in_chans": 2, "drop_rate": 0.0},
        "num_samples": 256, "sample_rate_hz": 5e5},
}
"""Each registered model with every constructor keyword set away from its default."""


def constructor_keywords(cls) -> dict:
    """Keyword → default (``inspect.Parameter.empty`` where there is none) of ``cls``'s constructor, its
    ``**settings`` spelled out as the fields of its settings dataclass."""
    import dataclasses
    import inspect

    keywords = {}
    for param in list(inspect.signature(cls.__init__).parameters.values())[1:]:
        if param.kind is param.VAR_KEYWORD:
            settings_type = {"vtcnn2": "VTCNN2Config", "radioml_resnet": "RadioMLResNetConfig",
                             "alexnet": "AlexNetConfig", "alexnet_tv": "AlexNetTVConfig"}[cls.arch]
            module = inspect.getmodule(cls)
            for field in dataclasses.fields(getattr(module, settings_type)):
                keywords[field.name] = inspect.Parameter.empty if field.default is dataclasses.MISSING \
                    else field.default
        else:
            keywords[param.name] = param.default
    return keywords


@pytest.mark.parametrize("name", sorted(NON_DEFAULT_SETTINGS))
def test_every_constructor_keyword_reaches_config_json_and_comes_back(tmp_path, name, shipped_models):
    from rfnet.models.registry import _MODELS

    assert sorted(NON_DEFAULT_SETTINGS) == shipped_models  # a new model needs its row here
    given = NON_DEFAULT_SETTINGS[name]
    keywords = constructor_keywords(_MODELS[name])
    assert set(given) == set(keywords), "every keyword set in the table above"
    assert all(given[key] != default for key, default in keywords.items())
    model = create_model(name, **given)
    saved = read_config(save(model, tmp_path / "m"))["config"]
    assert set(saved) == set(keywords)  # nothing taken and then left out of config.json
    for key, value in given.items():
        if isinstance(value, dict):  # frontend / backbone_config: the given fields among the resolved ones
            assert {k: saved[key][k] for k in value} == value
        else:
            assert saved[key] == value
    again = load(tmp_path / "m")
    assert again.settings == model.settings and again.config == saved


def test_a_classifier_saved_before_it_recorded_its_input_loads_by_the_stated_rule(tmp_path):
    from rfnet.models import SpectrogramClassifier

    model = SpectrogramClassifier(["a", "b"], {"image_size": [63, 63]}, backbone="alexnet_tv", num_samples=1024)
    path = save(model, tmp_path / "m") / "config.json"
    meta = json.loads(path.read_text())
    for key in ("num_samples", "sample_rate_hz"):
        del meta["config"][key]
    path.write_text(json.dumps(meta))
    old = load(tmp_path / "m")  # n_fft 16 is the 128-sample default front end's: 128
    assert old.input_spec.num_samples == 128 and old.input_spec.sample_rate_hz is None
    assert old.input_spec.min_image_size == 63 and old.input_spec.image_size == (63, 63)
    meta["config"]["frontend"]["n_fft"] = 24
    path.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match=r"config.json: cannot rebuild.*give num_samples.*n_fft=24"):
        load(tmp_path / "m")


@pytest.mark.parametrize("change, message", [
    ({"num_samples": 10_000_000}, r"num_samples=10000000 is more than the 16384 samples"),
    ({"colour": "red"}, r"unknown setting\(s\) \['colour'\]"),
])
def test_a_config_json_asking_for_too_much_or_unknown_keywords_is_one_sentence(tmp_path, change, message):
    import time

    path = save(create_model("vtcnn2", classes=["a", "b"]), tmp_path / "m") / "config.json"
    meta = json.loads(path.read_text())
    meta["config"].update(change)
    path.write_text(json.dumps(meta))
    started = time.perf_counter()
    with pytest.raises(ValueError, match=f"{tmp_path / 'm' / 'config.json'}: cannot rebuild the saved model.*{message}"):
        load(tmp_path / "m")
    assert time.perf_counter() - started < 1.0  # refused before building 80 x 10^7 x 256 weights


def test_a_saved_classifier_states_what_it_takes_beside_its_config(tmp_path):
    from rfnet.models import SpectrogramClassifier

    model = SpectrogramClassifier(["a", "b"], {"image_size": [70, 70]}, backbone="alexnet", num_samples=256,
                                  sample_rate_hz=1e6)
    meta = read_config(save(model, tmp_path / "m"))
    assert meta["input"] == {"classes": ["a", "b"], "num_samples": 256, "fixed_length": False, "min_samples": 16,
                             "sample_rate_hz": 1e6, "image_size": [70, 70], "channel_mapping": "repeat",
                             "native_image_size": 227, "min_image_size": 67}
    assert load(tmp_path / "m").input_spec == model.input_spec
    baseline = read_config(save(create_model("vtcnn2", classes=["a", "b"]), tmp_path / "v"))["input"]
    assert (baseline["num_samples"], baseline["fixed_length"], baseline["image_size"]) == (128, True, None)
