"""Rules on the alerts page in a real headless Chromium (dash_duo): enable / disable, and
rules pasted as YAML, checked and stored as `finsent alerts add` stores a file."""

from __future__ import annotations

import time

import pytest
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from sqlalchemy import Engine, text

from tests.dashboard.browser import BROWSER, TIMEOUT, assert_no_console_errors, serve
from tests.dashboard.seed import Seeded

pytestmark = BROWSER

SEEDED_RULE = "ticker-negative-spike"
PASTED = """rules:
  - name: oil-negative-share
    scope: {kind: topic, key: "Energy | Oil"}
    metric: negative_share
    window: 30m
    condition: {type: threshold, op: ">=", value: 0.6}
    min_volume: 10
    severity: warning
    channels: [email]
"""


@pytest.fixture
def duo(dash_duo, seeded_db: tuple[Engine, Seeded]):
    serve(dash_duo, seeded_db[0], "a.nav-link[href='/alerts']")
    dash_duo.find_element("a.nav-link[href='/alerts']").click()
    dash_duo.wait_for_element("#rules-table", timeout=TIMEOUT)
    yield dash_duo
    assert_no_console_errors(dash_duo)


def _enabled(db: Engine, name: str) -> bool | None:
    with db.connect() as conn:
        return conn.execute(
            text("SELECT enabled FROM alert_rules WHERE name = :n"), {"n": name}
        ).scalar_one_or_none()


def _click_rule_button(duo, name: str, label: str) -> None:
    # the live refresh may redraw the table between finding the button and clicking it
    deadline = time.monotonic() + TIMEOUT
    xpath = f"//*[@id='rules-table']//tr[td[1][text()='{name}']]//button"
    while True:
        assert time.monotonic() < deadline, f"no {label!r} button for {name}"
        try:
            button = duo.driver.find_element(By.XPATH, xpath)
            if button.text == label:
                button.click()
                return
        except (StaleElementReferenceException, NoSuchElementException):
            pass
        time.sleep(0.3)


def test_a_rule_is_disabled_and_enabled_from_its_button(
    duo, seeded_db: tuple[Engine, Seeded]
) -> None:
    db = seeded_db[0]
    assert _enabled(db, SEEDED_RULE) is True
    duo.wait_for_element("#alerts-active .state-firing", timeout=TIMEOUT)

    _click_rule_button(duo, SEEDED_RULE, "Disable")
    duo.wait_for_contains_text("#alerts-flash", f"{SEEDED_RULE} disabled", timeout=TIMEOUT)
    assert _enabled(db, SEEDED_RULE) is False
    # disabling closes the rule's open alerts, so nothing shows as firing any more
    duo.wait_for_contains_text("#rules-table", "off: by the operator", timeout=TIMEOUT)
    with db.connect() as conn:
        states = conn.execute(text("SELECT state FROM alert_state")).scalars().all()
    assert states and set(states) == {"inactive"}
    assert duo.find_elements("#alerts-active .state-firing") == []

    _click_rule_button(duo, SEEDED_RULE, "Enable")
    duo.wait_for_contains_text("#alerts-flash", f"{SEEDED_RULE} enabled", timeout=TIMEOUT)
    assert _enabled(db, SEEDED_RULE) is True


def _paste(duo, yaml_text: str) -> None:
    box = duo.find_element("#rules-yaml")
    if not box.is_displayed():
        duo.find_element(".rules-editor summary").click()
    duo.clear_input(box)
    box.send_keys(yaml_text)


def test_pasted_rules_are_checked_then_stored(duo, seeded_db: tuple[Engine, Seeded]) -> None:
    db = seeded_db[0]
    _paste(duo, PASTED.replace("kind: topic", "kind: sector"))
    duo.find_element("#rules-save").click()
    duo.wait_for_contains_text("#rules-error", "pasted rules:3: rules[0].scope.kind", TIMEOUT)
    assert duo.find_element("#rules-flash").text == ""
    assert _enabled(db, "oil-negative-share") is None  # nothing stored

    _paste(duo, PASTED)
    duo.find_element("#rules-check").click()
    duo.wait_for_text_to_equal("#rules-flash", "1 valid rule(s): oil-negative-share", TIMEOUT)
    assert duo.find_element("#rules-error").text == ""
    assert _enabled(db, "oil-negative-share") is None  # checking stores nothing

    duo.find_element("#rules-save").click()
    duo.wait_for_text_to_equal("#rules-flash", "oil-negative-share: added", TIMEOUT)
    duo.wait_for_contains_text("#rules-table", "oil-negative-share", TIMEOUT)
    with db.connect() as conn:
        row = conn.execute(
            text(
                "SELECT enabled, severity, scope_kind, scope_key, source_file FROM alert_rules "
                "WHERE name = 'oil-negative-share'"
            )  # fmt: skip
        ).one()
    assert tuple(row) == (True, "warning", "topic", "Energy | Oil", "dashboard (local)")

    duo.find_element("#rules-save").click()
    duo.wait_for_text_to_equal("#rules-flash", "oil-negative-share: unchanged", TIMEOUT)
