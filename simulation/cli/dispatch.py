"""`python -m simulation <command>`: one argparse front door; each command lives in its own module.

A command module defines `register(subparsers)`, which adds its parser and sets `handler=fn(args) -> int`.
Modules are imported only when listed here, so adding a capability is one line below plus its module.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from simulation.errors import SimulationError
from simulation.text import printable

# command modules, in the order `--help` lists them
COMMAND_MODULES = (
    "simulation.cli.commands.run",  # run: the bundled Monte Carlo on this machine
    "simulation.cli.commands.local_job",  # local-job: an emulated multi-host Processing job
    "simulation.cli.commands.merge",  # merge: partial results of any number of hosts -> one result
    "simulation.cli.commands.submit",  # submit, sweep: start SageMaker Processing jobs
    "simulation.cli.commands.cost",  # cost: price a job, or the platform per month (--platform)
    "simulation.cli.commands.status",  # watch, logs, jobs, stop: follow and manage jobs
    "simulation.cli.commands.results",  # results: download, merge and plot a finished job or sweep
    "simulation.cli.commands.image",  # image build: your own job image
)

# Command modules that need an optional extra. Without it (the job image has no boto3) their commands still
# show up and say what to install, and every other command keeps working.
OPTIONAL_COMMANDS = {
    "simulation.cli.commands.submit": (("submit", "sweep"), "client"),
    "simulation.cli.commands.cost": (("cost",), "client"),
    "simulation.cli.commands.status": (("watch", "logs", "jobs", "stop"), "client"),
    "simulation.cli.commands.results": (("results",), "client"),
    "simulation.cli.commands.image": (("image",), "client"),
}


class ArgumentParser(argparse.ArgumentParser):
    """argparse prints usage + error; we print exactly one line naming the problem, exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"error: {self.prog}: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="python -m simulation",
        description="Monte Carlo simulations on this machine, as an emulated Processing job, or on SageMaker "
        "Processing.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name == name:  # that capability is not installed in this build
                continue
            if name in OPTIONAL_COMMANDS and not (error.name or "").startswith("simulation"):
                _register_missing(
                    subparsers, *OPTIONAL_COMMANDS[name], missing=(error.name or "a dependency").split(".")[0]
                )
                continue
            raise
        module.register(subparsers)
    _describe(subparsers)
    return parser


def _describe(subparsers: argparse._SubParsersAction[ArgumentParser]) -> None:
    """A command registered with a one-line `help` only gets that line as its `--help` description too."""
    for listed in subparsers._choices_actions:
        command = subparsers.choices[listed.dest]
        if not command.description:
            command.description = listed.help
        for action in command._actions:
            if isinstance(action, argparse._SubParsersAction):
                _describe(action)


def _register_missing(
    subparsers: argparse._SubParsersAction[ArgumentParser], commands: tuple[str, ...], extra: str, missing: str
) -> None:
    for command in commands:
        parser = subparsers.add_parser(command, help=f"(needs: pip install 'simulation[{extra}]')", add_help=False)

        def handler(args: argparse.Namespace, command: str = command) -> int:
            raise SimulationError(
                f"'{command}' needs {missing}, which is not installed here: pip install 'simulation[{extra}]'"
            )

        parser.set_defaults(handler=handler, accepts_any_arguments=True)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown and not getattr(args, "accepts_any_arguments", False):
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        return int(args.handler(args) or 0)
    except SimulationError as error:
        print(f"error: {printable(str(error))}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
