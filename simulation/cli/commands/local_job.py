"""`local-job`: the processing job's hosts as local processes (or containers), gathered, merged, printed."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from simulation.cli.commands.run import DEFAULTS, check_size, exact, integer_at_least, positive_float, starting
from simulation.errors import JobFailed, SimulationError
from simulation.job import local_job, local_script
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
        help=f"emulated instances algo-1..N (default {local_job.DEFAULT_HOSTS}, at most the run's blocks and "
        f"{local_job.MAX_HOSTS})",
    )
    # the same engine options, types and defaults (simulation.defaults) as `run`; None until filled in, so
    # --r-script can tell that one was given
    parser.add_argument("--width", type=positive_float, help=f"area width (default {DEFAULTS['width']:g})")
    parser.add_argument("--height", type=positive_float, help=f"area height (default {DEFAULTS['height']:g})")
    parser.add_argument("--people", type=integer_at_least(2), help=f"people (default {DEFAULTS['people']})")
    parser.add_argument("--radius", type=positive_float, help=f"distance radius (default {DEFAULTS['radius']:g})")
    parser.add_argument("--iterations", type=integer_at_least(1), help=f"iterations (default {DEFAULTS['iterations']})")
    parser.add_argument(
        "--seed", type=integer_at_least(0), help="default: fresh entropy, printed first (pass it again to resume)"
    )
    parser.add_argument("--r-script", metavar="SCRIPT", help="run your own R script on each host instead")
    parser.add_argument("--folder", help="with --r-script: the folder a job would ship (default: the script's)")
    parser.add_argument("script_args", nargs="*", help="after --: arguments for the R script")
    parser.add_argument(
        "--output",
        type=Path,
        help="folder for the gathered output (default: out/local-job/<parameters>-seed<seed>, the same for the "
        "same run; with --r-script out/local-r-job/<script>-<time>)",
    )
    parser.add_argument(
        "--workers-per-host", type=integer_at_least(1), default=None, help="default: CPUs / hosts, at least 1"
    )
    parser.add_argument("--container", metavar="IMAGE", help="run each host in this image (podman/docker)")
    parser.add_argument("--engine", choices=("podman", "docker"), help="container engine (default: found on PATH)")
    parser.add_argument("--json", action="store_true", help="print one JSON object: the keys of run --json + hosts")
    parser.set_defaults(handler=handle)


ENGINE_OPTIONS = ("width", "height", "people", "radius", "iterations", "seed", "workers_per_host")


def handle(args: argparse.Namespace) -> int:
    if args.r_script or args.script_args or args.folder:
        return handle_r_script(args)
    from simulation.engine import Params, block_count, fresh_seed
    from simulation.job.hosts import default_workers

    for name in ENGINE_OPTIONS[:5]:
        if getattr(args, name) is None:
            setattr(args, name, DEFAULTS[name])
    params = Params(width=args.width, height=args.height, people=args.people, radius=args.radius)
    check_size(params.people, args.iterations)
    blocks = block_count(args.iterations, params.people)
    hosts = args.hosts if args.hosts is not None else min(local_job.DEFAULT_HOSTS, blocks)
    local_job.check_hosts(hosts, blocks)
    seed = fresh_seed() if args.seed is None else args.seed
    output = args.output or local_job.default_output(params, args.iterations, seed)
    first = starting(
        "local-job", seed, args.seed is None, f"{hosts} host(s), output {output}", again="repeat or resume"
    )
    # os.sched_getaffinity is Linux-only; default_workers falls back to os.cpu_count() (macOS)
    workers = args.workers_per_host or max(1, default_workers() // hosts)
    try:
        result = local_job.run_local_job(
            params,
            args.iterations,
            seed,
            hosts=hosts,
            output=output,
            workers_per_host=workers,
            container=args.container,
            engine=args.engine,
            announce=lambda: print(first, file=sys.stderr, flush=True),
        )
    except JobFailed as error:
        raise JobFailed(f"{error}; resume with: {resume_command(args, hosts, seed)}") from None
    print(local_job.summary_json(result) if args.json else printable(local_job.describe(result)))
    return 0


def resume_command(args: argparse.Namespace, hosts: int, seed: int) -> str:
    """The command that finishes this very run: every value spelled out, the seed included (an unseeded command
    would draw another seed, hence another run); its default output folder is named by the same values."""
    words = ["python", "-m", "simulation", "local-job", "--hosts", str(hosts)]
    words += ["--width", exact(args.width), "--height", exact(args.height), "--people", str(args.people)]
    words += ["--radius", exact(args.radius), "--iterations", str(args.iterations), "--seed", str(seed)]
    for option in ("output", "workers_per_host", "container", "engine"):
        if getattr(args, option) is not None:
            words += [f"--{option.replace('_', '-')}", str(getattr(args, option))]
    return shlex.join(words)


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
