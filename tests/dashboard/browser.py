"""What the dashboard's browser tests share: their marks, one timeout, the app served to
dash_duo, and the check that the page logged no error."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from sqlalchemy import Engine

from core.services.process import free_port

__all__ = ["BROWSER", "TIMEOUT", "assert_no_console_errors", "serve", "wait_for"]

BROWSER = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.slow,
    # selenium 4.2 (pinned by dash[testing]) calls urllib3 2.0's deprecated getheader()
    pytest.mark.filterwarnings("ignore:HTTPResponse.getheader:DeprecationWarning"),
]
TIMEOUT = 20


def serve(dash_duo: Any, engine: Engine, ready: str) -> Any:
    """The dashboard on ``engine`` in dash_duo's browser, once ``ready`` is on the page."""
    from dashboard.app import create_dash_app

    dash_duo.start_server(create_dash_app(engine), port=free_port("127.0.0.1"))
    dash_duo.wait_for_element(ready, timeout=TIMEOUT)
    return dash_duo


def assert_no_console_errors(dash_duo: Any) -> None:
    assert [e for e in dash_duo.get_logs() or [] if "favicon" not in e["message"]] == []


def wait_for(check: Callable[[], Any], what: str) -> Any:
    """``check()``'s first truthy value; a page redrawn mid-read is read again."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            value = check()
            if value:
                return value
        except StaleElementReferenceException:
            value = None
        assert time.monotonic() < deadline, f"{what}: {value!r}"
        time.sleep(0.2)
