"""One Processing host's share of a job: the cluster it is part of, its round-robin blocks, stopping cleanly.

Each instance reads /opt/ml/config/resourceconfig.json, takes its share of the engine's fixed blocks (block k
goes to host k mod H), and writes every finished block at once as its own file in the output layout
(`simulation.job.layout`), which SageMaker uploads to one S3 prefix for all hosts. Finished blocks are skipped, so a
re-run over the same output resumes. SIGTERM/SIGINT finishes the blocks in flight and keeps everything done; a
second signal abandons the blocks in flight.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simulation import engine
from simulation.engine import Params
from simulation.errors import JobFailed, SimulationError
from simulation.job import layout, records


@dataclass(frozen=True)
class Cluster:
    current_host: str
    hosts: tuple[str, ...]

    @property
    def index(self) -> int:
        return self.hosts.index(self.current_host)


def parse_cluster(text: str, source: str) -> Cluster:
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise SimulationError(f"{source} is not valid JSON: {error}") from None
    if not isinstance(config, dict):
        raise SimulationError(f"{source} must hold a JSON object with current_host and hosts")
    current, hosts = config.get("current_host"), config.get("hosts")
    if not isinstance(current, str) or not current:
        raise SimulationError(f"{source}: current_host must be a non-empty string, got {current!r}")
    if not isinstance(hosts, list) or not hosts or not all(isinstance(h, str) and h for h in hosts):
        raise SimulationError(f"{source}: hosts must be a non-empty list of host names, got {hosts!r}")
    if len(set(hosts)) != len(hosts):
        raise SimulationError(f"{source}: hosts lists a host twice: {hosts}")
    if current not in hosts:
        raise SimulationError(f"{source}: current_host {current!r} is not one of hosts {hosts}")
    # SageMaker lists hosts in order (algo-1, algo-2, ...); every host must rank them the same way.
    return Cluster(current, tuple(sorted(hosts, key=_host_sort_key)))


def _host_sort_key(host: str) -> tuple[str, int, str]:
    stem, _, number = host.rpartition("-")
    return (stem, int(number), host) if number.isdigit() else (host, -1, host)


def read_cluster(opt_ml: layout.OptMl) -> Cluster:
    path = opt_ml.resource_config
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SimulationError(f"{path} is missing: not running in a Processing job (set OPT_ML_ROOT)") from None
    except OSError as error:
        raise SimulationError(f"cannot read {path}: {error.strerror}") from None
    return parse_cluster(text, str(path))


def assigned(count: int, cluster: Cluster) -> range:
    """This host's share of `count` tasks: deterministic from host index and host count only."""
    return range(cluster.index, count, len(cluster.hosts))


# --- stopping --------------------------------------------------------------------------------------------------


class Abandoned(JobFailed):
    """A second signal: the blocks in flight are dropped (their files were never renamed into place)."""


class StopRequest:
    """First SIGTERM/SIGINT: stop taking new blocks. Second: abandon the ones in flight."""

    def __init__(self) -> None:
        self.signal_name: str | None = None

    def install(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._handle)

    @property
    def requested(self) -> bool:
        return self.signal_name is not None

    def _handle(self, signum: int, _frame: object) -> None:
        name = signal.Signals(signum).name
        if self.signal_name is None:
            self.signal_name = name
            print(f"received {name}: finishing the blocks in flight, then stopping", file=sys.stderr, flush=True)
            return
        for sig in (signal.SIGTERM, signal.SIGINT):  # nothing may interrupt the clean-up that follows
            signal.signal(sig, signal.SIG_IGN)
        raise Abandoned(f"stopped by {self.signal_name} then {name}; blocks in flight were abandoned")


# --- blocks ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    out: Path  # the run's folder (the output, or points/point-NNN of a sweep)
    params: Params
    seed: int
    block: int
    iterations: int


def _simulate(task: Task) -> tuple[np.ndarray, float, str]:
    from simulation.engine import _kernel  # loaded on first use: an R-script job never loads numba

    start = time.perf_counter()
    counts = engine.simulate_block(task.params, task.seed, task.block, task.iterations)
    return counts, time.perf_counter() - start, _kernel.backend()


