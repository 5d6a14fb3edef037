"""A map job's files (R's `job_lapply` and future backend): its spec, its run record, its block records, its progress.

R writes the payload (`map.rds`, R's own serialization) and `map.json`, the part of it this side reads: how many
elements, how many per block, the payload's digest. Hosts write, per finished block, the values (`.rds`) and then a
JSON record naming the block, its elements and the ones that failed with their messages. Python never reads R's
values; progress, failures and resuming are decided from the records alone.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulation.errors import SimulationError
from simulation.job import layout, records

KIND = "map"
MODES = ("lapply", "future")
MAX_ELEMENTS = 10**8  # one element is at least one list entry in R; beyond this the payload alone is gigabytes
MAX_BLOCKS = 100_000  # each block is two files in the output prefix
MAX_MESSAGE = 1000


@dataclass(frozen=True)
class MapSpec:
    elements: int
    block_size: int
    payload_sha256: str
    mode: str
    seed: str | None  # the user's seed as R printed it; the streams themselves are in the payload
    seed_drawn: bool = False  # drawn for a map given none: R returns it with the value

    @property
    def block_count(self) -> int:
        return math.ceil(self.elements / self.block_size)

    def block_elements(self, block: int) -> range:
        """1-based element numbers of `block`, as R counts them."""
        first = block * self.block_size + 1
        return range(first, min(self.elements, first + self.block_size - 1) + 1)


def _whole(value: Any, what: str, source: str, minimum: int, maximum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= maximum:
        raise SimulationError(f"{source}: {what} must be a whole number from {minimum} to {maximum}, got {value!r}")
    return value


def parse_spec(value: Any, source: str) -> MapSpec:
    if not isinstance(value, dict) or value.get("kind") != KIND or value.get("format") != layout.FORMAT:
        raise SimulationError(f"{source} is not a map job's spec (format {layout.FORMAT}, kind {KIND!r})")
    elements = _whole(value.get("elements"), "elements", source, 1, MAX_ELEMENTS)
    block_size = _whole(value.get("block_size"), "block_size", source, 1, elements)
    digest = value.get("payload_sha256")
    if not isinstance(digest, str) or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise SimulationError(f"{source}: payload_sha256 must be 64 hex digits, got {digest!r}")
    mode = value.get("mode")
    if mode not in MODES:
        raise SimulationError(f"{source}: mode must be one of {', '.join(MODES)}, got {mode!r}")
    seed = value.get("seed")
    drawn = value.get("seed_drawn", False)
    if not isinstance(drawn, bool):
        raise SimulationError(f"{source}: seed_drawn must be true or false, got {drawn!r}")
    spec = MapSpec(elements, block_size, digest, mode, None if seed is None else str(seed), drawn)
    if spec.block_count > MAX_BLOCKS:
        raise SimulationError(f"{source}: {spec.block_count} blocks is more than {MAX_BLOCKS}; use larger blocks")
    return spec


def read_spec(code: Path) -> MapSpec:
    """The spec in a map job's code input, checked against the payload beside it."""
    spec = parse_spec(records.read_json(code / layout.MAP_SPEC_FILE), str(code / layout.MAP_SPEC_FILE))
    for name in (layout.MAP_PAYLOAD_FILE, layout.MAP_RUNNER_FILE):
        if not (code / name).is_file():
            raise SimulationError(f"{code} has no {name}: not a map job's code input")
    actual = sha256_of(code / layout.MAP_PAYLOAD_FILE)
    if actual != spec.payload_sha256:
        raise SimulationError(
            f"{code / layout.MAP_PAYLOAD_FILE} is not the payload {layout.MAP_SPEC_FILE} describes "
            f"(sha256 {actual[:12]}... vs {spec.payload_sha256[:12]}...)"
        )
    return spec


BLOCKS_PER_CORE = 4  # blocks of unequal cost still even out over the cores
MIN_BLOCKS = 64  # and a few per core of a large job, so a stopped job loses little


def plan_block_size(elements: int, cores: int) -> int:
    """Elements per block: about BLOCKS_PER_CORE blocks per core of the whole job, at least MIN_BLOCKS blocks.

    A block is one forked child and two files, so few large blocks keep the overhead of trivial elements small,
    while several per core balance elements of unequal cost. The plan is fixed in map.json when the job is
    submitted: a resumed job, on any number of hosts, keeps it (results never depend on it)."""
    blocks = min(elements, max(MIN_BLOCKS, BLOCKS_PER_CORE * max(1, cores)))
    return math.ceil(elements / blocks)


