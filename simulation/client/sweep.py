"""Parameter sweeps: a grid of (width, height, people, radius) as one multi-instance job or one job per point.

Both modes use the same seed and iterations for every point, so they give the same numbers. Sharing the seed
is a decision: common random numbers. Block k of every point draws from the same stream, so points with the same
number of people see the same uniform draws, scaled to their area and judged against their radius; the
difference between two points then has a much smaller variance than with independent streams, which is what a
sweep is for. The price: points are not independent samples, so do not pool them or test them against each
other as if they were. The seed is fresh entropy unless given, and recorded in the manifest. A small
manifest at s3://bucket/jobs/<sweep-id>/sweep.json records the points and jobs, so `results <sweep-id>`
(`results.collect_sweep`) can collect a sweep later from any machine.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from simulation import defaults
from simulation.client import results
from simulation.client.config import JobConfig, load_config
from simulation.client.request import (
    JobSpec,
    build_spec,
    check_params,
    check_spec,
    choose_seed,
    make_job_name,
    say_fresh_seed,
    simulate_arguments,
)
from simulation.client.resources import Resources
from simulation.client.submit import announce, create_job, upload_bytes
from simulation.client.values import MAX_ITERATIONS, as_float, as_int, check_name_part
from simulation.client.watch import watch
from simulation.errors import SimulationError
from simulation.job import layout

MODES = ("job", "jobs")
MAX_POINTS = 500


def parse_values(values: Any, what: str, integer: bool = False) -> list[float] | list[int]:
    """ "250,500,1000", 6, [3, 6] or an R vector -> a list of numbers, duplicates dropped, order kept."""
    if isinstance(values, str):
        items: Iterable[Any] = [v for v in values.replace(" ", "").split(",") if v]
    elif isinstance(values, Iterable):
        items = list(values)
    else:
        items = [values]
    parsed: list[Any] = []
    for item in items:
        value = as_int(item, what, 1) if integer else as_float(item, what)
        if value not in parsed:
            parsed.append(value)
    if not parsed:
        raise SimulationError(f"{what}: give at least one value")
    return parsed


def grid(width: Any, height: Any, people: Any, radius: Any) -> list[dict[str, Any]]:
    """The cartesian product, every point validated by the engine before anything is submitted."""
    axes = (
        parse_values(width, "width"),
        parse_values(height, "height"),
        parse_values(people, "people", integer=True),
        parse_values(radius, "radius"),
    )
    points = [{"width": w, "height": h, "people": n, "radius": r} for w, h, n, r in itertools.product(*axes)]
    if len(points) > MAX_POINTS:
        raise SimulationError(f"the grid has {len(points)} points; at most {MAX_POINTS} per sweep")
    for point in points:
        check_params(point["width"], point["height"], int(point["people"]), point["radius"])
    return points


def _point_suffix(index: int) -> str:
    return f"-p{index:03d}"


def one_job(config: JobConfig, manifest: dict[str, Any], resources: Resources) -> list[JobSpec]:
    """Mode "job": one job whose hosts share the blocks of every point; its spec is an input file."""
    sweep_id = manifest["sweep"]
    spec = build_spec(
        config,
        resources,
        base="sweep",
        arguments=["sweep", "--spec", layout.SWEEP_SPEC_PATH],
        default_count=min(len(manifest["points"]), config.max_instances),
        sweep_id=sweep_id,
        seed=manifest["seed"],
        job_name=sweep_id,
    )
    return [spec.with_input(config, layout.CONFIG_PART, layout.CONFIG_DIR)]


def job_per_point(config: JobConfig, manifest: dict[str, Any], resources: Resources) -> list[JobSpec]:
    """Mode "jobs": one `simulate` job per point, named `<sweep>-pNNN`."""
    sweep_id = manifest["sweep"]
    return [
        build_spec(
            config,
            resources,
            base="sweep",
            arguments=simulate_arguments(
                p["width"], p["height"], p["people"], p["radius"], manifest["iterations"], manifest["seed"]
            ),
            sweep_id=sweep_id,
            seed=manifest["seed"],
            job_name=check_name_part(sweep_id + _point_suffix(index)),
        )
        for index, p in enumerate(manifest["points"])
    ]


def run_sweep(
    people: Any = None,
    radius: Any = None,
    width: Any = None,
    height: Any = None,
    iterations: Any = None,
    seed: Any = None,
    *,
    mode: str = "job",
    resources: Resources | Mapping[str, Any] | None = None,
    platform: str | None = None,
    wait: bool = False,
    logs: bool = False,
    dest: str | None = None,
) -> dict[str, Any]:
    """Submit a sweep; returns its manifest, plus `results` (the table) when `wait`."""
    if mode not in MODES:
        raise SimulationError(f"sweep mode must be one of {', '.join(MODES)}, got {mode!r}")
    values = defaults.fill(width=width, height=height, people=people, radius=radius, iterations=iterations)
    points = grid(values["width"], values["height"], values["people"], values["radius"])
    iterations = as_int(values["iterations"], "iterations", 1, MAX_ITERATIONS)
    fresh, seed = seed is None, choose_seed(seed)  # one seed for every point: common random numbers (module docstring)
    chosen = Resources.of(resources)
    config = load_config(platform)
    sweep_id = make_job_name(config.name_prefix, chosen.name or "sweep", reserve=len(_point_suffix(0)))
    manifest: dict[str, Any] = {
        "sweep": sweep_id,
        "mode": mode,
        "seed": seed,
        "iterations": iterations,
        "points": points,
        "jobs": [],
    }
    specs = (one_job if mode == "job" else job_per_point)(config, manifest, chosen)
    for spec in specs:  # every request SageMaker would refuse fails here, before anything is uploaded
        check_spec(config, spec)
    if mode == "job":
        spec_doc = {"seed": seed, "iterations": iterations, "points": points}
        upload_bytes(config, json.dumps(spec_doc, indent=2).encode(), layout.sweep_spec_key(sweep_id))
    manifest["jobs"] = [s.job_name for s in specs]
    if fresh:
        say_fresh_seed(seed)  # the first line, before anything is created
    # The manifest goes first: a sweep whose submission breaks half-way can still be found and collected.
    upload_bytes(config, json.dumps(manifest, indent=2).encode(), layout.sweep_manifest_key(sweep_id))
    for spec in specs:
        create_job(config, spec)
        announce(config, spec)
    if wait:
        for job in manifest["jobs"]:
            watch(job, config=config, logs=logs)
        target = Path(dest) if dest else Path("results") / sweep_id
        manifest["results"] = results.sweep_results(config, manifest, target)
    return manifest
