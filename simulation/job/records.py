"""Writing and reading the files of the job output layout (`job.layout`): atomic writes, run and block records.

The entrypoint writes through these functions and the merge reads through them, so a file's shape is defined once.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulation import engine
from simulation.engine import Params
from simulation.errors import SimulationError
from simulation.job import layout

if TYPE_CHECKING:
    import numpy as np


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("simulation")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"


def runtime_versions() -> dict[str, str | None]:
    """What produced the numbers, for the manifest: Python, numpy, numba (None: the numpy fallback ran) and R
    (None where R is not installed). The engine's streams are numpy's SeedSequence and bit generator, so a numpy that
    changed them would show up here next to the numbers that differ."""
    import platform

    return {
        "python": platform.python_version(),
        "numpy": _module_version("numpy"),
        "numba": _module_version("numba"),
        "r": r_version(),
    }


def _module_version(name: str) -> str | None:
    try:
        module = __import__(name)
    except ImportError:
        return None
    return str(module.__version__)


@functools.cache
def r_version() -> str | None:
    """`4.2.2` from `Rscript --version`, or None without R (asked once per process)."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    try:
        done = subprocess.run([rscript, "--version"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"version (\d+\.\d+\.\d+)", done.stdout + done.stderr)
    return match.group(1) if match else None


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
    if Path(directory).is_file():
        raise SimulationError(f"{directory} is a file, not a job's output folder")
    if not Path(directory).exists():
        raise SimulationError(
            f"{directory} does not exist: name a job's output folder (what local-job --output or results wrote)"
        )
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


# A host name as SageMaker gives them (algo-1 ...) or a local job's; anything else in a block is tampering.
HOST_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
# Counts are stored as int64 (merge, summarize): 2**63 and above would wrap.
MAX_COUNT = 2**63 - 1


def load_block(directory: Path, block: int, expected_iterations: int) -> dict[str, Any] | None:
    """A finished block's record, or None when the block is not (validly) done: a host recomputes it."""
    try:
        return read_block(directory, block, expected_iterations)
    except SimulationError:
        return None


def read_block(
    directory: Path, block: int, expected_iterations: int, people: int | None = None
) -> dict[str, Any] | None:
    """A finished block's record; None when its file is absent; SimulationError naming the file when it is there
    but not a block this run could have written (corrupt JSON, wrong shape, counts no run can produce)."""
    path = layout.block_path(directory, block)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise SimulationError(f"{path} is not readable: {error}") from None
    try:
        record = json.loads(text)
    except json.JSONDecodeError as error:
        raise SimulationError(f"{path} is not valid JSON ({error.msg}, line {error.lineno})") from None
    if not isinstance(record, dict) or record.get("block") != block:
        raise SimulationError(f"{path} is not the record of block {block}")
    host = record.get("host")
    if not isinstance(host, str) or not HOST_NAME.fullmatch(host):
        raise SimulationError(f"{path}: host must be a host name such as algo-1, got {host!r}")
    counts = record.get("pair_counts")
    top = MAX_COUNT if people is None else min(MAX_COUNT, people * (people - 1) // 2)
    if (
        not isinstance(counts, list)
        or len(counts) != expected_iterations
        or not all(type(c) is int and 0 <= c <= top for c in counts)
    ):
        raise SimulationError(
            f"{path}: pair_counts must be {expected_iterations} integers from 0 to {top} "
            "(the pairs among the run's people)"
        )
    return record
