"""`python -m simulation <command>`: one argparse front door; each command lives in its own module.

A command module defines `register(subparsers)`, which adds its parser and sets `handler=fn(args) -> int`.
Modules are imported only when listed here, so adding a capability is one line below plus its module.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from simulation.errors import SimulationError

# command modules, in the order `--help` lists them
COMMAND_MODULES = (
    "simulation.commands.run",  # run: the bundled Monte Carlo on this machine
    "simulation.commands.local_job",  # local-job: an emulated multi-host Processing job
    "simulation.commands.merge",  # merge: partial results of any number of hosts -> one result
    "simulation.commands.client",  # submit, watch, logs, results, sweep, jobs, stop, cost
)


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
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except SimulationError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
