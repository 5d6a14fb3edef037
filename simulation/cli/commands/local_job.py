"""`local-job`: the processing job's hosts as local processes (or containers), gathered, merged, printed."""

from __future__ import annotations

import argparse
from pathlib import Path

from simulation import defaults
from simulation.cli.commands.local_map import handle_map
from simulation.errors import SimulationError
from simulation.job import local_job
from simulation.options import RUN_OPTIONS, add_engine_options, integer_at_least
from simulation.text import printable


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "local-job",
        help="run the Processing job's entrypoint as N emulated hosts on this machine",
        description=local_job.__doc__.splitlines()[0],
    )
    parser.add_argument(
        "--hosts",
        type=integer_at_least(1),
        default=None,  # None until filled in, so that --map can tell that it was given
        help=f"emulated instances algo-1..N (default {local_job.DEFAULT_HOSTS}; --map: as the folder last ran)",
    )
    # the engine options of `run` (simulation.options); None until filled in, so --r-script can tell that one
    # was given
    add_engine_options(parser, RUN_OPTIONS)
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
        help=f"default: {local_job.default_output()} (with --r-script: {local_job.default_output(script=True)})",
    )
    parser.add_argument(
        "--workers-per-host", type=integer_at_least(1), default=None, help="default: usable cores / hosts, at least 1"
    )
    parser.add_argument("--container", metavar="IMAGE", help="run each host in this image (podman/docker)")
    parser.add_argument("--engine", choices=("podman", "docker"), help="container engine (default: found on PATH)")
    parser.add_argument("--json", action="store_true", help="print one JSON object: the keys of run --json + hosts")
    parser.set_defaults(handler=handle)


ENGINE_OPTIONS = (*RUN_OPTIONS, "workers_per_host")


def handle(args: argparse.Namespace) -> int:
    # R and Python callers run the same: simulation.client.local (which this cannot import: it needs no boto3)
    if args.map:
        return handle_map(args)
    args.hosts = local_job.DEFAULT_HOSTS if args.hosts is None else args.hosts
    if args.r_script or args.script_args or args.folder:
        return handle_r_script(args)
    from simulation.engine import Params, fresh_seed

    values = defaults.fill(**{name: getattr(args, name) for name in defaults.RUN})
    iterations = values.pop("iterations")
    params = Params(**values)
    seed = fresh_seed() if args.seed is None else args.seed
    defaults.check_local_size(params.people, iterations)
    workers = args.workers_per_host or max(1, defaults.usable_cores() // max(args.hosts, 1))
    result = local_job.run_local_job(
        params,
        iterations,
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
    output = args.output if args.output != local_job.default_output() else local_job.default_output(script=True)
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
