"""submit, watch, logs, results, sweep, jobs, stop, cost: the job client on the command line.

Each handler only parses, calls simulation.client and prints; `--json` prints one JSON document on stdout
for scripts, while progress and hints go to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from simulation.client import cost, jobs, results, sweep
from simulation.client.config import PLATFORM_ENV


def _common(json_flag: bool = False) -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--platform",
        help=f"platform name: its job config is SSM /<platform>/job-config (default ${PLATFORM_ENV} or simlab)",
    )
    if json_flag:
        parent.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    return parent


def _resources(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--instance-type", help="an allowed ml.* type (default: the platform's default)")
    parser.add_argument("--instance-count", type=float, default=None, help="hosts (default 1; sweep: one per point)")
    parser.add_argument(
        "--volume-size", type=float, default=None, help=f"GB per host (default {jobs.DEFAULT_VOLUME_GB})"
    )
    parser.add_argument("--max-runtime", type=float, default=None, help="seconds before AWS stops the job")
    parser.add_argument("--name", help="a short name for the job (letters, digits, hyphens)")


def _params(parser: argparse.ArgumentParser, sweep_mode: bool = False) -> None:
    kind = str if sweep_mode else float
    plural = " (comma-separated values)" if sweep_mode else ""
    parser.add_argument("--width", type=kind, default=1000, help=f"area width{plural}")
    parser.add_argument("--height", type=kind, default=1000, help=f"area height{plural}")
    parser.add_argument("--people", type=kind, default=1000, help=f"people per iteration{plural}")
    parser.add_argument("--radius", type=kind, default=6, help=f"distance counted as a violation{plural}")
    # strings, not floats: the client parses digits exactly, so a 20-digit seed stays that seed
    parser.add_argument("--iterations", default=1000)
    parser.add_argument("--seed", default=42)


def register(subparsers: Any) -> None:
    common, with_json = _common(), _common(json_flag=True)

    submit = subparsers.add_parser(
        "submit", parents=[with_json], help="run the simulation or an R script as a SageMaker Processing job"
    )
    _params(submit)
    _resources(submit)
    submit.add_argument("--r-script", metavar="SCRIPT", help="run your own R script instead of the bundled simulation")
    submit.add_argument("--folder", help="folder shipped with --r-script (default: the script's folder)")
    submit.add_argument("script_args", nargs="*", help="after --: arguments for the R script")
    submit.add_argument("--wait", action="store_true", help="follow the job until it ends")
    submit.add_argument("--no-logs", action="store_true", help="with --wait: do not stream CloudWatch logs")
    submit.set_defaults(handler=_submit)

    watch = subparsers.add_parser("watch", parents=[with_json], help="follow a job: status, elapsed time, logs")
    watch.add_argument("job")
    watch.add_argument("--no-logs", action="store_true")
    watch.add_argument("--poll", type=float, default=10.0, help="seconds between status checks (default 10)")
    watch.set_defaults(handler=_watch)

    logs = subparsers.add_parser("logs", parents=[common], help="print every host's CloudWatch log of a job")
    logs.add_argument("job")
    logs.set_defaults(handler=_logs)

    res = subparsers.add_parser("results", parents=[with_json], help="download, merge and plot a finished job or sweep")
    res.add_argument("job", help="a job name, or a sweep id")
    res.add_argument("--output", help="local folder (default results/<job>)")
    res.set_defaults(handler=_results)

    sw = subparsers.add_parser("sweep", parents=[with_json], help="a parameter grid as one job or one job per point")
    _params(sw, sweep_mode=True)
    _resources(sw)
    sw.add_argument("--mode", choices=sweep.MODES, default="job", help="job: one multi-host job; jobs: one per point")
    sw.add_argument("--wait", action="store_true", help="wait, then write sweep.csv and sweep.png")
    sw.add_argument("--output", help="with --wait: local folder (default results/<sweep>)")
    sw.set_defaults(handler=_sweep)

    ls = subparsers.add_parser("jobs", parents=[with_json], help="the platform's recent jobs")
    ls.add_argument("--limit", type=int, default=20)
    ls.add_argument("--status", choices=["InProgress", "Completed", "Failed", "Stopping", "Stopped"])
    ls.set_defaults(handler=_jobs)

    stop = subparsers.add_parser("stop", parents=[with_json], help="stop a running job")
    stop.add_argument("job")
    stop.set_defaults(handler=_stop)

    price = subparsers.add_parser("cost", parents=[with_json], help="estimate a job's cost before submitting it")
    price.add_argument("--instance-type", help="default: the platform's default instance type")
    price.add_argument("--instance-count", type=float, default=1)
    duration = price.add_mutually_exclusive_group()
    duration.add_argument("--hours", type=float)
    duration.add_argument("--minutes", type=float)
    price.set_defaults(handler=_cost)


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, sort_keys=True, default=str))


def _submit(args: argparse.Namespace) -> int:
    resources = {
        "instance_type": args.instance_type,
        "instance_count": 1 if args.instance_count is None else args.instance_count,
        "volume_size_gb": args.volume_size,
        "max_runtime_seconds": args.max_runtime,
        "name": args.name,
        "platform": args.platform,
        "wait": args.wait,
        "logs": not args.no_logs,
    }
    if args.r_script:
        job = jobs.submit_r_script(args.r_script, args.folder, args.script_args, **resources)
    else:
        if args.script_args:
            print(f"error: submit: arguments {args.script_args} need --r-script", file=sys.stderr)
            return 2
        job = jobs.submit_simulation(
            args.width, args.height, args.people, args.radius, args.iterations, args.seed, **resources
        )
    if args.json:
        _print_json({"job": job})
    else:
        print(job)
    return 0


def _interruptible(handler: Any) -> Any:
    """Ctrl-C while following a job: watch() has already said, in one line, that the job keeps running."""

    def run(args: argparse.Namespace) -> int:
        try:
            return int(handler(args))
        except KeyboardInterrupt:
            return 130

    return run


@_interruptible
def _watch(args: argparse.Namespace) -> int:
    status = jobs.watch(args.job, platform=args.platform, logs=not args.no_logs, poll_seconds=args.poll)
    if args.json:
        _print_json(status)
    return 0


def _logs(args: argparse.Namespace) -> int:
    if jobs.job_logs(args.job, args.platform) == 0:
        print(f"no log lines for {args.job} yet", file=sys.stderr)
    return 0


def _results(args: argparse.Namespace) -> int:
    summary = results.job_results(args.job, args.output, args.platform)
    if args.json:
        _print_json(summary)
        return 0
    print(describe_summary(summary))
    return 0


def describe_summary(summary: dict[str, Any]) -> str:
    """A few lines a person reads: the mean and its interval, or a sweep's table."""
    if "rows" in summary:
        lines = [f"sweep {summary['sweep']}: {len(summary['rows'])} points -> {summary['csv']}, {summary['png']}"]
        lines.append(f"{'people':>8} {'radius':>7} {'mean':>10} {'95% CI':>23} {'analytic':>10}")
        for row in summary["rows"]:
            lines.append(
                f"{row['people']:>8} {row['radius']:>7g} {row['mean']:>10.5f} "
                f"[{row['ci95_low']:>9.5f}, {row['ci95_high']:>9.5f}] {row['analytic_mean']:>10.5f}"
            )
        return "\n".join(lines)
    if "iterations" not in summary:  # an R script's job
        mean = f"mean {summary['mean']}" if "mean" in summary else "no output_result_mean.txt"
        return f"{summary['job']}: {mean}; files: {', '.join(summary['files'])}"
    low, high = results.ci_of(summary)
    return (
        f"{summary.get('job')}: mean {summary['mean']:.6f} violations per person "
        f"(95% CI {low:.6f} .. {high:.6f}; analytic {summary.get('analytic_mean', float('nan')):.6f})\n"
        f"  {summary['iterations']} iterations, {summary['people']} people, radius {summary['radius']:g}, "
        f"seed {summary['seed']}, hosts {', '.join(summary.get('hosts', []))}"
    )


