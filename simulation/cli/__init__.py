"""`python -m simulation <command>`: the argparse front door (`dispatch`) and one module per command (`commands/`).

The top of the layers: it may import the engine, the job runtime and the client; nothing imports it back.
"""

from __future__ import annotations

from simulation.cli.dispatch import ArgumentParser, build_parser, main

__all__ = ["ArgumentParser", "build_parser", "main"]
