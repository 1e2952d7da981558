"""The dashboard end to end in a real browser: ``rfnet dashboard`` (``streamlit run`` on the packaged app) on a
free local port, driven by Playwright with Debian's chromium (``apt-get install chromium``; no browser
download)."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from test_dashboard import CLASSES, save_sensitive_model

from playwright import sync_api as playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"]
START_TIMEOUT_S = 90
RENDER_TIMEOUT_MS = 60_000

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def _chromium():
    """The README's install step puts Debian's chromium here; without it this test fails, not skips."""
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: install Debian's chromium as the README's setup says"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_healthy(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited with {server.returncode}:\n{server.stdout.read()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"streamlit did not answer at {url} within {START_TIMEOUT_S} s")


@pytest.fixture()
def dashboard(tmp_path):
    """The URL of a dashboard started with a small model chosen; the server is stopped afterwards."""
    model = save_sensitive_model(tmp_path / "model")
    port = free_port()
    env = {**os.environ, "RFNET_MODEL": str(model)}
    server = subprocess.Popen(
        [sys.executable, "-m", "rfnet", "dashboard", "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_healthy(url, server)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def settled(page) -> None:
    """Wait until the app has finished its run (the 'Running…' widget is gone)."""
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=RENDER_TIMEOUT_MS)


def test_changing_the_modulation_changes_the_prediction(dashboard, tmp_path):
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(dashboard)
            metric = page.locator('[data-testid="stMetricValue"]')
            metric.wait_for(timeout=RENDER_TIMEOUT_MS)
            settled(page)
            before = metric.inner_text()
            modulation = page.get_by_role("combobox", name="Modulation")
            modulation.click()
            page.get_by_role("option", name="FM", exact=True).click()
            playwright.expect(metric).not_to_have_text(before, timeout=RENDER_TIMEOUT_MS)
            settled(page)
            after = metric.inner_text()
            assert modulation.input_value() == "FM"
            assert before.startswith(tuple(CLASSES)) and "%" in before
            assert after != before and after.endswith(("✓", "(sent FM)"))
            shot = tmp_path / "lab.png"
            page.screenshot(path=str(shot))
            assert shot.stat().st_size > 10_000
        finally:
            browser.close()
