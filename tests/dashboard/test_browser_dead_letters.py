"""The dead-letters page in a real headless Chromium (dash_duo): the list, the CSV
download, a replay through the real broker; and the page behind the login."""

from __future__ import annotations

import csv
import time
import warnings
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from core.config import get_settings
from core.services.process import free_port
from dashboard.auth import AuthConfig
from dashboard.server import create_server, secured
from tests.dashboard.seed import Seeded
from tests.factories import count, read_topic
from tests.stream.deadletter_helpers import REPLAYABLE, REPLAYABLE_KEY, store_dead_letters

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's TestClient asks for the httpx2 fork
    from fastapi.testclient import TestClient

pytestmark = [pytest.mark.integration]

TIMEOUT = 20
PASSWORD = "correct horse battery"  # noqa: S105 - a test credential


@pytest.fixture
def letters(seeded_db: tuple[Engine, Seeded]) -> dict[str, int]:
    db = seeded_db[0]
    with db.begin() as conn:
        conn.exec_driver_sql("TRUNCATE dead_letters")
    return store_dead_letters(db)


@pytest.fixture
def raw_topic(kafka_bootstrap: str, topic_prefix: str, monkeypatch: pytest.MonkeyPatch) -> str:
    # the dashboard replays with the settings of its process, as `finsent dashboard` does
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    monkeypatch.setenv("FINSENT_EMBEDDED_BROKER", "true")
    monkeypatch.setenv("FINSENT_KAFKA__RAW_TOPIC", f"{topic_prefix}.raw")
    get_settings.cache_clear()
    return f"{topic_prefix}.raw"


def _wait(what: str, condition) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.2)


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:HTTPResponse.getheader:DeprecationWarning")
def test_list_download_and_replay(
    dash_duo, seeded_db, letters: dict[str, int], raw_topic: str, kafka_bootstrap: str
) -> None:
    from dashboard.app import create_dash_app

    db = seeded_db[0]
    dash_duo.start_server(create_dash_app(db), port=free_port("127.0.0.1"))
    # through the navigation, as a user finds it
    link = next(e for e in dash_duo.find_elements(".nav-link") if e.text == "Dead letters")
    link.click()
    row = f"#dl-row-{letters['replayable']}"
    dash_duo.wait_for_element(row, timeout=TIMEOUT)
    text = dash_duo.find_element(row).text
    assert "the model fell over" in text and "Reuters" in text and "story 4242" in text
    assert len(dash_duo.find_elements(".dl-row")) == 3

    dash_duo.find_element("#dl-download").click()
    target = Path(dash_duo.download_path) / "dead-letters.csv"
    _wait("a CSV downloaded", target.exists)
    rows = {int(r["id"]): r for r in csv.DictReader(target.read_text().splitlines())}
    assert set(rows) == set(letters.values())
    assert rows[letters["replayable"]]["raw"] == REPLAYABLE.decode()

    # the cut message cannot be picked; the replayable one is, and is replayed
    cut = dash_duo.find_element(f"#dl-row-{letters['cut']} input[type=checkbox]")
    assert not cut.is_enabled()
    dash_duo.find_element(f"{row} input[type=checkbox]").click()
    dash_duo.find_element("#dl-replay").click()
    dash_duo.wait_for_contains_text("#dl-flash", f"Replayed #{letters['replayable']}", TIMEOUT)
    dash_duo.wait_for_contains_text(row, "replayed", TIMEOUT)
    [record] = read_topic(kafka_bootstrap, raw_topic, expected=1)
    assert (record.key, record.value) == (REPLAYABLE_KEY.encode(), REPLAYABLE)
    marked = "SELECT count(*) FROM dead_letters WHERE replayed_at IS NOT NULL"
    assert count(db, marked) == 1
    assert [e for e in dash_duo.get_logs() or [] if "favicon" not in e["message"]] == []


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:HTTPResponse.getheader:DeprecationWarning")
def test_times_follow_the_chosen_time_zone(dash_duo, seeded_db, letters: dict[str, int]) -> None:
    from dashboard.app import create_dash_app

    dash_duo.start_server(create_dash_app(seeded_db[0]), port=free_port("127.0.0.1"))
    dash_duo.driver.get(f"{dash_duo.server_url}/dead-letters")
    row = f"#dl-row-{letters['replayable']}"
    dash_duo.wait_for_element(row, timeout=TIMEOUT)
    assert " UTC" in dash_duo.find_element(f"{row} td:nth-child(2)").text
    dash_duo.driver.get(f"{dash_duo.server_url}/dead-letters?tz=Asia/Tokyo")
    dash_duo.wait_for_contains_text(f"{row} td:nth-child(2)", " JST", TIMEOUT)


def test_the_page_and_its_replay_need_the_login(
    seeded_db, letters: dict[str, int], raw_topic: str
) -> None:
    db = seeded_db[0]
    auth = AuthConfig(username="analyst", password=PASSWORD)
    login = httpx.BasicAuth("analyst", PASSWORD)
    try:
        app = secured(create_server(db, auth), auth, bind_host="127.0.0.1")
        client = TestClient(app, base_url="http://127.0.0.1")
        assert client.get("/dead-letters").status_code == 401
        assert client.get("/dead-letters", auth=login).status_code == 200
        replay = {
            "output": "..dl-table.children...dl-flash.children..",
            "outputs": [
                {"id": "dl-table", "property": "children"},
                {"id": "dl-flash", "property": "children"},
            ],
            "inputs": [
                {"id": "dl-replay", "property": "n_clicks", "value": 1},
                {"id": "dl-pending", "property": "value", "value": []},
                {"id": "tz", "property": "value", "value": None},
            ],
            "state": [
                [
                    {
                        "id": {"type": "dl-pick", "id": letters["replayable"]},
                        "property": "value",
                        "value": [letters["replayable"]],
                    }
                ]
            ],
            "changedPropIds": ["dl-replay.n_clicks"],
        }
        url = "/_dash-update-component"
        assert client.post(url, json=replay).status_code == 401
        assert count(db, "SELECT count(*) FROM dead_letters WHERE replayed_at IS NOT NULL") == 0
        assert client.post(url, json=replay, auth=login).status_code == 200
        assert count(db, "SELECT count(*) FROM dead_letters WHERE replayed_at IS NOT NULL") == 1
    finally:
        create_server(db)  # the Dash app is a per-process singleton: leave it open again
