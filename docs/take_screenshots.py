"""Take the README's dashboard screenshots (``docs/screenshots/{lab,comparison,robustness}.png``).

Starts ``rfnet dashboard`` with the given model, results store and robustness reports, opens each page in
Debian's chromium through Playwright, waits until it has rendered and saves a full-page PNG.

    python docs/take_screenshots.py --model /tmp/acc/alexnet --results /tmp/acc/results.sqlite \
        --reports /tmp/rc/report --out docs/screenshots
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from playwright import sync_api as playwright

from rfnet.dashboard.server import CHROMIUM, CHROMIUM_ARGS, RENDER_TIMEOUT_MS, running_dashboard, settled

PAGES = {"lab": ("", '[data-testid="stMetricValue"]'),
         "comparison": ("comparison", '[data-testid="stDataFrame"]'),
         "robustness": ("robustness", '[data-testid="stDataFrame"]')}
"""Screenshot name -> the page's URL path (Streamlit names a page after its file) and an element that
exists only once the page has drawn its content."""
VIEWPORT = {"width": 1400, "height": 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="saved model or finetune run folder the pages start on")
    parser.add_argument("--results", required=True, help="rfnet bench results store (sqlite)")
    parser.add_argument("--reports", required=True, help="rfnet robustness report folder(s), ':'-separated")
    parser.add_argument("--out", default=str(Path(__file__).parent / "screenshots"))
    args = parser.parse_args()
    out = Path(args.out)
    env = {"RFNET_MODEL": str(Path(args.model).resolve()), "RFNET_RESULTS": str(Path(args.results).resolve()),
           "RFNET_REPORTS": os.pathsep.join(str(Path(p).resolve()) for p in args.reports.split(os.pathsep))}
    with running_dashboard(env, cwd=out) as url, playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            for name, (path, drawn) in PAGES.items():
                page.goto(f"{url}/{path}")
                page.locator(drawn).first.wait_for(timeout=RENDER_TIMEOUT_MS)
                settled(page)
                page.wait_for_timeout(2000)   # charts draw after the run ends
                page.screenshot(path=str(out / f"{name}.png"), full_page=True)
                print(f"saved {out / f'{name}.png'}")
        finally:
            browser.close()


if __name__ == "__main__":
    main()
