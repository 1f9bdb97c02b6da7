"""The dashboard server as `finsent dashboard` runs it (uvicorn on a real port, real
PostgreSQL): Host and Origin checks, security headers, login throttling, forged
callbacks and input the database cannot take, a stalled database."""

from __future__ import annotations

import base64
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
import uvicorn
from sqlalchemy import Engine, text

from core import migrate
from core.errors import ConfigError
from core.services import EmbeddedPostgres
from core.services.process import free_port
from dashboard.auth import AuthConfig, require_safe_binding
from dashboard.security import LoginThrottle
from dashboard.server import create_server, make_server_engine, secured
from tests.dashboard.seed import Seeded

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery"  # noqa: S105 - a test credential


class _Server:
    def __init__(self, app: Any) -> None:
        self.port = free_port("127.0.0.1")
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> _Server:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="module")
def db(seeded_db: tuple[Engine, Seeded]) -> Engine:
    return seeded_db[0]


@pytest.fixture(scope="module")
def server(db: Engine) -> Iterator[_Server]:
    app = secured(create_server(db), AuthConfig(), bind_host="127.0.0.1")
    with _Server(app) as running:
        yield running


def test_a_foreign_host_is_refused_and_loopback_names_served(server: _Server) -> None:
    # DNS rebinding: the attacker's name resolves to 127.0.0.1, the Host header stays theirs
    forged = httpx.get(f"{server.url}/api/v1/health", headers={"Host": "attacker.example"})
    assert forged.status_code == 400
    for host in ("127.0.0.1", f"127.0.0.1:{server.port}", f"localhost:{server.port}"):
        assert httpx.get(f"{server.url}/api/v1/health", headers={"Host": host}).status_code == 200


def _prop_id(component_id: dict[str, object]) -> str:
    """How Dash names a pattern-matching component's n_clicks in changedPropIds."""
    return json.dumps(component_id, sort_keys=True, separators=(",", ":")) + ".n_clicks"


def _callback_request(
    spec: dict[str, Any], inputs: list[Any], state: list[Any], changed: str
) -> dict[str, Any]:
    """The body of a POST to /_dash-update-component for the callback ``spec``."""
    return {
        "output": spec["output"],
        "outputs": [
            {"id": o.split(".")[0], "property": o.split(".")[1]}
            for o in spec["output"].strip(".").split("...")
        ],
        "inputs": inputs,
        "changedPropIds": [changed],
        "state": state,
    }


def _alerts_click(server: _Server, forged_id: dict[str, object]) -> dict[str, Any]:
    """The request Dash's renderer sends when a button of the alerts page's tables (a
    silence, acknowledge or rule-toggle button, by ``forged_id["type"]``) is clicked."""
    deps = httpx.get(f"{server.url}/_dash-dependencies").json()
    [spec] = [d for d in deps if "alerts-flash" in d["output"]]
    inputs: list[Any] = []
    for item in spec["inputs"]:
        if isinstance(item["id"], str) and item["id"].startswith("{"):
            kind = json.loads(item["id"])["type"]
            clicked = [{"id": forged_id, "property": "n_clicks", "value": 1}]
            inputs.append(clicked if kind == forged_id["type"] else [])
        else:
            inputs.append({"id": item["id"], "property": item["property"], "value": None})
    return _callback_request(spec, inputs, [], _prop_id(forged_id))


def _silence_callback(server: _Server, rule: object, key: object) -> dict[str, Any]:
    return _alerts_click(server, {"type": "silence", "rule": rule, "key": key})


@pytest.mark.parametrize(
    ("rule", "key"),
    [(2**40, "AAPL"), ("1; DROP", "AAPL"), (1, "K" * 5_000), (987_654, "AAPL")],
)
def test_forged_silence_callbacks_are_refused_not_500(
    server: _Server, db: Engine, rule: object, key: object
) -> None:
    before = _count(db, "SELECT count(*) FROM silences")
    body = _silence_callback(server, rule, key)
    response = httpx.post(f"{server.url}/_dash-update-component", json=body, timeout=30)
    assert response.status_code == 200, response.text[:500]
    assert "no longer exists" in response.text
    assert _count(db, "SELECT count(*) FROM silences") == before


