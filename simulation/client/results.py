"""Fetch a finished job's (or sweep's) output prefix, merge it with the processing code's merge, summarize, plot.

Results go to a local folder (default results/<job>): per run the same files local-job and merge write
(summary.json, output_result_mean.txt, iterations.csv, histogram.png: `simulation.job.report`), the job's output
prefix in output/; a sweep adds sweep.csv, sweep.png and one points/point-NNN/ folder per point.
"""

from __future__ import annotations

import csv
import functools
import json
import shutil
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from simulation.client import aws, plots
from simulation.client.config import JobConfig, load_config
from simulation.client.map import is_map, map_results
from simulation.client.request import s3_uri
from simulation.client.status import check_finished, describe
from simulation.engine import Params, analytic_mean
from simulation.errors import SimulationError
from simulation.job import layout, local_map, records, report
from simulation.job.merge import merge_output
from simulation.text import hint, r_string

SUMMARY_FILE = layout.SUMMARY_FILE  # the local folder's summary has the layout's name for one
PLOT_FILE = layout.PLOT_FILE


def download_prefix(config: JobConfig, prefix: str, dest: Path) -> list[Path]:
    """Every object under s3://bucket/prefix into dest, keeping the relative layout."""
    s3 = aws.client("s3", config.region)
    paginator = s3.get_paginator("list_objects_v2")
    root = dest.resolve()
    files = []

    def pages() -> list[dict[str, Any]]:
        return list(paginator.paginate(Bucket=config.bucket, Prefix=prefix))

    for page in aws.call_with_backoff(pages, f"listing s3://{config.bucket}/{prefix}"):
        for item in page.get("Contents", []):
            relative = item["Key"][len(prefix) :]
            if not relative or relative.endswith("/") or _temporary(relative):
                continue
            target = (root / relative).resolve()
            if root not in target.parents:  # a key like "../x" must not write outside dest
                raise SimulationError(f"refusing S3 key outside the output prefix: {item['Key']}")
            target.parent.mkdir(parents=True, exist_ok=True)
            aws.call_with_backoff(
                functools.partial(s3.download_file, config.bucket, item["Key"], str(target)),
                f"downloading s3://{config.bucket}/{item['Key']}",
            )
            files.append(target)
    return files


def _temporary(relative: str) -> bool:
    """A hidden name (`.block-000007.json.x1y2.tmp`): an atomic write's temporary file, which a continuous upload
    may have caught before its rename. Never a result."""
    return any(part.startswith(".") for part in relative.split("/"))


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


def ci_of(summary: dict[str, Any]) -> tuple[float, float]:
    """The 95 % interval; a one-iteration run has none (the engine reports None), so it collapses to the mean."""
    ci = summary.get("ci95")
    if isinstance(ci, (list, tuple)) and len(ci) == 2 and None not in ci:
        return float(ci[0]), float(ci[1])
    mean = float(summary["mean"])
    return mean, mean


def summarize_run(directory: Path, dest: Path, title: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Merge one run's output layout (one job, or one sweep point) and write into `dest` what local-job and merge
    write: summary.json, output_result_mean.txt, iterations.csv and histogram.png (`simulation.job.report`)."""
    merged = merge_output(directory)
    dest.mkdir(parents=True, exist_ok=True)
    report.write_merged(dest, merged, extra)
    return {**(extra or {}), **merged.summary}


def summarize_files(directory: Path, dest: Path, extra: dict[str, Any]) -> dict[str, Any]:
    """A user's R script job: no blocks to merge. Per-iteration values its hosts wrote to iterations/<host>.csv
    become the same outputs as a simulation's; otherwise its files are listed and the mean it wrote is read."""
    files = sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file())
    mean_file = directory / layout.MEAN_FILE
    # a job from the SDK path (script_processor) has its outputs one level down, in output-1/ etc.
    below = sorted(directory.glob(f"*/{layout.MEAN_FILE}"))
    if not mean_file.is_file() and len(below) == 1:
        mean_file = below[0]
    if mean_file.is_file():  # the script's own number goes next to the summary, as local-job keeps it
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(mean_file, dest / layout.MEAN_FILE)
    combined = report.combine_script_output(directory, dest)
    if combined is not None:
        summary = {**extra, **combined[0], "files": files}
        records.write_json(dest / SUMMARY_FILE, summary)
        return summary
    summary = {**extra, "files": files}
    if mean_file.is_file():
        text = mean_file.read_text().split()
        try:
            summary["mean"] = float(text[0])
        except (IndexError, ValueError):
            summary["mean_text"] = mean_file.read_text()[:200]
    dest.mkdir(parents=True, exist_ok=True)
    (dest / SUMMARY_FILE).write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return summary


