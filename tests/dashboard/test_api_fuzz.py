"""The history API fuzzed from its own OpenAPI description (schemathesis).

Every operation the app describes at ``/api/v1/openapi.json`` gets generated requests,
valid and invalid, against the real app over the seeded embedded PostgreSQL: no answer may
be a server error, and every answer must be one the description declares (status code,
content type, body schema). With auth on, no operation answers an anonymous caller with
anything but 401/403.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine, text

from core.config import Settings
from dashboard.auth import AuthConfig
from dashboard.server import create_server
from tests.dashboard.seed import Seeded

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Bounded and reproducible: the same cases every run, a few minutes at most on 2 busy cores.
# API_FUZZ_EXAMPLES=500 for a deeper run by hand.
EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "100"))
AUTH_EXAMPLES = 8
STORED_EXAMPLES = 15
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _server(engine: Engine, data_dir: Path, auth: AuthConfig | None = None) -> FastAPI:
    app = create_server(engine, auth)
    # insight routes read settings: a private registry, the model-free classifier
    app.state.settings = Settings(data_dir=data_dir, model={"classifier": "lexicon"})
    return app


@pytest.fixture(scope="module")
def api_schema(
    seeded_db: tuple[Engine, Seeded], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[schemathesis.BaseSchema]:
    engine, _ = seeded_db
    app = _server(engine, tmp_path_factory.mktemp("fuzz"))
    yield schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)


@pytest.fixture(scope="module")
def auth_schema(
    seeded_db: tuple[Engine, Seeded], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[schemathesis.BaseSchema]:
    engine, _ = seeded_db
    auth = AuthConfig(username="analyst", password="fuzz-pass", api_token="fuzz-token")  # noqa: S106
    try:
        yield schemathesis.openapi.from_asgi(
            "/api/v1/openapi.json", _server(engine, tmp_path_factory.mktemp("auth"), auth)
        )
    finally:
        create_server(engine)  # the Dash app is a per-process singleton: leave it open again


# schemathesis' own pytest loader (from_fixture) breaks on pytest 9 (it rewrites a node's
# private _nodeid); its strategies under plain hypothesis do the same work.
OPERATIONS = [
    ("GET", "/api/v1/series"),
    ("GET", "/api/v1/articles"),
    ("GET", "/api/v1/articles/{article_id}"),
    ("GET", "/api/v1/alerts"),
    ("GET", "/api/v1/health"),
    ("GET", "/api/v1/search"),
    ("GET", "/api/v1/articles/{article_id}/explanation"),
    ("POST", "/api/v1/articles/{article_id}/labels"),
    ("GET", "/api/v1/labels.csv"),
    ("GET", "/api/v1/drift"),
    ("GET", "/api/v1/drift/metrics"),
    ("GET", "/api/v1/models"),
    ("GET", "/api/v1/models/compare"),
]
# no negative cases for an operation that takes no input at all
WITHOUT_INPUT = {("GET", "/api/v1/health"), ("GET", "/api/v1/models")}
CASES = [
    (op, mode)
    for op in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or op not in WITHOUT_INPUT
]


def _ids(op: tuple[str, str]) -> str:
    return f"{op[0]} {op[1]}"


def test_every_described_operation_is_fuzzed(api_schema: schemathesis.BaseSchema) -> None:
    described = {(o.ok().method.upper(), o.ok().path) for o in api_schema.get_all_operations()}
    assert described == set(OPERATIONS)


@pytest.mark.parametrize(
    ("op", "mode"), CASES, ids=[f"{_ids(op)} {mode.value}" for op, mode in CASES]
)
def test_no_server_error_and_answers_as_described(
    api_schema: schemathesis.BaseSchema, op: tuple[str, str], mode: GenerationMode
) -> None:
    method, path = op
    seen: list[int] = []

    @FUZZ_SETTINGS
    @given(case=api_schema[path][method].as_strategy(generation_mode=mode))
    def fuzz(case: schemathesis.Case) -> None:
        seen.append(case.call_and_validate(checks=CHECKS).status_code)

    fuzz()
    assert seen, "no case was generated"


@pytest.mark.parametrize("op", [op for op in OPERATIONS if "{article_id}" in op[1]], ids=_ids)
def test_operations_on_a_stored_article(
    api_schema: schemathesis.BaseSchema, seeded_db: tuple[Engine, Seeded], op: tuple[str, str]
) -> None:
    """Random ids are never stored: these cases take a real one, so the data paths run."""
    method, path = op
    with seeded_db[0].connect() as conn:
        article_id = conn.execute(text("SELECT min(id) FROM articles")).scalar_one()
    seen: list[int] = []

    @settings(FUZZ_SETTINGS, max_examples=STORED_EXAMPLES)
    @given(case=api_schema[path][method].as_strategy(path_parameters={"article_id": article_id}))
    def fuzz(case: schemathesis.Case) -> None:
        seen.append(case.call_and_validate(checks=CHECKS).status_code)

    fuzz()
    assert {200, 201} & set(seen), seen


@pytest.mark.parametrize("op", OPERATIONS, ids=_ids)
def test_auth_on_refuses_anonymous_callers(
    auth_schema: schemathesis.BaseSchema, op: tuple[str, str]
) -> None:
    method, path = op

    @settings(FUZZ_SETTINGS, max_examples=AUTH_EXAMPLES)
    @given(case=auth_schema[path][method].as_strategy())
    def anonymous(case: schemathesis.Case) -> None:
        response = case.call()
        assert response.status_code in (401, 403), (case.path, response.status_code)
        assert response.json()["detail"].startswith("missing or wrong credentials")

    anonymous()
