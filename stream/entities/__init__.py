"""Companies, tickers and novelty: who the news is about and whether it is new.

- ``catalogue``: the watchlist (CSV with line-precise errors, PostgreSQL import, the
  shipped S&P 500 default ``sp500.csv``);
- ``tagger``: cashtags, exchange tickers, names and aliases with spans and case rules;
  ``relevance``: how much an article is about each entity;
- ``sentiment``: entity-level sentiment (``models.entity_sentiment`` trains it on SEntFiN);
- ``novelty``: MinHash/LSH near-duplicate stories, durable in PostgreSQL;
- ``cli``: ``finsent entities``.
"""

from stream.entities.catalogue import CatalogueEntry, CatalogueError, default_catalogue
from stream.entities.config import EntitySettings
from stream.entities.novelty import NoveltyConfig, StoryAssignment, assign_stories
from stream.entities.sentiment import EntitySentimentScorer, EntitySpan
from stream.entities.tagger import EntityTagger

__all__ = [
    "CatalogueEntry",
    "CatalogueError",
    "EntitySentimentScorer",
    "EntitySettings",
    "EntitySpan",
    "EntityTagger",
    "NoveltyConfig",
    "StoryAssignment",
    "assign_stories",
    "default_catalogue",
]