def _sweep(args: argparse.Namespace) -> int:
    manifest = sweep.run_sweep(
        args.people,
        args.radius,
        args.width,
        args.height,
        args.iterations,
        args.seed,
        mode=args.mode,
        instance_type=args.instance_type,
        instance_count=args.instance_count,
        volume_size_gb=args.volume_size,
        max_runtime_seconds=args.max_runtime,
        name=args.name,
        platform=args.platform,
        wait=args.wait,
        dest=args.output,
    )
    if args.json:
        _print_json(manifest)
    elif "results" in manifest:
        print(describe_summary(manifest["results"]))
    else:
        print(manifest["sweep"])
        print(f"collect it when done: python -m simulation results {manifest['sweep']}", file=sys.stderr)
    return 0


def _jobs(args: argparse.Namespace) -> int:
    rows = jobs.list_jobs(args.platform, args.limit, args.status)
    if args.json:
        _print_json(rows)
        return 0
    if not rows:
        print("no jobs", file=sys.stderr)
    for row in rows:
        duration = jobs.format_duration(row["duration_seconds"])
        reason = f"  {row['failure_reason']}" if row.get("failure_reason") else ""
        print(f"{row['job']:<63} {row['status']:<11} {duration:>9}  {row['created'] or ''}{reason}")
    return 0


def _stop(args: argparse.Namespace) -> int:
    status = jobs.stop_job(args.job, args.platform)
    if args.json:
        _print_json(status)
    else:
        print(f"{args.job}: {status['status']}")
    return 0


def _cost(args: argparse.Namespace) -> int:
    instance_type = args.instance_type
    if instance_type is None:
        from simulation.client.config import load_config

        instance_type = load_config(args.platform).default_instance_type
    hours = args.hours if args.hours is not None else (args.minutes / 60 if args.minutes is not None else 1.0)
    estimate = cost.estimate(instance_type, args.instance_count, hours)
    if args.json:
        _print_json(estimate)
    else:
        print(estimate["text"])
    return 0