@pytest.mark.parametrize(
    ("name", "enable"),
    [("R" * 5_000, False), ("ticker-negative-spike", "no"), ("no-such-rule", False), (7, True)],
)
def test_forged_rule_toggles_are_refused_not_500(
    server: _Server, db: Engine, name: object, enable: object
) -> None:
    rules = "SELECT string_agg(name || enabled::text, ',' ORDER BY name) FROM alert_rules"
    with db.connect() as conn:
        before = conn.execute(text(rules)).scalar_one()
    body = _alerts_click(server, {"type": "rule-toggle", "rule": name, "enable": enable})
    response = httpx.post(f"{server.url}/_dash-update-component", json=body, timeout=30)
    assert response.status_code == 200, response.text[:500]
    assert response.json()["response"]["alerts-flash"]["children"] == (
        "That rule no longer exists."
    )
    with db.connect() as conn:
        assert conn.execute(text(rules)).scalar_one() == before


def test_a_callback_from_another_origin_is_refused(server: _Server, db: Engine) -> None:
    before = _count(db, "SELECT count(*) FROM silences")
    rule = _count(db, "SELECT coalesce(min(id), 1) FROM alert_rules")
    response = httpx.post(
        f"{server.url}/_dash-update-component",
        json=_silence_callback(server, rule, "AAPL"),
        headers={"Origin": "http://attacker.example"},
    )
    assert response.status_code == 403
    assert _count(db, "SELECT count(*) FROM silences") == before


def _silences_callback(
    server: _Server,
    *,
    expire: object = None,
    form: dict[str, object] | None = None,
    auth: httpx.Auth | None = None,
) -> dict[str, Any]:
    """The request Dash's renderer sends when the silence form's button (``form``) or an
    Expire button (``expire``: the silence id it carries) is clicked."""
    deps = httpx.get(f"{server.url}/_dash-dependencies", auth=auth).json()
    [spec] = [d for d in deps if "silences-list" in d["output"]]
    forged_id = {"type": "expire-silence", "silence": expire}
    inputs: list[Any] = []
    for item in spec["inputs"]:
        if item["id"] == "silence-create":
            inputs.append({"id": item["id"], "property": "n_clicks", "value": 1 if form else None})
        elif item["id"].startswith("{"):
            clicked = [{"id": forged_id, "property": "n_clicks", "value": 1}]
            inputs.append(clicked if expire is not None else [])
        else:
            inputs.append({"id": item["id"], "property": item["property"], "value": None})
    state = [
        {"id": item["id"], "property": "value", "value": (form or {}).get(item["id"])}
        for item in spec["state"]
    ]
    changed = _prop_id(forged_id) if expire is not None else "silence-create.n_clicks"
    return _callback_request(spec, inputs, state, changed)


def _silences_error(response: httpx.Response) -> str:
    return str(response.json()["response"]["silences-error"]["children"])


SILENCES = "SELECT count(*) + coalesce(sum(extract(epoch FROM ends_at))::bigint, 0) FROM silences"
FORM = {
    "silence-matchers": "team=markets",
    "silence-duration": "2h",
    "silence-creator": "ann",
    "silence-comment": "earnings call",
}


@pytest.mark.parametrize("silence_id", [2**40, "1; DROP", True, [1], 987_654])
def test_forged_expire_callbacks_are_refused_not_500(
    server: _Server, db: Engine, silence_id: object
) -> None:
    before = _count(db, SILENCES)
    body = _silences_callback(server, expire=silence_id)
    response = httpx.post(f"{server.url}/_dash-update-component", json=body, timeout=30)
    assert response.status_code == 200, response.text[:500]
    assert _silences_error(response) in ("That silence no longer exists.", "no silence 987654")
    assert _count(db, SILENCES) == before


@pytest.mark.parametrize(
    "forged",
    [
        {"silence-matchers": ["team=markets"]},
        {"silence-matchers": "team=mar\x00kets"},
        {"silence-creator": "K" * 5_000},
        {"silence-comment": {"$ne": 1}},
        {"silence-rule": "R" * 5_000},
        {"silence-duration": "9" * 400},
        {"silence-duration": "9" * 40},
        {"silence-duration": "0h"},
        {"silence-matchers": "ticker=~(unclosed"},
    ],
)
def test_forged_silence_forms_are_refused_not_500(
    server: _Server, db: Engine, forged: dict[str, object]
) -> None:
    before = _count(db, SILENCES)
    body = _silences_callback(server, form={**FORM, **forged})
    response = httpx.post(f"{server.url}/_dash-update-component", json=body, timeout=30)
    assert response.status_code == 200, response.text[:500]
    assert _silences_error(response) != ""
    assert _count(db, SILENCES) == before


