"""Settings of the entities subsystem (tagging, novelty, ticker buckets).

Meant to become ``Settings.entities`` (``FINSENT_ENTITIES__COUNT_REPEATS=true``); until
core/config.py carries it, the stream reads ``getattr(settings, "entities", None)`` and
falls back to these defaults.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from stream.entities.novelty import NoveltyConfig

__all__ = ["EntitySettings"]


class EntitySettings(BaseModel):
    # near-duplicate detection: copies of one story published within this many seconds
    novelty_window_s: int = Field(48 * 3600, ge=60)
    # minimum estimated Jaccard similarity of two headlines' 5-gram shingles
    novelty_threshold: float = Field(0.7, gt=0, le=1)
    # False: market, topic and ticker buckets count a story once (its first report);
    # source buckets always count every article (a source's own output)
    count_repeats: bool = False
    # ticker buckets (the alerts' scope) count an article for a ticker only from this
    # relevance up: a passing mention does not move a ticker's sentiment
    min_relevance: float = Field(0.3, ge=0, le=1)
    # per-entity sentiment for headlines naming several companies
    entity_sentiment: bool = True

    @property
    def novelty(self) -> NoveltyConfig:
        return NoveltyConfig(window_s=self.novelty_window_s, threshold=self.novelty_threshold)
