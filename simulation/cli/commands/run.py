"""`run`: the bundled social-distancing Monte Carlo on this machine.

python -m simulation run --width 1000 --height 1000 --people 1000 --radius 6 --iterations 10000 --seed 42
python -m simulation run --args 1000 1000 1000 10000 1      # the original R script's positional form
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from typing import Any

from simulation import defaults
from simulation.errors import SimulationError

DEFAULTS = defaults.RUN  # the one definition every front door uses
# What one machine can hold and finish. 10 million people are 160 MB of coordinates per worker and iteration
# (beyond that memory, not time, runs out); 10^12 placed people (iterations x people) take hours here (the
# reference case, 10^7, takes about a third of a second): bigger runs belong on SageMaker (`submit`).
MAX_PEOPLE = 10_000_000
MAX_POINTS = 10**12
R_ARGS = ("X_LENGTH", "Y_LENGTH", "NUM_PEOPLE", "MAX_ITERATIONS", "IS_LOCAL")


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def _integer(text: str) -> int:
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
        value = _integer(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {text!r}")
        return value

    parse.__name__ = f"integer >= {minimum}"
    return parse


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run the social-distancing Monte Carlo on this machine",
        description="Place PEOPLE uniformly in a WIDTH x HEIGHT area, count pairs closer than RADIUS; "
        "repeat ITERATIONS times and report violations per person (2 * pairs / people).",
    )
    parser.add_argument("--width", type=positive_float, help=f"area width (default {DEFAULTS['width']:g})")
    parser.add_argument("--height", type=positive_float, help=f"area height (default {DEFAULTS['height']:g})")
    parser.add_argument("--people", type=integer_at_least(2), help=f"people (default {DEFAULTS['people']})")
    parser.add_argument("--radius", type=positive_float, help=f"distance radius (default {DEFAULTS['radius']:g})")
    parser.add_argument("--iterations", type=integer_at_least(1), help=f"iterations (default {DEFAULTS['iterations']})")
    parser.add_argument(
        "--seed", type=integer_at_least(0), help="random seed (default: fresh entropy, reported in the output)"
    )
    parser.add_argument("--workers", type=integer_at_least(1), help="worker threads (default: all cores)")
    parser.add_argument("--json", action="store_true", help="print one JSON object and nothing else on stdout")
    parser.add_argument(
        "--args",
        nargs=len(R_ARGS),
        metavar=R_ARGS,
        dest="r_args",
        help="the original R script's form; IS_LOCAL=1 means one core, 0 all cores",
    )
    parser.set_defaults(handler=handle)


def _from_r_args(args: argparse.Namespace) -> None:
    """Fill the named options from `--args X Y N ITER IS_LOCAL`; mixing both forms is ambiguous."""
    named = [name for name in ("width", "height", "people", "iterations") if getattr(args, name) is not None]
    if named:
        raise SimulationError(f"run: --args cannot be combined with --{named[0]}")
    parsers = (positive_float, positive_float, integer_at_least(2), integer_at_least(1), _integer)
    values = []
    for label, parse, text in zip(R_ARGS, parsers, args.r_args, strict=True):
        try:
            values.append(parse(text))
        except argparse.ArgumentTypeError as error:
            raise SimulationError(f"run: argument --args {label}: {error}") from None
    args.width, args.height, args.people, args.iterations, is_local = values
    if is_local not in (0, 1):
        raise SimulationError(f"run: argument --args IS_LOCAL: must be 0 or 1, got {args.r_args[4]!r}")
    if is_local == 1 and args.workers is None:
        args.workers = 1


def handle(args: argparse.Namespace) -> int:
    if args.r_args is not None:
        _from_r_args(args)
    from simulation.engine import Params, run

    params = Params(
        width=_default(args.width, "width"),
        height=_default(args.height, "height"),
        people=_default(args.people, "people"),
        radius=_default(args.radius, "radius"),
    )
    iterations = _default(args.iterations, "iterations")
    check_size(params.people, iterations)
    progress = not args.json and sys.stdout.isatty() and sys.stderr.isatty()
    result = run(params, iterations, args.seed, workers=args.workers, progress=progress)
    if args.json:
        print(json.dumps(result))
    else:
        print(format_result(result))
    return 0


def check_size(people: int, iterations: int) -> None:
    """One line instead of a MemoryError or a run that would not end today."""
    if people > MAX_PEOPLE:
        raise SimulationError(f"run: --people {people} is more than {MAX_PEOPLE:,} (the memory one machine has)")
    if people * iterations > MAX_POINTS:
        raise SimulationError(
            f"run: {iterations:,} iterations of {people:,} people place {people * iterations:.2e} people, more than "
            f"{MAX_POINTS:.0e} (hours on one machine); use fewer iterations, or `submit` with more instances"
        )


def _default(value: Any, name: str) -> Any:
    return DEFAULTS[name] if value is None else value


def format_result(result: dict[str, Any]) -> str:
    lines = [
        f"violations per person: {result['mean']:.6f}",
        f"  sd {_fmt(result['sd'])}, se {_fmt(result['se'])}, 95% CI {_fmt_ci(result['ci95'])}",
        f"  analytic expectation {result['analytic_mean']:.6f}",
        f"  {result['iterations']} iterations of {result['people']} people in {result['width']:g} x "
        f"{result['height']:g}, radius {result['radius']:g}, seed {result['seed']}",
        f"  {result['seconds']:.3f} s on {result['workers']} worker(s), {result['backend']} kernel",
    ]
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.6f}"


def _fmt_ci(ci: list[float] | None) -> str:
    return "n/a" if ci is None else f"[{ci[0]:.6f}, {ci[1]:.6f}]"
