"""Parameter sweeps: a grid of (width, height, people, radius) as one multi-instance job or one job per point.

Both modes use the same seed and iterations for every point, so they give the same numbers. A small
manifest at s3://bucket/jobs/<sweep-id>/sweep.json records the points and jobs, so `results <sweep-id>`
can collect a sweep later from any machine.
"""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from simulation.client import aws, jobs
from simulation.client.config import JobConfig, load_config
from simulation.client.results import SUMMARY_FILE, ci_of, download_prefix, summarize_run
from simulation.errors import SimulationError

MODES = ("job", "jobs")
MANIFEST = "sweep.json"
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
        value = jobs.as_int(item, what, 1) if integer else jobs.as_float(item, what)
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
        jobs.check_params(point["width"], point["height"], point["people"], point["radius"])
    return points


def manifest_key(sweep_id: str) -> str:
    return f"jobs/{sweep_id}/{MANIFEST}"


def read_manifest(config: JobConfig, name: str) -> dict[str, Any] | None:
    s3 = aws.client("s3", config.region)
    try:
        body = aws.call_with_backoff(
            lambda: s3.get_object(Bucket=config.bucket, Key=manifest_key(name))["Body"].read(),
            f"reading the sweep manifest of {name}",
            passthrough=frozenset({"NoSuchKey", "404", "AccessDenied"}),
        )
    except ClientError:
        return None
    return json.loads(body)


def run_sweep(
    people: Any,
    radius: Any,
    width: Any = 1000,
    height: Any = 1000,
    iterations: Any = 1000,
    seed: Any = 42,
    *,
    mode: str = "job",
    instance_type: str | None = None,
    instance_count: Any = None,
    volume_size_gb: Any = None,
    max_runtime_seconds: Any = None,
    name: str | None = None,
    platform: str | None = None,
    wait: bool = False,
    logs: bool = False,
    dest: str | None = None,
) -> dict[str, Any]:
    """Submit a sweep; returns its manifest, plus `results` (the table) when `wait`."""
    if mode not in MODES:
        raise SimulationError(f"sweep mode must be one of {', '.join(MODES)}, got {mode!r}")
    points = grid(width, height, people, radius)
    iterations = jobs.as_int(iterations, "iterations", 1, jobs.MAX_ITERATIONS)
    seed = jobs.as_int(seed, "seed", 0)
    base = jobs.check_name_part(name) if name else "sweep"
    if instance_count is not None:
        jobs.as_int(instance_count, "instance count", 1)
    config = load_config(platform)
    sweep_id = jobs.make_job_name(config.name_prefix, base, reserve=len(_point_suffix(0)))
    manifest: dict[str, Any] = {
        "sweep": sweep_id,
        "mode": mode,
        "seed": seed,
        "iterations": iterations,
        "points": points,
        "jobs": [],
    }
    if mode == "job":
        count = instance_count if instance_count is not None else min(len(points), config.max_instances)
        spec = jobs.build_spec(
            config,
            base=base,
            arguments=["sweep", "--spec", f"{jobs.CONFIG_DIR}/sweep.json"],
            instance_type=instance_type,
            instance_count=count,
            volume_size_gb=volume_size_gb,
            max_runtime_seconds=max_runtime_seconds,
            sweep_id=sweep_id,
            job_name=sweep_id,
        )
        spec = jobs.with_inputs(spec, (("config", jobs.s3_uri(config, sweep_id, "config"), jobs.CONFIG_DIR),))
        specs = [spec]
    else:
        specs = [
            jobs.build_spec(
                config,
                base=base,
                arguments=jobs.simulate_arguments(p["width"], p["height"], p["people"], p["radius"], iterations, seed),
                instance_type=instance_type,
                instance_count=1 if instance_count is None else instance_count,
                volume_size_gb=volume_size_gb,
                max_runtime_seconds=max_runtime_seconds,
                sweep_id=sweep_id,
                job_name=_point_job(sweep_id, index),
            )
            for index, p in enumerate(points)
        ]
    for spec in specs:  # every request SageMaker would refuse fails here, before anything is uploaded
        jobs.check_spec(config, spec)
    if mode == "job":
        spec_doc = {"seed": seed, "iterations": iterations, "points": points}
        jobs.upload_bytes(config, json.dumps(spec_doc, indent=2).encode(), f"jobs/{sweep_id}/config/sweep.json")
    manifest["jobs"] = [s.job_name for s in specs]
    # The manifest goes first: a sweep whose submission breaks half-way can still be found and collected.
    jobs.upload_bytes(config, json.dumps(manifest, indent=2).encode(), manifest_key(sweep_id))
    for spec in specs:
        jobs.create_job(config, spec)
        jobs.announce(config, spec)
    if wait:
        for job in manifest["jobs"]:
            jobs.watch(job, config=config, logs=logs)
        manifest["results"] = sweep_results(config, manifest, Path(dest) if dest else Path("results") / sweep_id)
    return manifest