def test_silences_are_created_and_expired_only_with_the_login(db: Engine) -> None:
    auth = AuthConfig(username="analyst", password=PASSWORD)
    login = httpx.BasicAuth("analyst", PASSWORD)
    try:
        with _Server(secured(create_server(db, auth), auth, bind_host="127.0.0.1")) as server:
            url = f"{server.url}/_dash-update-component"
            create = _silences_callback(server, form=FORM, auth=login)
            before = _count(db, SILENCES)
            assert httpx.post(url, json=create, timeout=30).status_code == 401
            assert _count(db, SILENCES) == before
            assert httpx.post(url, json=create, auth=login, timeout=30).status_code == 200
            assert _count(db, SILENCES) != before
            made = _count(db, "SELECT max(id) FROM silences")

            expire = _silences_callback(server, expire=made, auth=login)
            created = _count(db, SILENCES)
            assert httpx.post(url, json=expire, timeout=30).status_code == 401
            assert _count(db, SILENCES) == created
            response = httpx.post(url, json=expire, auth=login, timeout=30)
            assert response.status_code == 200
            assert _silences_error(response) == ""
            over = "SELECT max(id) FROM silences WHERE ends_at <= now()"
            assert _count(db, over) == made
    finally:
        create_server(db)  # the Dash app is a per-process singleton: leave it open again


def _save_rules_callback(server: _Server, yaml_text: str, auth: httpx.Auth) -> dict[str, Any]:
    """The request Dash's renderer sends when the rules editor's Save button is clicked."""
    deps = httpx.get(f"{server.url}/_dash-dependencies", auth=auth).json()
    [spec] = [d for d in deps if "rules-flash" in d["output"]]
    inputs = [
        {"id": i["id"], "property": "n_clicks", "value": 1 if i["id"] == "rules-save" else None}
        for i in spec["inputs"]
    ]
    values = {"rules-yaml": yaml_text, "rules-saved": 0}
    state = [{"id": i["id"], "property": i["property"], "value": values[i["id"]]}
             for i in spec["state"]]  # fmt: skip
    return _callback_request(spec, inputs, state, "rules-save.n_clicks")


def test_rules_are_stored_from_the_ui_only_with_the_login(db: Engine) -> None:
    auth = AuthConfig(username="analyst", password=PASSWORD)
    login = httpx.BasicAuth("analyst", PASSWORD)
    pasted = (
        "- name: ui-rule\n  scope: {kind: market}\n  metric: negative_share\n"
        "  window: 15m\n  condition: {type: threshold, op: '>=', value: 0.7}\n"
    )
    stored = "SELECT source_file FROM alert_rules WHERE name = 'ui-rule'"
    try:
        with _Server(secured(create_server(db, auth), auth, bind_host="127.0.0.1")) as server:
            url = f"{server.url}/_dash-update-component"
            body = _save_rules_callback(server, pasted, login)
            assert httpx.post(url, json=body, timeout=30).status_code == 401
            with db.connect() as conn:
                assert conn.execute(text(stored)).scalar_one_or_none() is None
            response = httpx.post(url, json=body, auth=login, timeout=30)
            assert response.status_code == 200, response.text[:500]
            assert response.json()["response"]["rules-flash"]["children"] == "ui-rule: added"
            with db.connect() as conn:
                assert conn.execute(text(stored)).scalar_one() == "dashboard (analyst)"
    finally:
        create_server(db)  # the Dash app is a per-process singleton: leave it open again


