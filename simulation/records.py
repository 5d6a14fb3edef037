"""Writing and reading the files of the job output layout (`simulation.layout`): atomic writes, run and block records.

The entrypoint writes through these functions and the merge reads through them, so a file's shape is defined once.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulation import engine, layout
from simulation.engine import Params
from simulation.errors import SimulationError

if TYPE_CHECKING:
    import numpy as np


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("simulation")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"


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


def simulate_record(params: Params, iterations: int, seed: int) -> dict[str, Any]:
    """run.json of one parameter set: everything that determines the numbers, nothing host-specific."""
    return {
        "format": layout.FORMAT,
        "kind": "simulate",
        "package_version": package_version(),
        "params": {"width": params.width, "height": params.height, "people": params.people, "radius": params.radius},
        "iterations": iterations,
        "seed": seed,
        "block_size": engine.block_size(params.people),
        "block_count": engine.block_count(iterations, params.people),
    }


def sweep_record(points: Sequence[Params], iterations: int, seed: int) -> dict[str, Any]:
    return {
        "format": layout.FORMAT,
        "kind": "sweep",
        "package_version": package_version(),
        "iterations": iterations,
        "seed": seed,
        "points": [simulate_record(p, iterations, seed)["params"] for p in points],
    }


def ensure_record(directory: Path, record: dict[str, Any]) -> None:
    """Writes run.json, or checks that the one already there describes this very run (resume, other hosts)."""
    path = directory / layout.RUN_FILE
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
    path = Path(directory) / layout.RUN_FILE
    if not path.exists():
        raise SimulationError(f"{directory} has no {layout.RUN_FILE}: not the output of a simulation job")
    record = read_json(path)
    if (
        not isinstance(record, dict)
        or record.get("format") != layout.FORMAT
        or record.get("kind") not in ("simulate", "sweep")
    ):
        raise SimulationError(f"{path} is not a run record this version understands (format {layout.FORMAT})")
    shapes: dict[str, type] = {"iterations": int, "seed": int}
    shapes.update({"params": dict, "block_count": int} if record["kind"] == "simulate" else {"points": list})
    wrong = [key for key, kind in shapes.items() if not isinstance(record.get(key), kind)]
    if wrong:  # a truncated or hand-edited record is one line naming it, not a traceback
        raise SimulationError(f"{path} is malformed: {', '.join(wrong)} missing or of the wrong type")
    return record


def params_of(record: dict[str, Any]) -> Params:
    return Params(**record["params"])


# --- blocks ----------------------------------------------------------------------------------------------------


def block_record(
    block: int, host: str, seed: int, pair_counts: np.ndarray, seconds: float, backend: str
) -> dict[str, Any]:
    return {
        "format": layout.FORMAT,
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
    path = layout.block_path(directory, block)
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
