"""Save and load models as a folder: ``model.safetensors`` plus ``config.json`` that rebuilds the model.

A model is saveable when it has ``arch`` (its :func:`~rfnet.models.create_model` name) and ``config``
(the JSON-serialisable keyword arguments that rebuild it). A classifier's ``config.json`` also holds
``input``, its :class:`~rfnet.models.config.InputSpec` (input length, sample rate, image size, channel
mapping, the backbone's native and minimum sizes, classes), written for whoever reads the file; ``load``
rebuilds the model from ``config`` alone.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from rfnet.data.atomic import file_mode_under_umask, temporary_sibling_folder

from .config import json_form
from .registry import create_model, list_models
from .weights import load_checked_state_dict

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"


def save(model: nn.Module, directory: str | Path) -> Path:
    """Write ``model`` to ``directory`` (created or replaced whole; never left half-written). Returns the path.

    The folder and its files get the permissions new ones get under the umask.
    """
    from rfnet import __version__

    if not hasattr(model, "arch") or not hasattr(model, "config") or model.arch not in list_models():
        raise TypeError(
            f"{type(model).__name__} cannot be saved: it needs 'arch' and 'config' attributes, and an arch "
            "registered with rfnet.models.register_model so that load can rebuild it "
            "(a TwoTowerAlexNet saves through .to_single())"
        )
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    state = {key: value.detach().cpu().contiguous() for key, value in model.state_dict().items()}
    staging = temporary_sibling_folder(directory)
    try:
        save_file(state, staging / WEIGHTS_FILE, metadata={"arch": model.arch})
        os.chmod(staging / WEIGHTS_FILE, file_mode_under_umask(staging))  # safetensors writes 0600
        meta = {"arch": model.arch, "config": model.config, "rfnet_version": __version__}
        if hasattr(model, "input_spec"):  # what a classifier takes, for readers of the file; load ignores it
            meta["input"] = json_form(model.input_spec)
        (staging / CONFIG_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        if directory.exists():
            retired = temporary_sibling_folder(directory.with_name(f"{directory.name}.old"))
            os.replace(directory, retired / directory.name)
            os.replace(staging, directory)
            shutil.rmtree(retired)
        else:
            os.replace(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return directory


def read_config(directory: str | Path) -> dict:
    """The ``{"arch", "config", "rfnet_version"}`` record of a saved model folder."""
    path = Path(directory) / CONFIG_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{directory}: not a saved rfnet model (no {CONFIG_FILE})")
    try:
        meta = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("arch"), str) or not isinstance(meta.get("config"), dict):
        raise ValueError(f"{path}: expected an object with 'arch' (string) and 'config' (object)")
    return meta


def load(directory: str | Path, device: str | torch.device = "cpu", **overrides) -> nn.Module:
    """Rebuild and load the model saved in ``directory``.

    ``overrides`` replace entries of the saved config; ``in_chans=1`` or ``2`` turns a saved RGB model's
    conv1 into one for that many channels.
    """
    meta = read_config(directory)
    try:
        model = create_model(meta["arch"], **{**meta["config"], **overrides})
    except (TypeError, ValueError) as err:  # a setting the model does not take, or a value it refuses
        raise ValueError(f"{Path(directory) / CONFIG_FILE}: cannot rebuild the saved model ({err})") from None
    weights = Path(directory) / WEIGHTS_FILE
    if not weights.is_file():
        raise FileNotFoundError(f"{directory}: no {WEIGHTS_FILE}")
    try:
        state = load_file(weights)
    except (SafetensorError, OSError, ValueError) as err:
        raise ValueError(f"{weights}: unreadable safetensors file ({err})") from None
    load_checked_state_dict(model, state, str(weights), input_conv_key=getattr(model, "input_conv_key", None))
    return model.to(device)
