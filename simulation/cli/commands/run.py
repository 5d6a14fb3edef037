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
from simulation.job import report
from simulation.options import OPTIONS, RUN_OPTIONS, add_engine_options, integer
from simulation.text import exact, printable

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
    from simulation.engine import Params, RunInterrupted, fresh_seed, run

    values = defaults.fill(**{name: getattr(args, name) for name in defaults.RUN})
    iterations = values.pop("iterations")
    params = Params(**values)
    defaults.check_local_size(params.people, iterations)
    seed = fresh_seed() if args.seed is None else args.seed
    start_line = starting("run", seed, args.seed is None, expected_line(params, iterations, args.workers))
    if start_line:
        print(start_line, file=sys.stderr, flush=True)
    progress = not args.json and sys.stdout.isatty() and sys.stderr.isatty()
    try:
        result = run(params, iterations, seed, workers=args.workers, progress=progress)
    except RunInterrupted as stop:
        return interrupted(args, stop, iterations)
    print(json.dumps(result) if args.json else printable(report.describe(result)))
    return 0


def starting(command: str, seed: int, fresh: bool, *more: str, again: str = "repeat") -> str:
    """The first line of a run: its seed when it was drawn here (so the run can be repeated, or resumed), and
    whatever else must be said before it starts."""
    parts = [f"seed {seed} (fresh entropy: pass --seed {seed} to {again} this run)"] if fresh else []
    parts += [part for part in more if part]
    return f"{command}: " + "; ".join(parts) if parts else ""


# Runs predicted to take longer than this say so before they start
SAY_EXPECTED_SECONDS = 10.0


def expected_line(params: Any, iterations: int, workers: int | None) -> str:
    """`expected ~3.1 h here ...` for a run the throughput model says takes long (as `submit` prints its plan)."""
    from simulation.engine import throughput

    cores = workers or defaults.usable_cores()
    seconds = throughput.compute_seconds(params, iterations, 1, cores) + throughput.LOCAL_STARTUP_SECONDS
    if seconds < SAY_EXPECTED_SECONDS:
        return ""
    return (
        f"expected ~{duration(seconds)} on {cores} core(s) of a machine like the calibration one (docs/performance.md);"
        " Ctrl-C keeps the finished blocks (`submit` runs it on SageMaker: `cost` compares)"
    )


def duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.3g} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def interrupted(args: argparse.Namespace, stop: Any, planned: int) -> int:
    """Ctrl-C: the blocks finished so far are a run of their own (same seed, fewer iterations); print it and say
    which command gives exactly it, and which the whole run."""
    if sys.stderr.isatty():
        print(file=sys.stderr)  # past the progress bar
    result = stop.result
    if result is None:
        print("run: interrupted before the first block finished; nothing to keep", file=sys.stderr)
        return 130
    same = _command(result, result["iterations"])
    print(
        f"run: interrupted after {result['iterations']} of {planned} iterations ({result['blocks']} blocks); their "
        f"result below is that of `{same}`; the whole run: `{_command(result, planned)}`",
        file=sys.stderr,
    )
    print(json.dumps({**result, "interrupted": True}) if args.json else printable(report.describe(result)))
    return 130


def _command(result: dict[str, Any], iterations: int) -> str:
    return (
        f"python -m simulation run --width {exact(result['width'])} --height {exact(result['height'])} --people "
        f"{result['people']} --radius {exact(result['radius'])} --iterations {iterations} --seed {result['seed']}"
    )
