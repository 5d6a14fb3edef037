"""`run`: the bundled social-distancing Monte Carlo on this machine.

python -m simulation run --width 1000 --height 1000 --people 1000 --radius 6 --iterations 10000 --seed 42
python -m simulation run --args 1000 1000 1000 10000 1      # the original R script's positional form
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from simulation import defaults
from simulation.errors import SimulationError
from simulation.options import OPTIONS, RUN_OPTIONS, add_engine_options, integer

R_ARGS = ("X_LENGTH", "Y_LENGTH", "NUM_PEOPLE", "MAX_ITERATIONS", "IS_LOCAL")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run the social-distancing Monte Carlo on this machine",
        description="Place PEOPLE uniformly in a WIDTH x HEIGHT area, count pairs closer than RADIUS; "
        "repeat ITERATIONS times and report violations per person (2 * pairs / people).",
    )
    add_engine_options(parser, (*RUN_OPTIONS, "workers"))
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
    parsers = (*(OPTIONS[name].parse for name in ("width", "height", "people", "iterations")), integer)
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

    values = defaults.fill(**{name: getattr(args, name) for name in defaults.RUN})
    iterations = values.pop("iterations")
    params = Params(**values)
    defaults.check_local_size(params.people, iterations)
    progress = not args.json and sys.stdout.isatty() and sys.stderr.isatty()
    result = run(params, iterations, args.seed, workers=args.workers, progress=progress)
    if args.json:
        print(json.dumps(result))
    else:
        print(format_result(result))
    return 0


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
