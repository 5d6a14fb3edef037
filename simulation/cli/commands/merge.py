"""`merge DIR`: the partial results of any number of hosts (a job's downloaded output prefix) -> one result."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from simulation.text import printable


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "merge",
        help="merge a job's output folder (blocks of any number of hosts) into summary.json",
        description=__doc__.splitlines()[0],
    )
    parser.add_argument("directory", type=Path, help="folder holding run.json and blocks/ (or a sweep's points/)")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    parser.add_argument("--no-write", action="store_true", help="only print; leave the folder untouched")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from simulation.job import merge, records

    record = records.read_record(args.directory)
    if record["kind"] == "sweep":
        points = merge.merge_sweep(args.directory)
        if not args.no_write:
            merge.write_sweep_result(args.directory, points)
        summaries = [p.summary for p in points]
        if args.json:
            print(json.dumps({"points": summaries}, sort_keys=True))
        else:
            for i, s in enumerate(summaries):
                print(printable(f"point {i:03d}: {_line(s)}"))
        return 0
    merged = merge.merge_output(args.directory)
    if not args.no_write:
        merge.write_result(args.directory, merged)
    print(json.dumps(merged.summary, sort_keys=True) if args.json else printable(_line(merged.summary)))
    return 0


def _line(s: dict[str, Any]) -> str:
    spread = f" ± {1.96 * s['se']:.6f} (95%)" if s["se"] is not None else ""
    return (
        f"mean {s['mean']:.6f}{spread} violations per person; {s['iterations']} iterations, "
        f"{s['blocks']} blocks from {len(s['hosts'])} host(s) {', '.join(s['hosts'])}; "
        f"{s['people']} people in {s['width']:g} x {s['height']:g}, radius {s['radius']:g}, seed {s['seed']}"
    )
