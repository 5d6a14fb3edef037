"""`python3 -m simulation.processing map`: one Processing host's share of a map job (R's job_lapply, futures).

The code input holds what R shipped: `map.json` (elements, block size, payload digest), `map.rds` (FUN, X, globals,
seeds) and `map_host.R` (the runner). Block k belongs to host k mod H, as the simulation's blocks do. This host
writes run.json, takes over the finished blocks of a resumed job (`--resume-from`), lists its missing blocks and
hands them to the R runner, which evaluates them over all cores and writes each finished block as it completes.
SIGTERM/SIGINT: no new block starts, the blocks in flight finish, everything done is kept; a second signal ends
R at once.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO

from simulation.errors import JobFailed, SimulationError
from simulation.job import layout, map_records, records
from simulation.job.hosts import Cluster, StopRequest, assigned, read_cluster
from simulation.job.layout import OptMl

CORES_ENV = "SIMLAB_MAP_CORES"
STOP_FILE_ENV = "SIMLAB_MAP_STOP_FILE"
PAYLOAD_ENV = "SIMLAB_MAP_PAYLOAD_SHA256"
FAILURE_PREFIX = "simjobs map: "  # the runner's one line when the whole host cannot go on


def adopt(spec: map_records.MapSpec, blocks: list[int], out: Path, previous: Path) -> int:
    """Copies the finished blocks (values, then record) of the job being resumed into this output, unchanged."""
    adopted = 0
    for block in blocks:
        done_here = map_records.read_block(out, spec, block) is not None
        if done_here or map_records.read_block(previous, spec, block) is None:
            continue
        for path in (layout.map_values_path, layout.block_path):  # the record last: it marks the block done
            target = path(out, block)
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(f".{target.name}.adopt.tmp")
            shutil.copyfile(path(previous, block), temporary)
            os.replace(temporary, target)
        adopted += 1
    return adopted


def check_resume(previous: Path, record: dict[str, object]) -> None:
    """The previous job's output must be this very map (same payload); one that never started is fine."""
    if not (previous / layout.RUN_FILE).exists():
        return
    if records.read_json(previous / layout.RUN_FILE) != record:
        raise SimulationError(
            f"{previous / layout.RUN_FILE} describes another run than this job's; refusing to mix their blocks"
        )


def cmd_map(args: argparse.Namespace, opt_ml: OptMl, stop: StopRequest) -> int:
    cluster = read_cluster(opt_ml)
    code = opt_ml.code_dir
    spec = map_records.read_spec(code)
    out = opt_ml.output_dir
    records.check_writable(out)
    record = map_records.run_record(spec)
    records.ensure_record(out, record)
    mine = list(assigned(spec.block_count, cluster))
    if args.resume_from is not None:
        previous = Path(args.resume_from)
        check_resume(previous, record)
        taken = adopt(spec, mine, out, previous)
        print(f"{cluster.current_host}: took over {taken} finished block(s) of the resumed job", file=sys.stderr)
    todo = [b for b in mine if map_records.read_block(out, spec, b) is None]
    print(
        f"{cluster.current_host}: {len(mine)} of {spec.block_count} blocks of {spec.elements} elements are this "
        f"host's ({len(mine) - len(todo)} already done), {args.workers} core(s)",
        file=sys.stderr,
        flush=True,
    )
    started = time.perf_counter()
    failure = run_r(code, out, todo, spec, cluster, args.workers, stop) if todo else None
    done = [b for b in mine if map_records.read_block(out, spec, b) is not None]
    write_manifest(out, cluster, mine, done, time.perf_counter() - started, args.workers, stop, failure)
    if stop.requested:
        raise JobFailed(
            f"stopped by {stop.signal_name} on {cluster.current_host}: {len(done)} of its {len(mine)} blocks are "
            "done and kept; resume the job to run only the rest"
        )
    if failure is not None:
        raise JobFailed(f"{cluster.current_host}: {failure}")
    return 0


def rscript() -> str:
    found = shutil.which("Rscript")
    if found is None:
        raise SimulationError("Rscript is not installed in this image: a map job needs R")
    return found


def run_r(
    code: Path, out: Path, todo: list[int], spec: map_records.MapSpec, cluster: Cluster, cores: int, stop: StopRequest
) -> str | None:
    """Runs the R runner over `todo`; None when it finished, else one line saying why not."""
    with tempfile.TemporaryDirectory(prefix="simlab-map-") as work:
        todo_file = Path(work) / "todo"
        plan = (f"{b} {spec.block_elements(b).start} {spec.block_elements(b)[-1]}" for b in todo)
        todo_file.write_text("\n".join(plan) + "\n")
        stop_file = Path(work) / "stop"
        env = {
            **os.environ,
            CORES_ENV: str(cores),
            STOP_FILE_ENV: str(stop_file),
            PAYLOAD_ENV: spec.payload_sha256,
            "CURRENT_HOST": cluster.current_host,
            "HOSTS": ",".join(cluster.hosts),
            "HOST_INDEX": str(cluster.index),
            "OUTPUT_DIR": str(out),
        }
        command = [rscript(), str(code / layout.MAP_RUNNER_FILE), str(code), str(out)]
        # its own process group: a second signal ends R and every block child it forked, and nothing else
        process = subprocess.Popen(
            [*command, str(todo_file)], cwd=code, env=env, stderr=subprocess.PIPE, start_new_session=True
        )
        tail: collections.deque[bytes] = collections.deque(maxlen=40)
        copier = threading.Thread(target=_tee, args=(process.stderr, tail), daemon=True)
        copier.start()
        forwarded = False
        try:
            while process.poll() is None:
                if stop.requested and not forwarded:
                    stop_file.write_text(stop.signal_name or "stop")  # the runner starts no new block
                    forwarded = True
                try:
                    process.wait(timeout=0.2)
                except subprocess.TimeoutExpired:
                    continue
        except BaseException:  # a second signal (hosts.Abandoned) or an interrupt: end R and its children now
            _kill_group(process)
            raise
        copier.join(timeout=5)
    if process.returncode == 0 or stop.requested:
        return None
    lines = b"".join(tail).decode("utf-8", "replace").strip().splitlines()
    ours = [line[len(FAILURE_PREFIX) :] for line in lines if line.startswith(FAILURE_PREFIX)]
    if ours:
        return ours[-1]
    return f"the R runner exited with status {process.returncode}: {' | '.join(lines[-3:])}"


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def _tee(stream: IO[bytes], tail: collections.deque[bytes]) -> None:
    """R's stderr goes to the job log as it comes, and its last lines into the failure message."""
    for line in iter(stream.readline, b""):
        sys.stderr.buffer.write(line)
        sys.stderr.buffer.flush()
        tail.append(line)


def write_manifest(
    out: Path,
    cluster: Cluster,
    mine: list[int],
    done: list[int],
    seconds: float,
    cores: int,
    stop: StopRequest,
    failure: str | None,
) -> None:
    if len(done) == len(mine):
        status = "complete"
    elif stop.requested:
        status = f"stopped by {stop.signal_name}"
    else:
        status = f"failed: {failure}" if failure else "incomplete"
    records.write_json(
        layout.host_manifest_path(out, cluster.current_host),
        {
            "host": cluster.current_host,
            "hosts": list(cluster.hosts),
            "blocks_assigned": mine,
            "blocks_done": done,
            "status": status,
            "seconds": round(seconds, 3),
            "workers": cores,
            "package_version": records.package_version(),
            "versions": records.runtime_versions(),
            "image_tag": layout.image_tag_from_env(),
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
    )