def test_every_answer_carries_the_security_headers(server: _Server) -> None:
    for path in ("/", "/api/v1/health", "/api/v1/nope", "/_dash-layout"):
        headers = httpx.get(f"{server.url}{path}").headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        # a cursor that decodes to an id with NUL in it
        (
            "GET",
            "/api/v1/articles",
            {
                "params": {
                    "cursor": base64.urlsafe_b64encode(b"2026-01-01T00:00:00+00:00|a\x00").decode()
                }
            },
        ),
        ("GET", "/api/v1/series", {"params": {"start": "0001-01-01T00:00:00+01:00"}}),
        (
            "GET",
            "/api/v1/articles",
            {"params": {"start": "0001-01-01T00:00:00Z", "end": "0001-01-02T00:00:00Z"}},
        ),
        (
            "GET",
            "/api/v1/alerts",
            {"params": {"start": "0001-01-01T00:00:00Z", "end": "0001-01-02T00:00:00Z"}},
        ),
        (
            "POST",
            "/api/v1/articles/" + "a" * 64 + "/labels",
            {
                "content": b'{"by": "x\\ud800", "sentiment": "positive"}',
                "headers": {"Content-Type": "application/json"},
            },
        ),
    ],
)
def test_input_python_or_postgresql_cannot_take_is_a_4xx(
    server: _Server, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    response = httpx.request(method, f"{server.url}{path}", timeout=30, **kwargs)
    assert 200 <= response.status_code < 500, response.text[:300]


def test_docs_need_login_and_wrong_passwords_are_throttled(db: Engine) -> None:
    auth = AuthConfig(username="analyst", password=PASSWORD, api_token="t" * 32)
    app = secured(
        create_server(db, auth),
        auth,
        bind_host="127.0.0.1",
        throttle=LoginThrottle(free=5, base_wait_s=30),
    )
    try:
        with _Server(app) as server:
            for path in ("/api/v1/openapi.json", "/api/v1/docs"):
                assert httpx.get(f"{server.url}{path}").status_code == 401
                bearer = {"Authorization": f"Bearer {'t' * 32}"}
                assert httpx.get(f"{server.url}{path}", headers=bearer).status_code == 200
            wrong = httpx.BasicAuth("analyst", "wrong")
            statuses = [
                httpx.get(f"{server.url}/api/v1/health", auth=wrong).status_code for _ in range(20)
            ]
            assert statuses[:5] == [401] * 5
            assert set(statuses[5:]) == {429}
            # the right password is not even checked while the client waits
            right = httpx.get(
                f"{server.url}/api/v1/health", auth=httpx.BasicAuth("analyst", PASSWORD)
            )
            assert right.status_code == 429 and int(right.headers["retry-after"]) > 0
    finally:
        create_server(db)  # the Dash app is a per-process singleton: leave it open again


def test_short_credentials_are_refused_at_start() -> None:
    with pytest.raises(ConfigError, match="at least 12"):
        require_safe_binding("127.0.0.1", AuthConfig(username="a", password="x"))  # noqa: S106
    with pytest.raises(ConfigError, match="at least 16"):
        require_safe_binding("127.0.0.1", AuthConfig(api_token="short"))  # noqa: S106
    require_safe_binding("0.0.0.0", AuthConfig(username="a", password=PASSWORD))  # noqa: S104


def _count(engine: Engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar_one())


def _signal_all(pids: list[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass  # a short-lived backend that has ended


def test_a_stalled_database_answers_503_quickly(service_dir: Path) -> None:
    pg = EmbeddedPostgres(service_dir / "pg", service_dir / "logs")
    pg.start()
    migrate.upgrade(pg.url())
    engine = make_server_engine(pg.url())
    try:
        with _Server(secured(create_server(engine), AuthConfig(), bind_host="127.0.0.1")) as srv:
            assert httpx.get(f"{srv.url}/api/v1/health").status_code == 200

            def call() -> tuple[int, float]:
                t0 = time.monotonic()
                response = httpx.get(f"{srv.url}/api/v1/health", timeout=60)
                return response.status_code, time.monotonic() - t0

            assert pg.pid is not None
            processes = [pg.pid, *(c.pid for c in psutil.Process(pg.pid).children(recursive=True))]
            _signal_all(processes, signal.SIGSTOP)
            try:
                with ThreadPoolExecutor(40) as pool:
                    futures = [pool.submit(call) for _ in range(40)]
                    time.sleep(12)
                    _signal_all(processes, signal.SIGCONT)
                    results = [f.result() for f in futures]
            finally:
                _signal_all(processes, signal.SIGCONT)
    finally:
        engine.dispose()
        pg.stop()
    statuses = [s for s, _ in results]
    assert set(statuses) <= {200, 503}, statuses
    # those that could not get a connection heard so within seconds, not after 30 s
    assert statuses.count(503) >= 20
    assert max(t for s, t in results if s == 503) < 10
