"""Each package's README has a "where things are" table that names every module and
sub-package in it, so the table cannot silently fall behind the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = (
    "app",
    "core",
    "stream",
    "stream/ingest",
    "stream/alerts",
    "stream/entities",
    "insight",
    "models",
    "export",
    "dashboard",
)


def _named_in_tables(readme: Path) -> set[str]:
    rows = [
        line for line in readme.read_text(encoding="utf-8").splitlines() if line.startswith("|")
    ]
    return {name.rstrip("/") for row in rows for name in re.findall(r"`([^`]+)`", row)}


def _contents(package: Path) -> set[str]:
    modules = {p.name for p in package.glob("*.py") if p.name != "__init__.py"}
    folders = {
        p.name
        for p in package.iterdir()
        if p.is_dir() and p.name != "__pycache__" and any(p.glob("*.py"))
    }
    return modules | folders


@pytest.mark.parametrize("package", PACKAGES)
def test_the_readme_table_names_every_module(package: str) -> None:
    folder = ROOT / package
    missing = _contents(folder) - _named_in_tables(folder / "README.md")
    assert not missing, f"{package}/README.md does not name {sorted(missing)}"
