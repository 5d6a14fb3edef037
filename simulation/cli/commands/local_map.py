"""`local-job --map JOB_DIR`: run, or resume, a local map job that R's job_lapply(local = TRUE) prepared."""

from __future__ import annotations

import argparse
import dataclasses

from simulation.errors import SimulationError
from simulation.job import local_map, map_records
from simulation.text import printable

# the options that mean something for a map job; the rest are the bundled simulation's or an R script's
MAP_OPTIONS = ("hosts", "workers_per_host", "container", "engine")
OTHER_OPTIONS = ("width", "height", "people", "radius", "iterations", "seed", "r_script", "folder", "script_args")


def handle_map(args: argparse.Namespace) -> int:
    given = [name for name in OTHER_OPTIONS if getattr(args, name, None)]
    if given:
        raise SimulationError(f"local-job: --{given[0].replace('_', '-')} is not for --map (a map job's folder)")
    job_dir = args.map
    settings = local_map.settings_of(job_dir)
    changes = {
        "hosts": args.hosts,
        "cores_per_host": args.workers_per_host,
        "container": args.container,
        "engine": args.engine,
    }
    settings = dataclasses.replace(settings, **{k: v for k, v in changes.items() if v is not None})
    summary = local_map.run_local_map(job_dir, settings)
    print(local_map.summary_json(summary) if args.json else printable(map_records.describe(summary, str(job_dir))))
    return 0
