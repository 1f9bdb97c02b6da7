"""Compare two model versions on the articles both scored (article_scores keeps one row
per article per version)."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import aliased

from core.tables.articles import ArticleScoreRow

__all__ = ["VersionComparison", "compare_versions", "model_versions"]


@dataclass(frozen=True)
class VersionComparison:
    a: str
    b: str
    n: int
    sentiment_agreement: float
    topic_agreement: float
    mean_abs_score_diff: float
    # "a_label->b_label": count, for the articles whose sentiment changed
    sentiment_changes: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def model_versions(engine: Engine) -> list[tuple[str, int]]:
    """Every version that scored something, with its article count, newest first."""
    stmt = (
        select(ArticleScoreRow.model_version, func.count(), func.max(ArticleScoreRow.scored_at))
        .group_by(ArticleScoreRow.model_version)
        .order_by(func.max(ArticleScoreRow.scored_at).desc())
    )
    with engine.connect() as conn:
        return [(str(v), int(n)) for v, n, _ in conn.execute(stmt)]


def compare_versions(engine: Engine, a: str, b: str, *, limit: int = 100_000) -> VersionComparison:
    sa, sb = aliased(ArticleScoreRow), aliased(ArticleScoreRow)
    stmt = (
        select(sa.sentiment, sb.sentiment, sa.topic, sb.topic, sa.score, sb.score)
        .join(sb, sb.article_id == sa.article_id)
        .where(sa.model_version == a, sb.model_version == b)
        .limit(limit)
    )
    n = same_s = same_t = 0
    diff = 0.0
    changes: Counter[str] = Counter()
    with engine.connect() as conn:
        for s1, s2, t1, t2, x1, x2 in conn.execute(stmt):
            n += 1
            same_s += s1 == s2
            same_t += t1 == t2
            diff += abs(x1 - x2)
            if s1 != s2:
                changes[f"{s1}->{s2}"] += 1
    div = max(n, 1)
    return VersionComparison(
        a, b, n, same_s / div, same_t / div, diff / div, dict(changes.most_common())
    )
