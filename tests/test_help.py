"""`--help` of every command says what the command does and what each of its options is for, and the docs name only
commands that exist."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from simulation.cli.dispatch import build_parser

ROOT = Path(__file__).resolve().parents[1]


def commands(parser: argparse.ArgumentParser, prefix: str = "") -> dict[str, argparse.ArgumentParser]:
    """Every command's parser, sub-commands included (`image build`), by its name."""
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found[prefix + name] = sub
                found.update(commands(sub, prefix + name + " "))
    return found


COMMANDS = commands(build_parser())


def test_the_commands_are_the_ones_the_docs_list():
    assert set(COMMANDS) >= {"run", "local-job", "merge", "submit", "sweep", "cost", "watch", "logs", "jobs", "stop"}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_says_what_it_does(name):
    assert COMMANDS[name].description, f"`{name} --help` prints no description"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_option_has_help(name):
    missing = [
        "/".join(action.option_strings) or action.dest
        for action in COMMANDS[name]._actions
        if not isinstance(action, (argparse._HelpAction, argparse._SubParsersAction))
        and not (action.help or "").strip()
    ]
    assert missing == [], f"{name}: {missing}"


def test_the_docs_name_only_commands_that_exist():
    """`python -m simulation <word>` in the README and docs/ must be a command (the README once listed `status`)."""
    named = set()
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        named |= {(page.name, word) for word in re.findall(r"python -m simulation ([a-z][a-z-]*)", page.read_text())}
    unknown = sorted((page, word) for page, word in named if word not in {c.split()[0] for c in COMMANDS})
    assert unknown == []
