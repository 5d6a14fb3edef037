"""Merging the partial results of any number of hosts (one job output prefix, `simulation.layout`) into one result.

The merged result is `engine.summarize` over the pair counts of all blocks in block order, so it is the same
float, to the last bit, as `simulation run` for the same parameters and seed, whatever the host count.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simulation import engine, layout, records
from simulation.engine import Params
from simulation.errors import SimulationError


@dataclass(frozen=True)
class MergedResult:
    summary: dict[str, Any]
    pair_counts: np.ndarray


# --- merge -----------------------------------------------------------------------------------------------------


def result_dict(
    params: Params, iterations: int, seed: int, pair_counts: np.ndarray, blocks: list[dict[str, Any]]
) -> dict[str, Any]:
    """The keys `simulation run --json` prints. Timing keys describe the job: `seconds` is the compute time
    summed over blocks, `workers` the processes of all hosts together."""
    backends = sorted({b.get("backend", "unknown") for b in blocks})
    return {
        **engine.summarize(pair_counts, params.people),
        "iterations": iterations,
        "width": params.width,
        "height": params.height,
        "people": params.people,
        "radius": params.radius,
        "seed": seed,
        "analytic_mean": engine.analytic_mean(params),
        "seconds": round(sum(b.get("seconds", 0.0) for b in blocks), 3),
        "startup_seconds": None,
        "workers": None,  # filled from the host manifests
        "block_size": engine.block_size(params.people),
        "blocks": len(blocks),
        "backend": backends[0] if len(backends) == 1 else "+".join(backends),
    }


def merge_output(directory: str | os.PathLike[str]) -> MergedResult:
    """Merges one run's blocks (from any number of hosts). Missing blocks raise SimulationError naming them."""
    directory = Path(directory)
    record = records.read_record(directory)
    if record["kind"] == "sweep":
        raise SimulationError(f"{directory} is a sweep of {len(record['points'])} points: use merge_sweep")
    try:
        params = records.params_of(record)
    except SimulationError as error:
        raise SimulationError(f"{directory / layout.RUN_FILE}: {error}") from None
    except TypeError as error:  # params with a key Params does not have
        raise SimulationError(f"{directory / layout.RUN_FILE} is malformed: {error}") from None
    iterations, seed, count = record["iterations"], record["seed"], record["block_count"]
    blocks: list[dict[str, Any]] = []
    missing: list[int] = []
    for k in range(count):
        block = records.load_block(directory, k, engine.block_iterations(k, iterations, params.people))
        if block is None:
            missing.append(k)
        else:
            blocks.append(block)
    if missing:
        raise SimulationError(
            f"{directory}: {len(missing)} of {count} blocks missing ({_ranges(missing)}); "
            "re-run the job over this output to compute them"
        )
    pair_counts = np.concatenate([np.asarray(b["pair_counts"], dtype=np.int64) for b in blocks])
    summary = result_dict(params, iterations, seed, pair_counts, blocks)
    summary["hosts"] = sorted({b["host"] for b in blocks})
    summary["manifest"] = _manifest(directory, record, blocks)
    workers = [h.get("workers") for h in summary["manifest"]["host_manifests"].values()]
    summary["workers"] = sum(w for w in workers if isinstance(w, int)) or None
    return MergedResult(summary=summary, pair_counts=pair_counts)


def _manifest(directory: Path, record: dict[str, Any], blocks: list[dict[str, Any]]) -> dict[str, Any]:
    by_host: dict[str, list[int]] = {}
    for b in blocks:
        by_host.setdefault(b["host"], []).append(b["block"])
    host_files = {}
    for path in sorted((directory / layout.HOSTS_DIR).glob("*.json")):
        try:
            host_files[path.stem] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue  # informative only: the blocks themselves are the record of who did what
    return {
        "params": record["params"],
        "seed": record["seed"],
        "iterations": record["iterations"],
        "block_size": record["block_size"],
        "block_count": record["block_count"],
        "blocks_by_host": by_host,
        "package_version": record["package_version"],
        "merged_by_package_version": records.package_version(),
        "image_tags": sorted({h.get("image_tag") for h in host_files.values() if h.get("image_tag")}),
        "host_manifests": host_files,
    }


def merge_sweep(directory: str | os.PathLike[str]) -> list[MergedResult]:
    directory = Path(directory)
    record = records.read_record(directory)
    if record["kind"] != "sweep":
        raise SimulationError(f"{directory} is a single run, not a sweep: use merge_output")
    return [merge_output(layout.point_dir(directory, i)) for i in range(len(record["points"]))]


def write_result(directory: Path, merged: MergedResult) -> None:
    """summary.json plus the original R job's one-number output_result_mean.txt (full precision)."""
    records.write_json(directory / layout.SUMMARY_FILE, merged.summary)
    records.write_atomic(directory / layout.MEAN_FILE, f"{merged.summary['mean']!r}\n")


def write_sweep_result(directory: Path, merged: list[MergedResult]) -> None:
    for i, point in enumerate(merged):
        write_result(layout.point_dir(directory, i), point)
    records.write_json(directory / layout.SUMMARY_FILE, {"points": [m.summary for m in merged]})


def _ranges(numbers: list[int]) -> str:
    """[1, 2, 3, 7] -> '1-3, 7': a missing-block message stays one readable line."""
    parts: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(f"{start:06d}" if start == prev else f"{start:06d}-{prev:06d}")
        if n is not None:
            start = prev = n
    return ", ".join(parts)
