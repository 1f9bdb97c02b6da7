"""`/api/v1` routes of insight: explanations, analysts' labels, drift, model versions."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import Engine

from core.config import Settings, get_settings
from core.errors import ConfigError
from dashboard.api.deps import ERROR_RESPONSES, reject_nul, require_auth
from dashboard.api.schemas import ErrorOut

__all__ = ["router"]

router = APIRouter(
    prefix="/api/v1",
    dependencies=[Depends(require_auth), Depends(reject_nul)],
    responses=ERROR_RESPONSES,
    tags=["insight"],
)
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "no such article"}
}

_SURROGATE = re.compile("[\ud800-\udfff]")

ArticleIdPath = Annotated[str, Path(min_length=1, max_length=64)]


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def _settings(request: Request) -> Settings:
    # tests (and embedders) may pin settings on the app; otherwise the environment's
    settings: Settings | None = getattr(request.app.state, "settings", None)
    return settings or get_settings()


EngineDep = Annotated[Engine, Depends(_engine)]
SettingsDep = Annotated[Settings, Depends(_settings)]


@router.get("/articles/{article_id}/explanation", responses=NOT_FOUND)
def explanation(
    article_id: ArticleIdPath, engine: EngineDep, settings: SettingsDep
) -> dict[str, Any]:
    """Per-word weights (occlusion over the current model), bounded by the configured
    word count and time budget."""
    from insight.service import explain_article

    try:
        return explain_article(engine, settings, article_id).to_dict()
    except ConfigError as exc:
        raise HTTPException(404, str(exc)) from exc


class LabelIn(BaseModel):
    by: str = Field(min_length=1, max_length=200)
    sentiment: Literal["negative", "neutral", "positive"] | None = None
    topic: str | None = Field(None, max_length=64)
    note: str | None = Field(None, max_length=2000)
    model_version: str | None = Field(None, max_length=100)

    @field_validator("by", "topic", "note", "model_version")
    @classmethod
    def _no_nul(cls, value: str | None) -> str | None:
        # PostgreSQL text cannot hold NUL: bad input, not a 500
        if value is not None and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        if value is not None and _SURROGATE.search(value):
            # a lone surrogate ("\\ud800" in JSON) has no UTF-8 form
            raise ValueError("must not contain lone surrogates")
        return value


@router.post(
    "/articles/{article_id}/labels",
    status_code=201,
    responses={
        **NOT_FOUND,
        400: {"model": ErrorOut, "description": "the body is not JSON"},
    },
)
def add_labels(article_id: ArticleIdPath, body: LabelIn, engine: EngineDep) -> dict[str, Any]:
    from insight.feedback import add_label

    if body.sentiment is None and body.topic is None:
        raise HTTPException(422, "give a sentiment and/or a topic")
    ids: dict[str, int] = {}
    try:
        for task, value in (("sentiment", body.sentiment), ("topic", body.topic)):
            if value is not None:
                ids[task] = add_label(
                    engine,
                    article_id,
                    task,
                    value,
                    by=body.by,
                    model_version=body.model_version,
                    note=body.note,
                )
    except ConfigError as exc:
        status = 404 if "no article" in str(exc) else 422
        raise HTTPException(status, str(exc)) from exc
    return {"article_id": article_id, "label_ids": ids}


@router.get("/labels.csv", response_class=Response)
def labels_csv(
    engine: EngineDep,
    split: Annotated[Literal["train", "holdout"] | None, Query()] = None,
) -> Response:
    """The analysts' labels in force as a training CSV."""
    from insight.feedback import export_csv

    return Response(
        export_csv(engine, split=split),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="finsent-labels.csv"'},
    )


@router.get("/drift")
def drift(
    engine: EngineDep,
    settings: SettingsDep,
    days: Annotated[int, Query(ge=1, le=90)] = 7,
) -> dict[str, Any]:
    from insight.service import drift_report

    report = drift_report(engine, settings, days=days)
    return {
        "level": report.level,
        "note": report.note,
        "reference_version": report.reference.model_version if report.reference else None,
        "groups": [g.to_dict() for g in report.groups],
        "alerts": [a.message for a in report.alerts],
    }


@router.get("/drift/metrics", response_class=Response)
def drift_metrics(
    engine: EngineDep,
    settings: SettingsDep,
    days: Annotated[int, Query(ge=1, le=90)] = 1,
) -> Response:
    """Prometheus text: the latest day's PSI and shares per source, and alerts firing."""
    from insight.metrics import render
    from insight.service import drift_report

    return Response(render(drift_report(engine, settings, days=days)), media_type="text/plain")


@router.get("/models")
def models(engine: EngineDep) -> list[dict[str, Any]]:
    from insight.compare import model_versions

    return [{"version": v, "articles": n} for v, n in model_versions(engine)]


@router.get("/models/compare")
def compare(
    engine: EngineDep,
    a: Annotated[str, Query(max_length=100)],
    b: Annotated[str, Query(max_length=100)],
) -> dict[str, Any]:
    """Two versions on the same articles: agreement and how the verdicts moved."""
    from insight.compare import compare_versions

    return compare_versions(engine, a, b).to_dict()
