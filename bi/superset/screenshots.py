"""Opens each dashboard in Chromium, waits until every chart has drawn, and saves a screenshot:
the pictures in docs/images/ (over the demo company) and the browser test's check
(tests/test_superset.py). Run with the pipeline's Python, which has Playwright:

    .venv/bin/python bi/superset/screenshots.py --password "$(cat data/superset/admin_password)"
"""

from __future__ import annotations

import argparse
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

DASHBOARDS = {  # slug: charts on it
    "manager-alerts": 2,
    "engagement-trends": 3,
    "retention": 5,
    "data-quality": 2,
}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-dev-shm-usage"]
# What a drawn chart holds: a canvas (ECharts), a table, or a big number's line.
DRAWN = "canvas, table, .header-line"


@dataclass
class Rendered:
    slug: str
    charts: int
    drawn: int
    errors: list[str]
    screenshot: Path


def render_dashboards(
    base: str, username: str, password: str, out_dir: Path, timeout_s: float = 120
) -> list[Rendered]:
    from playwright.sync_api import sync_playwright

    out_dir.mkdir(parents=True, exist_ok=True)
    found = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1600, "height": 1100})
        page.goto(f"{base}/login/")
        page.fill("#username", username)
        page.fill("#password", password)
        page.keyboard.press("Enter")
        page.wait_for_url(lambda url: "/login" not in url, timeout=60000)
        for slug in DASHBOARDS:
            page.goto(f"{base}/superset/dashboard/{slug}/")
            holders = page.locator("[data-test='chart-grid-component']")
            deadline = time.monotonic() + timeout_s
            # Done when every chart has drawn and nothing loads, twice a second apart: a busy
            # machine can lay a dashboard out again after its first charts drew.
            done_before = False
            while True:
                charts = holders.count()
                drawn = sum(h.locator(DRAWN).count() > 0 for h in holders.all())
                loading = page.locator("img[alt='Loading...']").count()
                done = bool(charts) and drawn == charts and not loading
                if (done and done_before) or time.monotonic() > deadline:
                    break
                done_before = done
                page.wait_for_timeout(1000)
            path = out_dir / f"superset-{slug}.png"
            page.screenshot(path=path, full_page=True)
            errors = page.locator("[data-test='chart-grid-component'] [role='alert']")
            found.append(Rendered(slug, charts, drawn, errors.all_inner_texts(), path))
        browser.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8088")
    parser.add_argument("--username", default="admin")
    parser.add_argument("--password", required=True)
    parser.add_argument("--out", type=Path, default=Path("docs/images"))
    args = parser.parse_args()
    for result in render_dashboards(args.url, args.username, args.password, args.out):
        print(f"{result.slug}: {result.drawn}/{result.charts} charts, {result.screenshot}")


if __name__ == "__main__":
    main()
