"""`local-job`: the processing job's hosts as local processes (or containers), gathered, merged, printed."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from simulation import localjob


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "local-job",
        help="run the Processing job's entrypoint as N emulated hosts on this machine",
        description=localjob.__doc__.splitlines()[0],
    )
    parser.add_argument("--hosts", type=int, default=3, help="emulated instances, algo-1..algo-N (default 3)")
    parser.add_argument("--width", type=float, default=1000.0)
    parser.add_argument("--height", type=float, default=1000.0)
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--radius", type=float, default=6.0)
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=None, help="default: fresh entropy, printed (needed to resume)")
    parser.add_argument("--output", type=Path, default=localjob.default_output(), help="default: out/local-job")
    parser.add_argument("--workers-per-host", type=int, default=None, help="default: CPUs / hosts, at least 1")
    parser.add_argument("--container", metavar="IMAGE", help="run each host in this image (podman/docker)")
    parser.add_argument("--engine", choices=("podman", "docker"), help="container engine (default: found on PATH)")
    parser.add_argument("--json", action="store_true", help="print one JSON object: the keys of run --json + hosts")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    import numpy as np

    from simulation.engine import Params
    from simulation.errors import SimulationError

    if args.workers_per_host is not None and args.workers_per_host < 1:
        raise SimulationError(f"--workers-per-host must be at least 1, got {args.workers_per_host}")
    if args.iterations < 1:
        raise SimulationError(f"--iterations must be at least 1, got {args.iterations}")
    if args.seed is not None and args.seed < 0:
        raise SimulationError(f"--seed must be a non-negative integer, got {args.seed}")
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
