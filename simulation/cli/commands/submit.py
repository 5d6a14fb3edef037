"""submit, sweep: starting jobs from the command line (`cost` prices them first: cost.py).

Each handler only parses, calls simulation.client and prints; `--json` prints one JSON document on stdout
for scripts, while progress and hints go to stderr.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from simulation.cli.commands.common import (
    PARAM_OPTIONS,
    add_param_options,
    add_resource_options,
    platform_options,
    print_json,
    resources_of,
)
from simulation.cli.commands.results import describe_summary
from simulation.client import resume, submit, sweep
from simulation.client.request import choose_seed
from simulation.errors import SimulationError


def register(subparsers: Any) -> None:
    with_json = platform_options(json_flag=True)

    parser = subparsers.add_parser(
        "submit", parents=[with_json], help="run the simulation or an R script as a SageMaker Processing job"
    )
    add_param_options(parser)
    add_resource_options(parser)
    parser.add_argument("--r-script", metavar="SCRIPT", help="run your own R script instead of the bundled simulation")
    parser.add_argument("--folder", help="folder shipped with --r-script (default: the script's folder)")
    parser.add_argument("script_args", nargs="*", help="after --: arguments for the R script")
    parser.add_argument(
        "--resume",
        metavar="JOB",
        help="finish a stopped/failed/timed-out simulation or sweep job: same parameters and seed, its finished "
        "blocks taken over, only the missing ones run (resource options override its resources)",
    )
    parser.add_argument("--wait", action="store_true", help="follow the job until it ends")
    parser.add_argument("--no-logs", action="store_true", help="with --wait: do not stream CloudWatch logs")
    parser.set_defaults(handler=_submit)

    sw = subparsers.add_parser("sweep", parents=[with_json], help="a parameter grid as one job or one job per point")
    add_param_options(sw, sweep_mode=True)
    add_resource_options(sw)
    sw.add_argument("--mode", choices=sweep.MODES, default="job", help="job: one multi-host job; jobs: one per point")
    sw.add_argument("--wait", action="store_true", help="wait, then write sweep.csv and sweep.png")
    sw.add_argument("--output", help="with --wait: local folder (default results/<sweep>)")
    sw.set_defaults(handler=_sweep)


def _submit(args: argparse.Namespace) -> int:
    options = {"resources": resources_of(args), "platform": args.platform, "wait": args.wait, "logs": not args.no_logs}
    if args.resume:
        given = [f"--{name}" for name in PARAM_OPTIONS if getattr(args, name) is not None]
        if args.r_script or args.script_args:
            given.append("--r-script")
        if given:
            raise SimulationError(f"submit: --resume takes the old job's parameters and seed; drop {given[0]}")
        job = resume.resume_job(args.resume, **options)
    elif args.r_script:
        job = submit.submit_r_script(args.r_script, args.folder, args.script_args, **options)
    else:
        if args.script_args:
            print(f"error: submit: arguments {args.script_args} need --r-script", file=sys.stderr)
            return 2
        seed = choose_seed(args.seed)  # drawn here so --json can report it; said first as a fresh one
        job = submit.submit_simulation(
            args.width,
            args.height,
            args.people,
            args.radius,
            args.iterations,
            seed,
            **options,
            seed_drawn=args.seed is None,
        )
        if args.json:
            print_json({"job": job, "seed": seed})
            return 0
    if args.json:
        print_json({"job": job})
    else:
        print(job)
    return 0


def _sweep(args: argparse.Namespace) -> int:
    manifest = sweep.run_sweep(
        args.people,
        args.radius,
        args.width,
        args.height,
        args.iterations,
        args.seed,
        mode=args.mode,
        resources=resources_of(args),
        platform=args.platform,
        wait=args.wait,
        dest=args.output,
    )
    if args.json:
        print_json(manifest)
    elif "results" in manifest:
        print(describe_summary(manifest["results"]))
    else:
        print(manifest["sweep"])
        print(f"collect it when done: python -m simulation results {manifest['sweep']}", file=sys.stderr)
    return 0
