"""Dashboard tests: seeded PostgreSQL, a Chromium set up for dash_duo."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text

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
    """Fresh seed data for a test that writes."""
    return seed(db)


@pytest.fixture(scope="module")
def seeded_db(engine: Engine) -> tuple[Engine, Seeded]:
    """Seed data shared by a module's read-only tests: seeding costs seconds on a busy box."""
    with engine.begin() as conn:
        tables = (
            conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )
            )
            .scalars()
            .all()
        )
        conn.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))
    return engine, seed(engine)


@pytest.fixture
def dash_duo(dash_duo: Any) -> Iterator[Any]:
    """dash[testing]'s dash_duo, whose server stops only once no callback is running: a
    request thread still at work when the server shuts down ends in SystemExit, which
    pytest reports as an error of whichever test was last."""
    yield dash_duo
    dash_duo.driver.get("about:blank")  # no live refresh starts another callback
    deadline = time.monotonic() + 30
    while any("process_request_thread" in t.name for t in threading.enumerate()):
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
