"""The processing job's output layout, and merging the partial results of any number of hosts into one result.

Layout of an output prefix (docs/contracts.md section 2):
    run.json                  what was run; identical on every host
    blocks/block-000007.json  one per finished block, written by the host that computed it
    hosts/algo-2.json         per-host manifest
    summary.json, output_result_mean.txt   the merged result
    points/point-003/         for a sweep: one sub-run with this same layout per parameter set

The merged result is `engine.summarize` over the pair counts of all blocks in block order, so it is the same
float, to the last bit, as `simulation run` for the same parameters and seed, whatever the host count.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simulation.errors import SimulationError

FORMAT = 1
RUN_FILE = "run.json"
SUMMARY_FILE = "summary.json"
MEAN_FILE = "output_result_mean.txt"  # the original R job's output, kept for existing readers
BLOCKS_DIR = "blocks"
HOSTS_DIR = "hosts"
POINTS_DIR = "points"
IMAGE_TAG_ENV = "SIMULATION_IMAGE_TAG"


@dataclass(frozen=True)
class MergedResult:
    summary: dict[str, Any]
    pair_counts: np.ndarray


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("simulation")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"


def block_path(directory: Path, block: int) -> Path:
    return directory / BLOCKS_DIR / f"block-{block:06d}.json"


def point_dir(directory: Path, point: int) -> Path:
    return directory / POINTS_DIR / f"point-{point:03d}"


# --- files -----------------------------------------------------------------------------------------------------


def write_atomic(path: Path, text: str) -> None:
    """Temp file in the same folder, fsync, rename: a reader (or S3 upload) never sees a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)  # the rename itself survives a crash only once the folder is synced
    finally:
        os.close(folder)


def check_writable(directory: Path) -> None:
    """Fails early, with one line, rather than after the first block's worth of work."""
    if directory.exists() and not directory.is_dir():
        raise SimulationError(f"output folder {directory} is not a folder")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        write_atomic(directory / ".write-check", "")
        (directory / ".write-check").unlink()
    except OSError as error:
        raise SimulationError(f"output folder {directory} is not writable: {error.strerror or error}") from None


def write_json(path: Path, value: Any) -> None:
    write_atomic(path, json.dumps(value, indent=1, sort_keys=True) + "\n")


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SimulationError(f"{path} is missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SimulationError(f"{path} is not readable JSON: {error}") from None


# --- run records -----------------------------------------------------------------------------------------------


def simulate_record(params: Any, iterations: int, seed: int) -> dict[str, Any]:
    """run.json of one parameter set: everything that determines the numbers, nothing host-specific."""
    from simulation import engine

    return {
        "format": FORMAT,
        "kind": "simulate",
        "package_version": package_version(),
        "params": {"width": params.width, "height": params.height, "people": params.people, "radius": params.radius},
        "iterations": iterations,
        "seed": seed,
        "block_size": engine.block_size(params.people),
        "block_count": engine.block_count(iterations, params.people),
    }


def sweep_record(points: list[Any], iterations: int, seed: int) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "kind": "sweep",
        "package_version": package_version(),
        "iterations": iterations,
        "seed": seed,
        "points": [simulate_record(p, iterations, seed)["params"] for p in points],
    }


def ensure_record(directory: Path, record: dict[str, Any]) -> None:
    """Writes run.json, or checks that the one already there describes this very run (resume, other hosts)."""
    path = directory / RUN_FILE
    if path.exists():
        existing = read_json(path)
        if existing != record:
            keys = sorted(k for k in set(existing) | set(record) if existing.get(k) != record.get(k))
            detail = ", ".join(f"{k} {existing.get(k)!r} there vs {record.get(k)!r} now" for k in keys[:3])
            raise SimulationError(
                f"{directory} holds the output of a different run ({detail}); use another output folder"
            )
        return
    write_json(path, record)


