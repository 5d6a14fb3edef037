"""`local-job`: the processing job's hosts as local processes (or containers), gathered, merged, printed."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from simulation import localjob
from simulation.commands.run import DEFAULTS, integer_at_least, positive_float


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "local-job",
        help="run the Processing job's entrypoint as N emulated hosts on this machine",
        description=localjob.__doc__.splitlines()[0],
    )
    parser.add_argument("--hosts", type=integer_at_least(1), default=3, help="emulated instances algo-1..N (default 3)")
    # the same engine options, types and defaults as `run`
    parser.add_argument("--width", type=positive_float, default=DEFAULTS["width"])
    parser.add_argument("--height", type=positive_float, default=DEFAULTS["height"])
    parser.add_argument("--people", type=integer_at_least(2), default=DEFAULTS["people"])
    parser.add_argument("--radius", type=positive_float, default=DEFAULTS["radius"])
    parser.add_argument("--iterations", type=integer_at_least(1), default=DEFAULTS["iterations"])
    parser.add_argument(
        "--seed", type=integer_at_least(0), help="default: fresh entropy, reported (pass it again to resume)"
    )
    parser.add_argument("--output", type=Path, default=localjob.default_output(), help="default: out/local-job")
    parser.add_argument(
        "--workers-per-host", type=integer_at_least(1), default=None, help="default: CPUs / hosts, at least 1"
    )
    parser.add_argument("--container", metavar="IMAGE", help="run each host in this image (podman/docker)")
    parser.add_argument("--engine", choices=("podman", "docker"), help="container engine (default: found on PATH)")
    parser.add_argument("--json", action="store_true", help="print one JSON object: the keys of run --json + hosts")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    import numpy as np

    from simulation.engine import Params

    params = Params(width=args.width, height=args.height, people=args.people, radius=args.radius)
    seed = int(np.random.SeedSequence().entropy) if args.seed is None else args.seed
    workers = args.workers_per_host or max(1, len(os.sched_getaffinity(0)) // max(args.hosts, 1))
    result = localjob.run_local_job(
        params,
        args.iterations,
        seed,
        hosts=args.hosts,
        output=args.output,
        workers_per_host=workers,
        container=args.container,
        engine=args.engine,
    )
    print(localjob.summary_json(result) if args.json else localjob.describe(result))
    return 0
