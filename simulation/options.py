"""The engine's options (--width --height --people --radius --iterations --seed --workers), declared once for
every parser that takes them: `run`, `local-job`, `submit`, `sweep`, `cost` and the job entrypoint's `simulate`.

Each option has one name, one help text, one default (from `simulation.defaults`) and one strict parser. A parser
takes them in one of three forms:
- "number": parsed here, so a bad value is one argparse line naming the option (`run`, `local-job`, the job);
- "text": handed to the client as typed; the client checks it once for every front door (CLI, Python, R), digits
  exactly, so a 20-digit seed stays that seed (`submit`, `cost`);
- "list": comma-separated values of a sweep, also checked by the client.
Defaults are not set on the parser (None until filled from `simulation.defaults`, `--workers` from
`defaults.usable_cores()`), so a command can tell which options were given; `required=True` is for the job
entrypoint, whose caller always passes every value.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from simulation import defaults


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def integer(text: str) -> int:
    """Integers, also written as 1e6 or 1000.0, which users of the R form pass."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if not (math.isfinite(value) and value.is_integer()):
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}")
    return int(value)


def integer_at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = integer(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {text!r}")
        return value

    parse.__name__ = f"integer >= {minimum}"
    return parse


@dataclass(frozen=True)
class Option:
    parse: Callable[[str], Any]
    help: str
    default: str  # as the help text states it


OPTIONS: dict[str, Option] = {
    "width": Option(positive_float, "area width", f"{defaults.WIDTH:g}"),
    "height": Option(positive_float, "area height", f"{defaults.HEIGHT:g}"),
    "people": Option(integer_at_least(2), "people per iteration", f"{defaults.PEOPLE}"),
    "radius": Option(positive_float, "distance counted as a violation", f"{defaults.RADIUS:g}"),
    "iterations": Option(integer_at_least(1), "iterations", f"{defaults.ITERATIONS}"),
    "seed": Option(integer_at_least(0), "random seed", "fresh entropy, reported (pass it again to reproduce)"),
    "workers": Option(integer_at_least(1), "worker threads", "the cores usable here"),
}
PARAMETERS = ("width", "height", "people", "radius")  # what engine.Params holds
RUN_OPTIONS = (*PARAMETERS, "iterations", "seed")  # what one run takes besides its workers
FORMS = ("number", "text", "list")


def add_engine_options(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    names: Iterable[str] = RUN_OPTIONS,
    *,
    form: str = "number",
    required: bool = False,
) -> None:
    """Declare `names` (keys of OPTIONS) on `parser` in `form` (module docstring)."""
    if form not in FORMS:
        raise ValueError(f"form must be one of {FORMS}, got {form!r}")
    for name in names:
        option = OPTIONS[name]
        plural = " (comma-separated values)" if form == "list" and name in PARAMETERS else ""
        needed = required and name != "workers"  # workers always default to the cores here
        parser.add_argument(
            f"--{name}",
            type=option.parse if form == "number" or name == "workers" else str,
            required=needed,
            help=f"{option.help}{plural}" if needed else f"{option.help}{plural} (default: {option.default})",
        )
