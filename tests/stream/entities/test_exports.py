"""stream.entities names what other packages may import; the serving path stays light."""

from __future__ import annotations

import subprocess
import sys

import stream.entities


def test_public_names_are_pinned() -> None:
    assert sorted(stream.entities.__all__) == [
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
    for name in stream.entities.__all__:
        assert getattr(stream.entities, name) is not None


def test_the_worker_path_imports_neither_torch_nor_training_code() -> None:
    code = (
        "import sys, stream.worker; "
        "print(sorted(m for m in ('torch', 'models.data', 'models.entity_sentiment') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
