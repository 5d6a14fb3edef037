"""watch, logs, jobs, stop: following and managing jobs from the command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from simulation.cli.commands.common import platform_options, print_json
from simulation.client import status, watch


def register(subparsers: Any) -> None:
    common, with_json = platform_options(), platform_options(json_flag=True)

    follow = subparsers.add_parser("watch", parents=[with_json], help="follow a job: status, elapsed time, logs")
    follow.add_argument("job", help="the job's name (what submit printed; `jobs` lists them)")
    follow.add_argument("--no-logs", action="store_true", help="status and progress only, no CloudWatch log lines")
    follow.add_argument("--poll", type=float, default=10.0, help="seconds between status checks (default 10)")
    follow.set_defaults(handler=_watch)

    logs = subparsers.add_parser("logs", parents=[common], help="print every host's CloudWatch log of a job")
    logs.add_argument("job", help="the job's name")
    logs.set_defaults(handler=_logs)

    ls = subparsers.add_parser("jobs", parents=[with_json], help="the platform's recent jobs")
    ls.add_argument("--limit", type=int, default=20, help="at most this many, newest first (default 20)")
    ls.add_argument(
        "--status", choices=["InProgress", "Completed", "Failed", "Stopping", "Stopped"], help="only jobs in this state"
    )
    ls.set_defaults(handler=_jobs)

    stop = subparsers.add_parser("stop", parents=[with_json], help="stop a running job")
    stop.add_argument("job", help="the job's name; its finished blocks are kept (submit --resume finishes it)")
    stop.set_defaults(handler=_stop)


def _interruptible(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Ctrl-C while following a job: watch() has already said, in one line, that the job keeps running."""

    def run(args: argparse.Namespace) -> int:
        try:
            return int(handler(args))
        except KeyboardInterrupt:
            return 130

    return run


@_interruptible
def _watch(args: argparse.Namespace) -> int:
    state = watch.watch(args.job, platform=args.platform, logs=not args.no_logs, poll_seconds=args.poll)
    if args.json:
        print_json(state)
    return 0


def _logs(args: argparse.Namespace) -> int:
    if watch.job_logs(args.job, args.platform) == 0:
        print(f"no log lines for {args.job} yet", file=sys.stderr)
    return 0


def _jobs(args: argparse.Namespace) -> int:
    rows = status.list_jobs(args.platform, args.limit, args.status)
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("no jobs", file=sys.stderr)
    for row in rows:
        duration = status.format_duration(row["duration_seconds"])
        reason = f"  {row['failure_reason']}" if row.get("failure_reason") else ""
        kind = f"  {row['kind']}" if row.get("kind") else ""  # map jobs (R's job_lapply, futures)
        print(f"{row['job']:<63} {row['status']:<11} {duration:>9}  {row['created'] or ''}{kind}{reason}")
    return 0


def _stop(args: argparse.Namespace) -> int:
    state = status.stop_job(args.job, args.platform)
    if args.json:
        print_json(state)
    else:
        print(f"{args.job}: {state['status']}")
    return 0
