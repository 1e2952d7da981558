import subprocess
import sys
from pathlib import Path

import rfnet
from rfnet.cli import main


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


def test_summary_reports_bad_arguments_as_one_line(capsys):
    assert main(["summary", "alexnet", "--size", "40"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rfnet summary: error:") and "H, W >= 67" in err
