"""The worker's faust app keeps its data directory under finsent's, never in the cwd."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from core.config import Settings
from core.services import KafkaTarget
from stream.worker import create_app


class _NoProcessor:
    engine = None


def test_faust_data_goes_under_the_data_dir_not_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    # braces: faust formats the datadir with its settings; a literal one must survive it
    settings = Settings(
        data_dir=tmp_path / "data{dir}",
        worker={"app_id": "t1234-worker"},
        alerts={"enabled": False},
    )
    app = create_app(settings, KafkaTarget("127.0.0.1:1", False), _NoProcessor())  # type: ignore[arg-type]

    assert app.conf.datadir == tmp_path / "data{dir}" / "faust" / "t1234-worker"
    assert app.conf.tabledir.is_relative_to(settings.data_dir)
    # what faust does when the worker starts: the directories exist, the cwd stays empty
    asyncio.run(app.on_first_start())
    assert app.conf.tabledir.is_dir()
    assert list(cwd.iterdir()) == []
