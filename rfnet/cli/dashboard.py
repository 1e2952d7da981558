"""``rfnet dashboard``: start the Streamlit dashboard that ships in :mod:`rfnet.dashboard`."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence


def add_parser(commands) -> None:
    dashboard = commands.add_parser(
        "dashboard",
        help="start the Streamlit dashboard: spectrogram lab, model comparison, robustness reports",
        usage="rfnet dashboard [-h] [STREAMLIT_OPTION ...]",
        description="Run `streamlit run` on the dashboard installed with rfnet (rfnet/dashboard/app.py). "
        "Every other option goes to streamlit unchanged, e.g. --server.headless true --server.port 8501 "
        "(see `streamlit run --help`). RFNET_MODEL, RFNET_RESULTS and RFNET_REPORTS preset the model, the "
        "results store and the robustness reports (see the README's \"The dashboard\").",
    )
    dashboard.set_defaults(run=run, passthrough=())


def streamlit_command(options: Sequence[str]) -> list[str]:
    """The command line that serves the packaged dashboard with this Python, ``options`` appended."""
    from rfnet.dashboard import APP

    return [sys.executable, "-m", "streamlit", "run", str(APP), *options]


def run(args: argparse.Namespace) -> int:
    command = streamlit_command(args.passthrough)
    os.execv(command[0], command)  # streamlit replaces this process: its exit status, its Ctrl-C
