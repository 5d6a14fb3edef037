"""`local-job`: the processing job's hosts as local processes (or containers), gathered, merged, printed."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from simulation import defaults
from simulation.cli.commands.local_map import handle_map
from simulation.cli.commands.run import starting
from simulation.errors import JobFailed, SimulationError
from simulation.job import local_job, local_script
from simulation.options import RUN_OPTIONS, add_engine_options, integer_at_least
from simulation.text import printable

if TYPE_CHECKING:
    from simulation.engine import Params


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
        help=f"emulated instances algo-1..N (default {local_job.DEFAULT_HOSTS}, or the run's blocks if fewer; at "
        f"most the run's blocks and {local_job.MAX_HOSTS}; --map: as the folder last ran)",
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
        help="folder for the gathered output (default: out/local-job/<parameters>-seed<seed>, the same for the "
        "same run; with --r-script out/local-r-job/<script>-<time>)",
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
    if args.r_script or args.script_args or args.folder:
        return handle_r_script(args)
    from simulation.engine import Params, block_count, fresh_seed

    values = defaults.fill(**{name: getattr(args, name) for name in defaults.RUN})
    iterations = values.pop("iterations")
    params = Params(**values)
    defaults.check_local_size(params.people, iterations)
    hosts = local_job.choose_hosts(args.hosts, block_count(iterations, params.people))
    seed = fresh_seed() if args.seed is None else args.seed
    output = args.output or local_job.default_output(params, iterations, seed)
    first = starting(
        "local-job", seed, args.seed is None, f"{hosts} host(s), output {output}", again="repeat or resume"
    )
    workers = args.workers_per_host or max(1, defaults.usable_cores() // hosts)
    try:
        result = local_job.run_local_job(
            params,
            iterations,
            seed,
            hosts=hosts,
            output=output,
            workers_per_host=workers,
            container=args.container,
            engine=args.engine,
            announce=lambda: print(first, file=sys.stderr, flush=True),
        )
    except JobFailed as error:
        raise JobFailed(f"{error}; resume with: {resume_command(args, params, iterations, hosts, seed)}") from None
    print(local_job.summary_json(result) if args.json else printable(local_job.describe(result)))
    return 0


def resume_command(args: argparse.Namespace, params: Params, iterations: int, hosts: int, seed: int) -> str:
    """The command that finishes this very run (`local_job.resume_call`), with the options given here."""
    given = {option: getattr(args, option) for option in ("output", "workers_per_host", "container", "engine")}
    return local_job.resume_call(params, iterations, seed, hosts, given)


def handle_r_script(args: argparse.Namespace) -> int:
    if not args.r_script:
        what = "--folder needs" if args.folder else f"arguments {args.script_args} need"
        raise SimulationError(f"local-job: {what} --r-script")
    given = [name for name in ENGINE_OPTIONS if getattr(args, name) is not None]
    if given:
        raise SimulationError(
            f"local-job: --{given[0].replace('_', '-')} is for the bundled simulation, not --r-script"
        )
    hosts = args.hosts if args.hosts is not None else local_job.DEFAULT_HOSTS
    result = local_script.run_local_r_script(
        args.r_script,
        args.folder,
        args.script_args,
        hosts=hosts,
        output=args.output or local_script.default_script_output(args.r_script),
        container=args.container,
        engine=args.engine,
    )
    print(local_script.script_json(result) if args.json else printable(local_script.describe_script(result)))
    return 0
