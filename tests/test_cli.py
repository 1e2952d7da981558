import os
import subprocess
import sys
from pathlib import Path

import pytest

import rfnet
from rfnet.cli import COMMANDS, main


def test_version_and_help_from_the_installed_command():
    command = Path(sys.executable).with_name("rfnet")  # the console script pip installed
    version = subprocess.run([command, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == f"rfnet {rfnet.__version__}"
    helptext = subprocess.run([sys.executable, "-m", "rfnet.cli", "--help"], capture_output=True, text=True, check=True)
    assert "summary" in helptext.stdout and "usage: rfnet" in helptext.stdout


def test_summary_totals_are_the_papers_layer_table(capsys):
    assert main(["summary", "alexnet"]) == 0
    out = capsys.readouterr().out
    total = out.strip().splitlines()[-1].split()
    assert total == ["total", "60,965,224", "724,406,816"]
    assert "96x55x55" in out and "256x13x13" in out


def test_summary_takes_each_models_native_size_by_default(capsys):
    assert main(["summary", "alexnet_tv"]) == 0  # torchvision's pads conv1: 224 gives the 55x55 maps
    assert "64x55x55" in capsys.readouterr().out
    assert main(["summary", "alexnet_tv", "--size", "227"]) == 0
    assert "64x56x56" in capsys.readouterr().out


def test_summary_reports_bad_arguments_as_one_line(capsys):
    assert main(["summary", "alexnet", "--size", "40"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rfnet summary: error:") and "H, W >= 67" in err


def test_python_dash_m_rfnet_runs_the_command():
    helptext = subprocess.run([sys.executable, "-m", "rfnet", "dashboard", "--help"],
                              capture_output=True, text=True, check=True)
    assert helptext.stdout.startswith("usage: rfnet dashboard")
    assert subprocess.run([sys.executable, "-m", "rfnet", "--bogus"], capture_output=True).returncode == 2


@pytest.mark.parametrize("command", [name.replace("_", "-") for name in COMMANDS])
def test_help_prints_percent_signs_as_written(command, capsys):
    with pytest.raises(SystemExit, match="0"):
        main([command, "--help"])
    assert "%%" not in capsys.readouterr().out


def test_dashboard_hands_other_options_to_streamlit_run_on_the_packaged_app(monkeypatch):
    started = []
    monkeypatch.setattr(os, "execv", lambda path, command: started.append((path, command)))
    main(["dashboard", "--server.port", "8501", "--server.headless=true"])
    app = Path(rfnet.__file__).parent / "dashboard" / "app.py"
    assert app.is_file()
    assert started == [(sys.executable, [sys.executable, "-m", "streamlit", "run", str(app),
                                         "--server.port", "8501", "--server.headless=true"])]


def test_other_commands_still_reject_unknown_options(capsys):
    with pytest.raises(SystemExit, match="2"):
        main(["summary", "alexnet", "--server.port", "8501"])
    assert "unrecognized arguments: --server.port 8501" in capsys.readouterr().err
