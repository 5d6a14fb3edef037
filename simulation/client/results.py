"""Fetch a finished job's output prefix, merge it with the processing code's merge, summarize and plot it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from simulation.client import aws, jobs
from simulation.client.config import JobConfig, load_config
from simulation.errors import JobFailed, SimulationError

SUMMARY_FILE = "summary.json"
PLOT_FILE = "histogram.png"
MEAN_FILE = "output_result_mean.txt"


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
            if not relative or relative.endswith("/"):
                continue
            target = (root / relative).resolve()
            if root not in target.parents:  # a key like "../x" must not write outside dest
                raise SimulationError(f"refusing S3 key outside the output prefix: {item['Key']}")
            target.parent.mkdir(parents=True, exist_ok=True)
            aws.call_with_backoff(
                lambda key=item["Key"], path=target: s3.download_file(config.bucket, key, str(path)),
                f"downloading s3://{config.bucket}/{item['Key']}",
            )
            files.append(target)
    return files


def people_of(summary: dict[str, Any], directory: Path) -> int:
    """`people` of a run: from the merged summary, else from run.json (contract section 2)."""
    for source in (summary, _read_json(directory / "run.json")):
        for holder in (source, source.get("params") or {}, source.get("parameters") or {}):
            if isinstance(holder, dict) and "people" in holder:
                return int(holder["people"])
    raise SimulationError(f"cannot find the number of people in {directory}/run.json")


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
    """Merge one run's output layout (one job, or one sweep point) and write summary.json + histogram.png."""
    from simulation.client import plots
    from simulation.merge import merge_output

    merged = merge_output(directory)
    summary: dict[str, Any] = {**(extra or {}), **dict(merged.summary)}
    dest.mkdir(parents=True, exist_ok=True)
    (dest / SUMMARY_FILE).write_text(json.dumps(summary, indent=2, sort_keys=True, default=_jsonable) + "\n")
    people = people_of(summary, directory)
    values = 2.0 * np.asarray(merged.pair_counts, dtype=float) / people
    plots.histogram(values, float(summary["mean"]), ci_of(summary), dest / PLOT_FILE, title)
    return summary


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def summarize_files(directory: Path, dest: Path, extra: dict[str, Any]) -> dict[str, Any]:
    """A user's R script job: no blocks to merge; list its files and read the mean it wrote, if any."""
    files = sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file())
    summary: dict[str, Any] = {**extra, "files": files}
    mean_file = directory / MEAN_FILE
    if mean_file.is_file():
        text = mean_file.read_text().split()
        try:
            summary["mean"] = float(text[0])
        except (IndexError, ValueError):
            summary["mean_text"] = mean_file.read_text()[:200]
    dest.mkdir(parents=True, exist_ok=True)
    (dest / SUMMARY_FILE).write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return summary


def check_finished(job: str, config: JobConfig) -> dict[str, Any]:
    status = jobs.status_of(jobs.describe(job, config))
    if status["status"] in ("Failed", "Stopped"):
        raise JobFailed(jobs.failure_text(status))
    if status["status"] != "Completed":
        raise SimulationError(
            f"job {job} is {status['status']}; its output reaches S3 when it ends "
            f"(follow it with: python -m simulation watch {job})"
        )
    return status


def job_results(job: str, dest: str | None = None, platform: str | None = None) -> dict[str, Any]:
    """Download and merge a completed job (or a sweep); returns the summary written to dest/summary.json."""
    from simulation.client import sweep

    config = load_config(platform)
    manifest = sweep.read_manifest(config, job)
    target = Path(dest) if dest else Path("results") / job
    if manifest is not None:
        return sweep.sweep_results(config, manifest, target)
    status = check_finished(job, config)
    output = target / "output"
    files = download_prefix(config, jobs.s3_prefix(job, "output"), output)
    extra = {"job": job, "output_uri": status["output"], "duration_seconds": status["duration_seconds"]}
    if not files:
        raise SimulationError(f"job {job} completed but wrote nothing to {jobs.s3_uri(config, job, 'output')}")
    record = _read_json(output / "run.json")
    if record.get("kind") == "sweep":  # a sweep job submitted without our manifest: its run.json lists the points
        adopted = {
            "sweep": job,
            "mode": "job",
            "jobs": [job],
            "points": record["points"],
            "iterations": record["iterations"],
            "seed": record["seed"],
        }
        return sweep.sweep_results(config, adopted, target)
    if record:
        return summarize_run(output, target, job, extra)
    return summarize_files(output, target, extra)
