"""The README's command reference stays in step with the commands' --help."""

from __future__ import annotations

import re

import click

from masthead.cli import main

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands() -> list[tuple[str, click.Command]]:
    out = []
    context = click.Context(main)
    for name in main.list_commands(context):
        command = main.get_command(context, name)
        assert command is not None
        if isinstance(command, click.Group):
            out += [(f"{name} {sub}", c) for sub, c in sorted(command.commands.items())]
        else:
            out.append((name, command))
    return out


def _section(title: str) -> str:
    """The README text under the heading ### `masthead <title>` (or its group's heading)."""
    group = title.split()[0]
    for heading in (title, group):
        match = re.search(rf"^### `masthead {re.escape(heading)}`\n(.*?)(?=^##)", README, re.M | re.S)
        if match:
            return match.group(1)
    return ""


def test_every_command_is_documented() -> None:
    """Each command (and subcommand) has a section in the README's command reference."""
    missing = [name for name, _ in _commands() if not _section(name)]
    assert missing == []


def test_every_option_is_documented() -> None:
    """Each long option a command takes appears in its README section."""
    missing = []
    for name, command in _commands():
        section = _section(name)
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--") and opt != "--help" and opt not in section:
                    missing.append(f"masthead {name} {opt}")
    assert missing == []


def test_setup_commands_come_first() -> None:
    """README starts with the two set-up commands: run the job, run the tests."""
    setup = README.split("## Set up", 1)[1].split("\n## ", 1)[0]
    commands = [line.strip() for line in setup.splitlines() if line.startswith("    ")]
    assert commands[0].endswith("masthead run")
    assert "pytest" in commands[1]
    assert commands[1] in (ROOT / ".ci" / "run").read_text()