def job_results(job: str, dest: str | None = None, platform: str | None = None) -> dict[str, Any]:
    """Download and merge a completed job (or a sweep); returns the summary written to dest/summary.json."""
    target = Path(dest) if dest else Path("results") / job
    if target.exists() and not target.is_dir():
        given = hint(f"--output {target}", f"dest = {r_string(target)}")
        raise SimulationError(f"{given} is a file, not a folder; name a folder (it is created if missing)")
    if local_map.is_local_job(job):  # R's job_lapply(local = TRUE) names its jobs by their folder
        return local_map.local_results(job)
    config = load_config(platform)
    manifest = read_manifest(config, job)
    if manifest is not None:
        return sweep_results(config, manifest, target)
    if is_map(describe(job, config)):  # progress and failures while it runs, the values once it ended
        return map_results(job, target, config)
    status = check_finished(job, config)
    output = target / "output"
    files = download_prefix(config, layout.job_prefix(job, layout.OUTPUT_PART), output)
    extra = {"job": job, "output_uri": status["output"], "duration_seconds": status["duration_seconds"]}
    if not files:
        raise SimulationError(f"job {job} completed but wrote nothing to {s3_uri(config, job, layout.OUTPUT_PART)}")
    record = _read_json(output / layout.RUN_FILE)
    if record.get("kind") == "sweep":  # a sweep job submitted without our manifest: its run.json lists the points
        adopted = {
            "sweep": job,
            "mode": "job",
            "jobs": [job],
            "points": record["points"],
            "iterations": record["iterations"],
            "seed": record["seed"],
        }
        return sweep_results(config, adopted, target)
    if record:
        return summarize_run(output, target, job, extra)
    return summarize_files(output, target, extra)


# --- sweeps ----------------------------------------------------------------------------------------------------


def read_manifest(config: JobConfig, name: str) -> dict[str, Any] | None:
    """The manifest `run_sweep` wrote for sweep `name`, or None when `name` is not a sweep."""
    s3 = aws.client("s3", config.region)
    try:
        body = aws.call_with_backoff(
            lambda: s3.get_object(Bucket=config.bucket, Key=layout.sweep_manifest_key(name))["Body"].read(),
            f"reading the sweep manifest of {name}",
            passthrough=frozenset({"NoSuchKey", "404", "AccessDenied"}),
        )
    except ClientError:
        return None
    value = json.loads(body)
    return value if isinstance(value, dict) else None


def _analytic(point: dict[str, Any]) -> float:
    return float(analytic_mean(Params(**point)))


def _point_sources(config: JobConfig, manifest: dict[str, Any], dest: Path) -> list[tuple[str, Path]]:
    """(job, local output folder) per point: one job's points/ folders, or one job per point."""
    output = dest / layout.OUTPUT_PART
    if manifest["mode"] == "job":
        (job,) = manifest["jobs"]
        download_prefix(config, layout.job_prefix(job, layout.OUTPUT_PART), output)
        return [(job, layout.point_dir(output, i)) for i in range(len(manifest["points"]))]
    sources = []
    for index, job in enumerate(manifest["jobs"]):
        target = layout.point_dir(output, index)
        download_prefix(config, layout.job_prefix(job, layout.OUTPUT_PART), target)
        sources.append((job, target))
    return sources


def sweep_results(config: JobConfig, manifest: dict[str, Any], dest: Path) -> dict[str, Any]:
    """Merge every point of a finished sweep; write sweep.csv, sweep.png and summary.json into dest."""
    sweep_id = manifest["sweep"]
    points = manifest["points"]
    for job in manifest["jobs"]:
        check_finished(job, config)
    rows = []
    sources = _point_sources(config, manifest, dest)
    for index, (point, (job, directory)) in enumerate(zip(points, sources, strict=True)):
        if not directory.is_dir():
            raise SimulationError(f"sweep {sweep_id}: no output for point {index} ({point}) in {directory}")
        summary = summarize_run(
            directory, layout.point_dir(dest, index), f"{job} point {index}", {"job": job, "point": index}
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


def collect_sweep(name: str, dest: str | None = None, platform: str | None = None) -> dict[str, Any]:
    """The table of a finished sweep, by its id (what `run_sweep` returned as `sweep`)."""
    config = load_config(platform)
    manifest = read_manifest(config, name)
    if manifest is None:
        raise SimulationError(f"no sweep named {name} (no s3://{config.bucket}/{layout.sweep_manifest_key(name)})")
    return sweep_results(config, manifest, Path(dest) if dest else Path("results") / name)
