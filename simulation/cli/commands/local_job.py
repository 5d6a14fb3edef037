"""`local-job`: the processing job's hosts as local processes (or containers), gathered, merged, printed."""

from __future__ import annotations

import argparse
from pathlib import Path

from simulation.cli.commands.local_map import handle_map
from simulation.cli.commands.run import DEFAULTS, check_size, integer_at_least, positive_float
from simulation.errors import SimulationError
from simulation.job import local_job
from simulation.text import printable


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "local-job",
        help="run the Processing job's entrypoint as N emulated hosts on this machine",
        description=local_job.__doc__.splitlines()[0],
    )
    parser.add_argument(
        "--hosts", type=integer_at_least(1), default=None, help="emulated instances algo-1..N (default 3)"
    )
    # the same engine options, types and defaults (simulation.defaults) as `run`; None until filled in, so
    # --r-script can tell that one was given
    parser.add_argument("--width", type=positive_float, help=f"default {DEFAULTS['width']:g}")
    parser.add_argument("--height", type=positive_float, help=f"default {DEFAULTS['height']:g}")
    parser.add_argument("--people", type=integer_at_least(2), help=f"default {DEFAULTS['people']}")
    parser.add_argument("--radius", type=positive_float, help=f"default {DEFAULTS['radius']:g}")
    parser.add_argument("--iterations", type=integer_at_least(1), help=f"default {DEFAULTS['iterations']}")
    parser.add_argument(
        "--seed", type=integer_at_least(0), help="default: fresh entropy, reported (pass it again to resume)"
    )
    parser.add_argument("--r-script", metavar="SCRIPT", help="run your own R script on each host instead")
    parser.add_argument(
        "--map", metavar="JOB_DIR", help="run (or resume) the local map job R's job_lapply(local = TRUE) made there"
    )
    parser.add_argument("--folder", help="with --r-script: the folder a job would ship (default: the script's)")
    parser.add_argument("script_args", nargs="*", help="after --: arguments for the R script")
    parser.add_argument(
        "--output",
        type=Path,
        default=local_job.default_output(),
        help="default: out/local-job (with --r-script: out/local-r-job)",
    )
    parser.add_argument(
        "--workers-per-host", type=integer_at_least(1), default=None, help="default: CPUs / hosts, at least 1"
    )
    parser.add_argument("--container", metavar="IMAGE", help="run each host in this image (podman/docker)")
    parser.add_argument("--engine", choices=("podman", "docker"), help="container engine (default: found on PATH)")
    parser.add_argument("--json", action="store_true", help="print one JSON object: the keys of run --json + hosts")
    parser.set_defaults(handler=handle)


DEFAULT_HOSTS = 3
ENGINE_OPTIONS = ("width", "height", "people", "radius", "iterations", "seed", "workers_per_host")


def handle(args: argparse.Namespace) -> int:
    if args.map:
        return handle_map(args)
    args.hosts = DEFAULT_HOSTS if args.hosts is None else args.hosts
    if args.r_script or args.script_args or args.folder:
        return handle_r_script(args)
    from simulation.engine import Params, fresh_seed
    from simulation.job.hosts import default_workers

    for name in ENGINE_OPTIONS[:5]:
        if getattr(args, name) is None:
            setattr(args, name, DEFAULTS[name])
    params = Params(width=args.width, height=args.height, people=args.people, radius=args.radius)
    seed = fresh_seed() if args.seed is None else args.seed
    check_size(params.people, args.iterations)
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
    print(local_job.summary_json(result) if args.json else printable(local_job.describe(result)))
    return 0


def handle_r_script(args: argparse.Namespace) -> int:
    if not args.r_script:
        what = "--folder needs" if args.folder else f"arguments {args.script_args} need"
        raise SimulationError(f"local-job: {what} --r-script")
    given = [name for name in ENGINE_OPTIONS if getattr(args, name) is not None]
    if given:
        raise SimulationError(
            f"local-job: --{given[0].replace('_', '-')} is for the bundled simulation, not --r-script"
        )
    output = (
        args.output
        if args.output != local_job.default_output()
        else local_job.default_output().with_name("local-r-job")
    )
    result = local_job.run_local_r_script(
        args.r_script,
        args.folder,
        args.script_args,
        hosts=args.hosts,
        output=output,
        container=args.container,
        engine=args.engine,
    )
    print(local_job.script_json(result) if args.json else printable(local_job.describe_script(result)))
    return 0