def process_age() -> float:
    """Seconds since this process started (interpreter start-up included), from /proc; where there is no
    /proc, since this module was imported."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return max(0.0, uptime - ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return time.monotonic() - _IMPORTED


_IMPORTED = time.monotonic()


def compute(tasks: list[Task], host: str, workers: int, stop: StopRequest) -> int:
    """Runs the tasks, writing each block file as soon as it is done. Returns the number of blocks written."""
    done = 0

    def finish(task: Task, counts: np.ndarray, seconds: float, backend: str) -> None:
        nonlocal done
        record = records.block_record(task.block, host, task.seed, counts, seconds, backend)
        records.write_json(layout.block_path(task.out, task.block), record)
        done += 1
        print(
            f"{host}: block {task.block:06d} done in {seconds:.2f} s ({done}/{len(tasks)}), "
            f"{process_age():.2f} s after the entrypoint started",
            file=sys.stderr,
        )

    if workers <= 1 or len(tasks) <= 1:
        for task in tasks:
            if stop.requested:
                break
            finish(task, *_simulate(task))
        return done

    # Threads, not processes: the kernel releases the GIL and is already loaded in this process (see
    # engine._executor), so no worker pays for starting Python or loading the kernel again.
    queue = collections.deque(tasks)
    workers = min(workers, len(tasks))
    with ThreadPoolExecutor(workers, thread_name_prefix="block") as pool:
        running: dict[Future[tuple[np.ndarray, float, str]], Task] = {}
        try:
            while queue or running:
                while queue and len(running) < workers and not stop.requested:
                    task = queue.popleft()
                    running[pool.submit(_simulate, task)] = task
                if not running:
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    finish(running.pop(future), *future.result())
        except Abandoned:
            # a thread cannot be killed: the blocks in flight finish in the background (a block is bounded
            # at 2,000,000 points, well under a second) and are never written
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return done


# --- a host's share -----------------------------------------------------------------------------------------


def adopt_finished(tasks: list[Task], root: Path, previous: Path) -> int:
    """A resumed job: copies the finished blocks of these tasks from the previous job's output (`previous`, laid
    out like `root`) into this output unchanged, so only the missing ones are computed. Returns how many."""
    adopted = 0
    for task in tasks:
        source = previous / task.out.relative_to(root)
        if records.load_block(task.out, task.block, task.iterations) is not None:
            continue
        record = records.load_block(source, task.block, task.iterations)
        if record is None or record.get("seed") != task.seed:
            continue
        records.write_atomic(layout.block_path(task.out, task.block), layout.block_path(source, task.block).read_text())
        adopted += 1
    return adopted


def run_blocks(
    runs: list[tuple[Path, Params]],
    iterations: int,
    seed: int,
    cluster: Cluster,
    workers: int,
    stop: StopRequest,
    resume: tuple[Path, Path] | None = None,
) -> tuple[int, int, float]:
    """All blocks of all runs in one global order, this host's round-robin share of them, minus those done
    (and, with `resume=(output root, previous output)`, minus those the previous job finished)."""
    everything = [
        Task(out, params, seed, k, engine.block_iterations(k, iterations, params.people))
        for out, params in runs
        for k in range(engine.block_count(iterations, params.people))
    ]
    mine = [everything[i] for i in assigned(len(everything), cluster)]
    if resume is not None:
        adopted = adopt_finished(mine, *resume)
        print(f"{cluster.current_host}: took over {adopted} finished block(s) of the resumed job", file=sys.stderr)
    todo = [t for t in mine if records.load_block(t.out, t.block, t.iterations) is None]
    print(
        f"{cluster.current_host}: {len(mine)} of {len(everything)} blocks are this host's "
        f"({len(mine) - len(todo)} already done), {workers} worker(s)",
        file=sys.stderr,
    )
    start = time.perf_counter()
    try:
        computed = compute(todo, cluster.current_host, workers, stop)
    except Abandoned as error:
        kept = sum(records.load_block(t.out, t.block, t.iterations) is not None for t in mine)
        _write_manifests(runs, cluster, mine, time.perf_counter() - start, workers, stop)
        raise Abandoned(
            f"{error}; {kept} of the {len(mine)} blocks of {cluster.current_host} are done and kept; "
            "run the job again over the same output to resume"
        ) from None
    seconds = time.perf_counter() - start
    _write_manifests(runs, cluster, mine, seconds, workers, stop)
    return len(mine) - len(todo) + computed, len(mine), seconds


def _write_manifests(
    runs: list[tuple[Path, Params]], cluster: Cluster, mine: list[Task], seconds: float, workers: int, stop: StopRequest
) -> None:
    for out, _params in runs:
        _write_host_manifest(out, cluster, [t for t in mine if t.out == out], seconds, workers, stop)


def _write_host_manifest(
    out: Path, cluster: Cluster, mine: list[Task], seconds: float, workers: int, stop: StopRequest
) -> None:
    done = [t.block for t in mine if records.load_block(t.out, t.block, t.iterations) is not None]
    records.write_json(
        layout.host_manifest_path(out, cluster.current_host),
        {
            "host": cluster.current_host,
            "hosts": list(cluster.hosts),
            "blocks_assigned": [t.block for t in mine],
            "blocks_done": done,
            "status": "complete" if len(done) == len(mine) else f"stopped by {stop.signal_name or 'an error'}",
            "seconds": round(seconds, 3),
            "workers": workers,
            "package_version": records.package_version(),
            "versions": records.runtime_versions(),
            "image_tag": layout.image_tag_from_env(),
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
    )


def stopped(stop: StopRequest, cluster: Cluster, done: int, total: int) -> JobFailed:
    return JobFailed(
        f"stopped by {stop.signal_name} on {cluster.current_host}: {done} of its {total} blocks are done and kept; "
        "run the job again over the same output to resume"
    )