def write_spec(
    code: Path,
    *,
    elements: int,
    mode: str,
    seed: str | None,
    block_size: int | None,
    cores: int,
    seed_drawn: bool = False,
) -> MapSpec:
    """map.json beside the payload R wrote into `code`: its digest, and the block plan (`block_size` None: planned
    for `cores` cores in all)."""
    payload = code / layout.MAP_PAYLOAD_FILE
    if not payload.is_file():
        raise SimulationError(f"{code} has no {layout.MAP_PAYLOAD_FILE}: R writes the payload before the job starts")
    size = plan_block_size(elements, cores) if block_size is None else block_size
    value = {
        "format": layout.FORMAT,
        "kind": KIND,
        "elements": elements,
        "block_size": size,
        "mode": mode,
        "seed": seed,
        "seed_drawn": bool(seed_drawn),
        "payload_sha256": sha256_of(payload),
        "payload_bytes": payload.stat().st_size,
    }
    spec = parse_spec(value, f"the map of {elements} elements")
    records.write_json(code / layout.MAP_SPEC_FILE, value)
    return spec


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def run_record(spec: MapSpec) -> dict[str, Any]:
    """run.json of a map job: identical on every host, and what a resumed job must match to take blocks over."""
    return {
        "format": layout.FORMAT,
        "kind": KIND,
        "package_version": records.package_version(),
        "mode": spec.mode,
        "elements": spec.elements,
        "block_size": spec.block_size,
        "block_count": spec.block_count,
        "payload_sha256": spec.payload_sha256,
        "seed": spec.seed,
        "seed_drawn": spec.seed_drawn,
    }


def spec_of_record(record: Any, source: str) -> MapSpec:
    if not isinstance(record, dict) or record.get("kind") != KIND:
        raise SimulationError(f"{source} is not the run record of a map job")
    return parse_spec(record, source)


# --- blocks ------------------------------------------------------------------------------------------------------


def read_block(directory: Path, spec: MapSpec, block: int) -> dict[str, Any] | None:
    """A finished block's record (and its values file beside it); None when the block is not validly done."""
    path = layout.block_path(directory, block)
    try:
        record = records.read_json(path)
    except SimulationError:
        return None
    elements = spec.block_elements(block)
    if (
        not isinstance(record, dict)
        or record.get("kind") != KIND
        or record.get("block") != block
        or record.get("first") != elements.start
        or record.get("count") != len(elements)
        or record.get("payload_sha256") != spec.payload_sha256
        or not isinstance(record.get("failed"), list)
        or not layout.map_values_path(directory, block).is_file()
    ):
        return None
    for entry in record["failed"]:
        if not (isinstance(entry, list) and len(entry) == 2 and entry[0] in elements and isinstance(entry[1], str)):
            return None
    return record


def done_blocks(directory: Path, spec: MapSpec, blocks: range | list[int] | None = None) -> set[int]:
    wanted = range(spec.block_count) if blocks is None else blocks
    return {b for b in wanted if read_block(directory, spec, b) is not None}


def summarize(directory: Path, spec: MapSpec | None = None) -> dict[str, Any]:
    """Progress and failures of a map job's output folder (complete or not): what `results` shows. Without
    `spec`, the folder's run.json says what the job is."""
    if spec is None:
        spec = spec_of_record(records.read_json(directory / layout.RUN_FILE), str(directory / layout.RUN_FILE))
    missing: list[int] = []
    elements_done = 0
    failed: list[dict[str, Any]] = []
    hosts: dict[str, int] = {}
    seconds = 0.0
    size = 0
    for block in range(spec.block_count):
        record = read_block(directory, spec, block)
        if record is None:
            missing.append(block)
            continue
        elements_done += int(record["count"])
        failed += [{"element": int(e), "message": str(m)[:MAX_MESSAGE]} for e, m in record["failed"]]
        host = str(record.get("host"))
        hosts[host] = hosts.get(host, 0) + 1
        seconds += float(record.get("seconds") or 0.0)
        size += int(record.get("bytes") or 0)
    done = spec.block_count - len(missing)
    return {
        "kind": KIND,
        "mode": spec.mode,
        "elements": spec.elements,
        "block_size": spec.block_size,
        "elements_done": elements_done,
        "blocks": spec.block_count,
        "blocks_done": done,
        "missing_blocks": missing,
        "complete": done == spec.block_count,
        "failed": sorted(failed, key=lambda f: f["element"]),
        "seed": spec.seed,
        "seed_drawn": spec.seed_drawn,
        "hosts": dict(sorted(hosts.items())),
        "element_seconds": round(seconds, 3),
        "returned_bytes": size,
        "output": str(directory),
    }


def describe(summary: dict[str, Any], job: str) -> str:
    """A few lines a person reads: progress, then each failed element with its message."""
    state = "complete" if summary["complete"] else f"{summary['blocks_done']} of {summary['blocks']} blocks done"
    lines = [
        f"{job}: map of {summary['elements']} elements, {summary['elements_done']} done ({state}), "
        f"{len(summary['failed'])} failed" + (f", seed {summary['seed']}" if summary.get("seed") else "")
    ]
    for failure in summary["failed"][:20]:
        message = " ".join(failure["message"].split())
        lines.append(f"  element {failure['element']}: {message}")
    if len(summary["failed"]) > 20:
        lines.append(f"  ... and {len(summary['failed']) - 20} more (--json lists them all)")
    return "\n".join(lines)
