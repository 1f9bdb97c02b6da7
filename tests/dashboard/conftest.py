"""Dashboard tests: seeded PostgreSQL, a Chromium set up for dash_duo."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from tests.dashboard.seed import Seeded, seed


def pytest_setup_options() -> Any:
    from selenium.webdriver.chrome.options import Options

    options = Options()
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
    ):
        options.add_argument(arg)
    return options


def pytest_configure(config: pytest.Config) -> None:
    # dash's own --headless flag also turns on headless downloads (CSV export test)
    if hasattr(config.option, "headless"):
        config.option.headless = True


@pytest.fixture
def seeded(db: Engine) -> Seeded:
    return seed(db)
