"""results: download, merge and plot a finished job or sweep from the command line."""

from __future__ import annotations

import argparse
from typing import Any

from simulation.cli.commands.common import platform_options, print_json
from simulation.client import results
from simulation.job import map_records, report
from simulation.text import printable


def register(subparsers: Any) -> None:
    res = subparsers.add_parser(
        "results",
        parents=[platform_options(json_flag=True)],
        help="download, merge and plot a finished job or sweep",
    )
    res.add_argument("job", help="a job name, or a sweep id")
    res.add_argument("--output", help="local folder (default results/<job>)")
    res.set_defaults(handler=_results)


def _results(args: argparse.Namespace) -> int:
    summary = results.job_results(args.job, args.output, args.platform)
    if args.json:
        print_json(summary)
        return 0
    print(printable(describe_summary(summary)))
    return 0


def describe_summary(summary: dict[str, Any]) -> str:
    """A few lines a person reads: the mean and its interval, a sweep's table, or a map job's progress."""
    if summary.get("kind") == map_records.KIND:
        return map_records.describe(summary, str(summary.get("job")))
    if "rows" in summary:
        lines = [f"sweep {summary['sweep']}: {len(summary['rows'])} points -> {summary['csv']}, {summary['png']}"]
        lines.append(f"{'people':>8} {'radius':>7} {'mean':>10} {'95% CI':>23} {'analytic':>10}")
        for row in summary["rows"]:
            lines.append(
                f"{row['people']:>8} {row['radius']:>7g} {row['mean']:>10.5f} "
                f"[{row['ci95_low']:>9.5f}, {row['ci95_high']:>9.5f}] {row['analytic_mean']:>10.5f}"
            )
        return "\n".join(lines)
    if "iterations" not in summary:  # an R script's job that wrote no per-iteration files
        mean = f"mean {summary['mean']}" if "mean" in summary else "no output_result_mean.txt"
        return f"{summary['job']}: {mean}; files: {', '.join(summary['files'])}"
    # the one format of run, local-job and merge, after the job's name
    return f"{summary.get('job')}:\n" + report.describe(summary)
