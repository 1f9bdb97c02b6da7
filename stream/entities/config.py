"""Settings of the entities subsystem: ``Settings.entities`` (``FINSENT_ENTITIES__...``).

Defined in core/config.py with every other setting; this module adds what the stream
derives from them.
"""

from __future__ import annotations

from core.config import EntitySettings
from stream.entities.novelty import NoveltyConfig

__all__ = ["EntitySettings", "novelty_config"]


def novelty_config(settings: EntitySettings) -> NoveltyConfig:
    return NoveltyConfig(window_s=settings.novelty_window_s, threshold=settings.novelty_threshold)
