"""Start the dashboard in a child process on a free local port and drive it with a headless browser, for
the browser test and the README's screenshots (``docs/take_screenshots.py``).

    with running_dashboard({"RFNET_MODEL": "runs/rml16"}, cwd="runs") as url:
        ...   # drive http://127.0.0.1:PORT with a browser; the server stops when the block ends
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

START_TIMEOUT_S = 90
STOP_TIMEOUT_S = 10
RENDER_TIMEOUT_MS = 60_000
CHROMIUM = Path("/usr/bin/chromium")
"""Debian's chromium, which Playwright drives (``executable_path``); no browser is downloaded."""
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_healthy(url: str, server: subprocess.Popen, timeout_s: float = START_TIMEOUT_S) -> None:
    """Return once Streamlit's health endpoint at ``url`` answers "ok"; raise if ``server`` exits first
    (with its output) or ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited with {server.returncode}:\n{server.stdout.read()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"streamlit did not answer at {url} within {timeout_s} s")


@contextmanager
def running_dashboard(env: dict[str, str], cwd: str | os.PathLike) -> Iterator[str]:
    """``rfnet dashboard`` (headless, no usage statistics, no file watcher) with ``env`` added to this
    process's environment, in folder ``cwd``; yields its URL and stops it when the block ends."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "rfnet", "dashboard", "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=Path(cwd), env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_healthy(url, server)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def settled(page, timeout_ms: int = RENDER_TIMEOUT_MS) -> None:
    """Wait until the Playwright ``page``'s app has finished its run (the "Running…" widget is gone)."""
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=timeout_ms)
