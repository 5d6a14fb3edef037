"""`merge DIR`: the partial results of any number of hosts (a job's downloaded output prefix) -> one result."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from simulation.text import printable


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "merge",
        help="merge a job's output folder (blocks of any number of hosts) into summary.json, iterations.csv and "
        "histogram.png",
        description=__doc__.splitlines()[0],
    )
    parser.add_argument("directory", type=Path, help="folder holding run.json and blocks/ (or a sweep's points/)")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    parser.add_argument("--no-write", action="store_true", help="only print; leave the folder untouched")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from simulation.job import layout, merge, records, report

    record = records.read_record(args.directory)
    if record["kind"] == "sweep":
        points = merge.merge_sweep(args.directory)
        if not args.no_write:
            for i, point in enumerate(points):
                report.write_merged(layout.point_dir(args.directory, i), point)
            records.write_json(args.directory / layout.SUMMARY_FILE, {"points": [p.summary for p in points]})
        summaries = [p.summary for p in points]
        if args.json:
            print(json.dumps({"points": summaries}, sort_keys=True))
        else:
            for i, s in enumerate(summaries):
                print(printable(f"point {i:03d}: " + report.describe(s)))
        return 0
    merged = merge.merge_output(args.directory)
    files = [] if args.no_write else report.write_merged(args.directory, merged)
    if args.json:
        print(json.dumps(merged.summary, sort_keys=True))
    else:
        print(printable(report.describe(merged.summary, None if args.no_write else args.directory, files)))
    return 0