def read_record(directory: Path) -> dict[str, Any]:
    path = Path(directory) / RUN_FILE
    if not path.exists():
        raise SimulationError(f"{directory} has no {RUN_FILE}: not the output of a simulation job")
    record = read_json(path)
    if (
        not isinstance(record, dict)
        or record.get("format") != FORMAT
        or record.get("kind") not in ("simulate", "sweep")
    ):
        raise SimulationError(f"{path} is not a run record this version understands (format {FORMAT})")
    shapes = {"iterations": int, "seed": int}
    shapes.update({"params": dict, "block_count": int} if record["kind"] == "simulate" else {"points": list})
    wrong = [key for key, kind in shapes.items() if not isinstance(record.get(key), kind)]
    if wrong:  # a truncated or hand-edited record is one line naming it, not a traceback
        raise SimulationError(f"{path} is malformed: {', '.join(wrong)} missing or of the wrong type")
    return record


def params_of(record: dict[str, Any]) -> Any:
    from simulation.engine import Params

    return Params(**record["params"])


# --- blocks ----------------------------------------------------------------------------------------------------


def block_record(
    block: int, host: str, seed: int, pair_counts: np.ndarray, seconds: float, backend: str
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "backend": backend,
        "block": block,
        "host": host,
        "seed": seed,
        "iterations": int(len(pair_counts)),
        "seconds": round(seconds, 3),
        "pair_counts": [int(c) for c in pair_counts],
    }


def load_block(directory: Path, block: int, expected_iterations: int) -> dict[str, Any] | None:
    """A finished block's record, or None when the block is not (validly) done."""
    path = block_path(directory, block)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if (
        not isinstance(record, dict)
        or record.get("block") != block
        or not isinstance(record.get("pair_counts"), list)
        or len(record["pair_counts"]) != expected_iterations
    ):
        return None
    return record


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


# --- merge -----------------------------------------------------------------------------------------------------


def result_dict(
    params: Any, iterations: int, seed: int, pair_counts: np.ndarray, blocks: list[dict[str, Any]]
) -> dict[str, Any]:
    """The keys `simulation run --json` prints. Timing keys describe the job: `seconds` is the compute time
    summed over blocks, `workers` the processes of all hosts together."""
    from simulation import engine

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
    record = read_record(directory)
    if record["kind"] == "sweep":
        raise SimulationError(f"{directory} is a sweep of {len(record['points'])} points: use merge_sweep")
    from simulation import engine

    try:
        params = params_of(record)
    except SimulationError as error:
        raise SimulationError(f"{directory / RUN_FILE}: {error}") from None
    except TypeError as error:  # params with a key Params does not have
        raise SimulationError(f"{directory / RUN_FILE} is malformed: {error}") from None
    iterations, seed, count = record["iterations"], record["seed"], record["block_count"]
    blocks: list[dict[str, Any]] = []
    missing: list[int] = []
    for k in range(count):
        block = load_block(directory, k, engine.block_iterations(k, iterations, params.people))
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
    for path in sorted((directory / HOSTS_DIR).glob("*.json")):
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
        "merged_by_package_version": package_version(),
        "image_tags": sorted({h.get("image_tag") for h in host_files.values() if h.get("image_tag")}),
        "host_manifests": host_files,
    }


def merge_sweep(directory: str | os.PathLike[str]) -> list[MergedResult]:
    directory = Path(directory)
    record = read_record(directory)
    if record["kind"] != "sweep":
        raise SimulationError(f"{directory} is a single run, not a sweep: use merge_output")
    return [merge_output(point_dir(directory, i)) for i in range(len(record["points"]))]


def write_result(directory: Path, merged: MergedResult) -> None:
    """summary.json plus the original R job's one-number output_result_mean.txt (full precision)."""
    write_json(directory / SUMMARY_FILE, merged.summary)
    write_atomic(directory / MEAN_FILE, f"{merged.summary['mean']!r}\n")


def write_sweep_result(directory: Path, merged: list[MergedResult]) -> None:
    for i, point in enumerate(merged):
        write_result(point_dir(directory, i), point)
    write_json(directory / SUMMARY_FILE, {"points": [m.summary for m in merged]})
