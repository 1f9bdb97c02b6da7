"""Every command group a package defines is mounted on `finsent`, by name or merged into
its parent (`finsent dashboard`, `finsent model export`)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path

import typer
from typer.main import get_command

from app.cli import app, model_app

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "stream", "insight", "models", "export", "dashboard")


def _command_groups() -> Iterator[tuple[str, typer.Typer]]:
    """Each ``cli.py`` / ``*_cli.py`` module below the app with a Typer named ``app``."""
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name != "cli.py" and not path.name.endswith("_cli.py"):
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            group = getattr(importlib.import_module(name), "app", None)
            if isinstance(group, typer.Typer):
                yield name, group


def _names(group: typer.Typer) -> set[str]:
    command = get_command(group)
    commands = getattr(command, "commands", None)  # a group (typer vendors its click)
    if commands is not None:
        return set(commands)
    return {command.name or ""}  # a Typer of one command is that command


def _mounted(parent: typer.Typer) -> Iterator[typer.Typer]:
    """Every group mounted below ``parent``, at any depth (`finsent entities train-sentiment`
    is a models group merged into a stream group)."""
    for info in parent.registered_groups:
        if info.typer_instance is not None:
            yield info.typer_instance
            yield from _mounted(info.typer_instance)


def test_every_command_group_is_mounted() -> None:
    groups = dict(_command_groups())
    assert "stream.ingest.cli" in groups and "models.cli" in groups
    mounted = list(_mounted(app))
    assert [name for name, group in groups.items() if group not in mounted] == []


def test_every_mounted_command_answers_on_the_root() -> None:
    root, model = _names(app), _names(model_app)
    assert {"up", "demo", "worker", "status", "db", "model"} <= root
    assert {"ingest", "alerts", "entities", "dashboard", "query", "drift"} <= root
    for parent, names in ((app, root), (model_app, model)):
        for info in parent.registered_groups:
            if info.name is None and info.typer_instance is not None:
                assert _names(info.typer_instance) <= names
    assert {"export", "distill", "retrain"} <= model
