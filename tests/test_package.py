import importlib
import subprocess
import sys
import types

import pytest
import torch

import rfnet


def test_import_rfnet_gives_the_backbone_the_front_end_and_the_loaders():
    model = rfnet.create_model("alexnet_tv", num_classes=3).eval()
    frontend = rfnet.Spectrogram(rfnet.SpectrogramConfig.for_length(128, image_size=(63, 63)))
    iq = rfnet.dsp.modulate("BPSK", 2, 128, generator=torch.Generator().manual_seed(0))
    assert model(frontend(iq)).shape == (2, 3)
    assert rfnet.load_radioml is rfnet.data.load_radioml
    assert rfnet.SigMFWindows is rfnet.data.SigMFWindows


def test_from_rfnet_import_gives_the_public_names_and_rejects_others():
    from rfnet import Spectrogram, SpectrogramConfig, create_model, dsp, models

    assert Spectrogram is dsp.Spectrogram and SpectrogramConfig is dsp.SpectrogramConfig
    assert create_model is models.create_model
    assert set(rfnet.__all__) <= set(dir(rfnet))
    with pytest.raises(AttributeError, match="no_such_name"):
        rfnet.no_such_name  # noqa: B018


def test_import_rfnet_and_every_help_leave_torch_unloaded():
    """``import rfnet`` and ``rfnet [COMMAND] --help`` build no model: torch (and streamlit) stay unloaded."""
    code = """
import contextlib, io, sys
import rfnet
from rfnet.cli import COMMANDS, main
for command in ([], *([name.replace("_", "-")] for name in COMMANDS)):
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            main([*command, "--help"])
        except SystemExit as done:
            assert done.code == 0, (command, done.code)
print(",".join(sorted(name for name in ("torch", "streamlit", "matplotlib") if name in sys.modules)))
"""
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == ""


def test_rfnet_jobs_answers_its_functions_even_after_their_modules_are_imported():
    """``evaluate`` and ``finetune`` name both a job function and a module of ``rfnet.jobs``; importing the
    module binds it to the package's name, and the package must still answer the function."""
    importlib.import_module("rfnet.jobs.evaluate")
    importlib.import_module("rfnet.jobs.finetune")
    from rfnet.jobs import evaluate, finetune

    assert isinstance(evaluate, types.FunctionType) and isinstance(finetune, types.FunctionType)
