"""`local-job`: the processing job's hosts as local processes (or containers), gathered, merged, printed."""

from __future__ import annotations

import argparse
from pathlib import Path

from simulation import local_job
from simulation.commands.run import DEFAULTS, integer_at_least, positive_float


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "local-job",
        help="run the Processing job's entrypoint as N emulated hosts on this machine",
        description=local_job.__doc__.splitlines()[0],
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
    parser.add_argument("--output", type=Path, default=local_job.default_output(), help="default: out/local-job")
    parser.add_argument(
        "--workers-per-host", type=integer_at_least(1), default=None, help="default: CPUs / hosts, at least 1"
    )
    parser.add_argument("--container", metavar="IMAGE", help="run each host in this image (podman/docker)")
    parser.add_argument("--engine", choices=("podman", "docker"), help="container engine (default: found on PATH)")
    parser.add_argument("--json", action="store_true", help="print one JSON object: the keys of run --json + hosts")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from simulation.engine import Params, fresh_seed
    from simulation.hosts import default_workers

    params = Params(width=args.width, height=args.height, people=args.people, radius=args.radius)
    seed = fresh_seed() if args.seed is None else args.seed
    # os.sched_getaffinity is Linux-only; default_workers falls back to os.cpu_count() (macOS)
    workers = args.workers_per_host or max(1, default_workers() // max(args.hosts, 1))
    result = local_job.run_local_job(
        params,
        args.iterations,
        seed,
        hosts=args.hosts,
        output=args.output,
        workers_per_host=workers,
        container=args.container,
        engine=args.engine,
    )
    print(local_job.summary_json(result) if args.json else local_job.describe(result))
    return 0
