"""How `finsent … --help` reads: one line per command in a listing, no type on flags.

Typer's rich help keeps a docstring's line breaks in the command listing (a sentence
broken mid-line) and prints ``<bool>`` after every flag, which takes no value."""

from __future__ import annotations

import inspect

import typer
import typer.core

__all__ = ["tidy_help"]


def _summary(text: str) -> str:
    first = inspect.cleandoc(text).partition("\f")[0].split("\n\n")[0]
    return " ".join(first.split())


def _flag_type(self: typer.core.TyperOption, ctx: typer.Context) -> str | None:
    if self.is_flag and self.metavar is None:
        return None
    return _typed(self, ctx)


_typed = typer.core.TyperOption.display_type_rich


def tidy_help(app: typer.Typer) -> None:
    """Give every command under ``app`` a one-line summary for listings (its docstring's
    first paragraph, reflowed) and show flags without a type."""
    typer.core.TyperOption.display_type_rich = _flag_type  # type: ignore[method-assign,assignment]
    for command in app.registered_commands:
        text = command.help or (command.callback.__doc__ if command.callback else None)
        if command.short_help is None and text:
            command.short_help = _summary(text)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            tidy_help(group.typer_instance)
