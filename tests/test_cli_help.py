"""`transinv --help` and every subcommand's --help render: argparse formats help strings
with %, so one stray percent sign breaks the help of the whole command line."""

from __future__ import annotations

import argparse

import pytest

from transinv.cli import build_parser


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    for action in parser._actions:  # argparse keeps its subparsers only here
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("transinv has no subcommands")


def test_top_level_help_lists_every_subcommand() -> None:
    text = build_parser().format_help()
    for name in _subcommands():
        assert name in text


@pytest.mark.parametrize("name", sorted(_subcommands()))
def test_subcommand_help_renders(name: str) -> None:
    assert "usage:" in _subcommands()[name].format_help()
