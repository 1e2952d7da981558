"""The dashboard end to end in a real browser: ``rfnet dashboard`` (``streamlit run`` on the packaged app) on a
free local port, driven by Playwright with Debian's chromium (``apt-get install chromium``; no browser
download)."""

import pytest

from test_dashboard import CLASSES, save_sensitive_model

from rfnet.dashboard.server import CHROMIUM, CHROMIUM_ARGS, RENDER_TIMEOUT_MS, running_dashboard, settled

from playwright import sync_api as playwright

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def _chromium():
    """The README's install step puts Debian's chromium here; without it this test fails, not skips."""
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: install Debian's chromium as the README's setup says"


@pytest.fixture()
def dashboard(tmp_path):
    """The URL of a dashboard started with a small model chosen; the server is stopped afterwards."""
    model = save_sensitive_model(tmp_path / "model")
    with running_dashboard({"RFNET_MODEL": str(model)}, cwd=tmp_path) as url:
        yield url


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
