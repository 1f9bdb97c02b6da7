"""Screenshots of a running dashboard (e.g. `finsent demo`) for the READMEs.

    python scripts/screenshots.py                      # http://127.0.0.1:8050, 15m range
    python scripts/screenshots.py --url http://127.0.0.1:8050 --out docs/screenshots

Each page is opened in headless Chromium (the one the browser tests use), given time to
load its data, and saved as PNG. Run it a few minutes into a demo, after the burst.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from urllib.parse import quote_plus

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

# file name, path, an element that appears once the page has data, window height
PAGES = [
    ("overview.png", "/", "#kpi-articles .kpi-value", 1500),
    ("drilldown.png", "/ticker?symbol={ticker}", "#articles-table tbody tr", 1500),
    ("alerts.png", "/alerts", "#rules-table", 1400),
    ("search.png", "/search?q={query}", "#search-table tbody tr", 1000),
    ("stories.png", "/stories", "#stories > *", 1100),
    ("dead-letters.png", "/dead-letters", "#dl-table > *", 900),
    ("health.png", "/health", "#kpi-provider .kpi-value", 900),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default="http://127.0.0.1:8050")
    ap.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    ap.add_argument("--ticker", default="TSLA")
    ap.add_argument("--query", default="recall OR probe")
    ap.add_argument("--range", default="15m", help="the range preset of every page")
    ap.add_argument("--wait", type=float, default=20.0, help="seconds to wait for a page")
    a = ap.parse_args()
    options = Options()
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,1000"):  # fmt: skip
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options)
    a.out.mkdir(parents=True, exist_ok=True)
    try:
        for name, path, selector, height in PAGES:
            url = a.url + path.format(ticker=a.ticker, query=quote_plus(a.query))
            # the view (range) travels in the URL, as a shared link would carry it
            driver.get(url + ("&" if "?" in url else "?") + f"range={a.range}")
            try:
                WebDriverWait(driver, a.wait).until(
                    ready.presence_of_element_located((By.CSS_SELECTOR, selector))
                )
            except Exception:  # noqa: BLE001 - a page without data is still worth a look
                print(f"{name}: {selector} did not appear within {a.wait:.0f} s")
            driver.set_window_size(1280, height)
            time.sleep(2.0)  # plotly re-lays out to the new size
            driver.save_screenshot(str(a.out / name))
            print(f"{a.out / name}")
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