def _point_suffix(index: int) -> str:
    return f"-p{index:03d}"


def _point_job(sweep_id: str, index: int) -> str:
    return jobs.check_name_part(sweep_id + _point_suffix(index))


def _analytic(point: dict[str, Any]) -> float:
    from simulation.engine import Params, analytic_mean

    return float(analytic_mean(Params(**point)))


def sweep_results(config: JobConfig, manifest: dict[str, Any], dest: Path) -> dict[str, Any]:
    """Merge every point of a finished sweep; write sweep.csv, sweep.png and summary.json into dest."""
    from simulation.client import plots
    from simulation.client.results import check_finished

    sweep_id = manifest["sweep"]
    points = manifest["points"]
    for job in manifest["jobs"]:
        check_finished(job, config)
    rows = []
    if manifest["mode"] == "job":
        (job,) = manifest["jobs"]
        download_prefix(config, jobs.s3_prefix(job, "output"), dest / "output")
        sources = [(job, dest / "output" / "points" / f"point-{i:03d}") for i in range(len(points))]
    else:
        sources = []
        for index, job in enumerate(manifest["jobs"]):
            target = dest / "output" / "points" / f"point-{index:03d}"
            download_prefix(config, jobs.s3_prefix(job, "output"), target)
            sources.append((job, target))
    for index, (point, (job, directory)) in enumerate(zip(points, sources, strict=True)):
        if not directory.is_dir():
            raise SimulationError(f"sweep {sweep_id}: no output for point {index} ({point}) in {directory}")
        summary = summarize_run(
            directory, dest / "points" / f"point-{index:03d}", f"{job} point {index}", {"job": job, "point": index}
        )
        low, high = ci_of(summary)
        rows.append(
            {
                "point": index,
                "job": job,
                **point,
                "iterations": manifest["iterations"],
                "seed": manifest["seed"],
                "mean": float(summary["mean"]),
                "se": float(summary["se"]),
                "ci95_low": low,
                "ci95_high": high,
                "analytic_mean": _analytic(point),
            }
        )
    csv_path = dest / "sweep.csv"
    with csv_path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    png_path = plots.sweep_plot(rows, _analytic, dest / "sweep.png", f"{sweep_id}: mean and 95% CI")
    result = {"sweep": sweep_id, "mode": manifest["mode"], "rows": rows, "csv": str(csv_path), "png": str(png_path)}
    (dest / SUMMARY_FILE).write_text(json.dumps(result, indent=2) + "\n")
    return result


def collect(name: str, dest: str | None = None, platform: str | None = None) -> dict[str, Any]:
    config = load_config(platform)
    manifest = read_manifest(config, name)
    if manifest is None:
        raise SimulationError(f"no sweep named {name} (no s3://{config.bucket}/{manifest_key(name)})")
    return sweep_results(config, manifest, Path(dest) if dest else Path("results") / name)
