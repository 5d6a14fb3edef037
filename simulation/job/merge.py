"""Merging the partial results of any number of hosts (one job output prefix, `simulation.job.layout`) into one result.

The merged result is `engine.summarize` over the pair counts of all blocks in block order, so it is the same
float, to the last bit, as `simulation run` for the same parameters and seed, whatever the host count.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simulation import engine
from simulation.engine import Params
from simulation.errors import SimulationError
from simulation.job import layout, records

SAGEMAKER_HOST = re.compile(r"algo-[1-9][0-9]{0,3}")


@dataclass(frozen=True)
class MergedResult:
    """One run merged: `summary` (the keys of `run --json` + hosts, manifest), the pair counts in iteration
    order, and the run's parameters, iterations and seed as run.json gave them (checked)."""

    summary: dict[str, Any]
    pair_counts: np.ndarray
    params: Params
    iterations: int
    seed: int

    def violations(self) -> np.ndarray:
        """Violations per person of each iteration, 2 * pairs / people: what `summary['mean']` averages."""
        return 2.0 * np.asarray(self.pair_counts, dtype=float) / self.params.people


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
    if iterations < 1 or seed < 0 or count != engine.block_count(iterations, params.people):
        raise SimulationError(
            f"{directory / layout.RUN_FILE} is inconsistent: iterations {iterations}, seed {seed} and "
            f"block_count {count} do not describe one run of {params.people} people"
        )
    manifests = _host_manifests(directory)
    job_hosts = {host for manifest in manifests.values() for host in manifest["hosts"]}
    blocks: list[dict[str, Any]] = []
    missing: list[int] = []
    for k in range(count):
        block = records.read_block(directory, k, engine.block_iterations(k, iterations, params.people), params.people)
        if block is None:
            missing.append(k)
            continue
        # The job's hosts are those its manifests list; a host of an interrupted earlier run over the same output
        # wrote no manifest, so SageMaker's own naming (algo-N) is accepted too.
        if block["host"] not in job_hosts and not SAGEMAKER_HOST.fullmatch(block["host"]):
            raise SimulationError(
                f"{layout.block_path(directory, k)}: host {block['host']!r} is not one of the job's hosts "
                f"({', '.join(sorted(job_hosts)) or 'none listed in ' + layout.HOSTS_DIR + '/'}, or algo-N)"
            )
        blocks.append(block)
    if missing:
        raise SimulationError(
            f"{directory}: {len(missing)} of {count} blocks missing ({_ranges(missing)}); "
            "re-run the job over this output to compute them"
        )
    pair_counts = np.concatenate([np.asarray(b["pair_counts"], dtype=np.int64) for b in blocks])
    summary = result_dict(params, iterations, seed, pair_counts, blocks)
    summary["hosts"] = sorted({b["host"] for b in blocks})
    summary["manifest"] = _manifest(record, blocks, manifests)
    workers = [h.get("workers") for h in summary["manifest"]["host_manifests"].values()]
    summary["workers"] = sum(w for w in workers if isinstance(w, int)) or None
    return MergedResult(summary=summary, pair_counts=pair_counts, params=params, iterations=iterations, seed=seed)


def _host_manifests(directory: Path) -> dict[str, dict[str, Any]]:
    """hosts/<host>.json of every host, checked for the shape the entrypoint writes (a tampered or truncated one
    names its file). They say which hosts the job had; the blocks say who computed what."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted((directory / layout.HOSTS_DIR).glob("*.json")):
        manifest = records.read_json(path)
        if (
            not isinstance(manifest, dict)
            or manifest.get("host") != path.stem
            or not isinstance(manifest.get("hosts"), list)
            or not all(isinstance(h, str) and records.HOST_NAME.fullmatch(h) for h in manifest["hosts"])
            or path.stem not in manifest["hosts"]
            or not isinstance(manifest.get("workers", 0), int)
            or not isinstance(manifest.get("image_tag") or "", str)
        ):
            raise SimulationError(
                f"{path} is not a host manifest: want an object with host {path.stem!r}, hosts (a list of host "
                "names including it), workers (an integer) and image_tag (a string or null)"
            )
        found[path.stem] = manifest
    return found


def _manifest(
    record: dict[str, Any], blocks: list[dict[str, Any]], host_files: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    by_host: dict[str, list[int]] = {}
    for b in blocks:
        by_host.setdefault(b["host"], []).append(b["block"])
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
        # numpy, numba, R and Python of the hosts that computed the blocks: one entry per distinct set
        "versions": _distinct([h["versions"] for h in host_files.values() if isinstance(h.get("versions"), dict)]),
        "host_manifests": host_files,
    }


def _distinct(values: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return seen


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
