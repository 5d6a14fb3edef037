"""SageMaker Processing entrypoint: `python -m simulation.processing simulate|sweep|rscript ...`.

Each instance reads /opt/ml/config/resourceconfig.json, takes its round-robin share of the engine's fixed
blocks (block k goes to host k mod H), and writes every finished block at once as its own file under
/opt/ml/processing/output, which SageMaker uploads to one S3 prefix for all hosts. A re-run over the same
output skips finished blocks. SIGTERM/SIGINT (a stopped job, Ctrl-C) finishes the blocks in flight, keeps
everything done, writes /opt/ml/output/message and exits 1; a second signal abandons the blocks in flight.
OPT_ML_ROOT (default /opt/ml) relocates the whole layout, so the same code runs outside a container.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulation import merge
from simulation.errors import JobFailed, SimulationError

MESSAGE_LIMIT = 1024  # SageMaker shows the first 1 KB of /opt/ml/output/message as the failure reason


@dataclass(frozen=True)
class Layout:
    root: Path

    @classmethod
    def from_env(cls) -> Layout:
        return cls(Path(os.environ.get("OPT_ML_ROOT", "/opt/ml")))

    @property
    def resource_config(self) -> Path:
        return self.root / "config" / "resourceconfig.json"

    @property
    def input_dir(self) -> Path:
        return self.root / "processing" / "input"

    @property
    def code_dir(self) -> Path:
        return self.input_dir / "code"

    @property
    def output_dir(self) -> Path:
        return self.root / "processing" / "output"

    @property
    def message_file(self) -> Path:
        return self.root / "output" / "message"


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


def read_cluster(layout: Layout) -> Cluster:
    path = layout.resource_config
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
    params: Any
    seed: int
    block: int
    iterations: int


def _simulate(task: Task) -> tuple[Any, float, str]:
    from simulation import _kernel, engine

    start = time.perf_counter()
    counts = engine.simulate_block(task.params, task.seed, task.block, task.iterations)
    return counts, time.perf_counter() - start, _kernel.backend()


def compute(tasks: list[Task], host: str, workers: int, stop: StopRequest) -> int:
    """Runs the tasks, writing each block file as soon as it is done. Returns the number of blocks written."""
    done = 0

    def finish(task: Task, counts: Any, seconds: float, backend: str) -> None:
        nonlocal done
        record = merge.block_record(task.block, host, task.seed, counts, seconds, backend)
        merge.write_json(merge.block_path(task.out, task.block), record)
        done += 1
        print(f"{host}: block {task.block:06d} done in {seconds:.2f} s ({done}/{len(tasks)})", file=sys.stderr)

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
        running: dict[Future[tuple[Any, float, str]], Task] = {}
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


# --- subcommands -----------------------------------------------------------------------------------------------


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _params(values: dict[str, Any], source: str) -> Any:
    from simulation.engine import Params

    try:
        return Params(
            width=float(values["width"]),
            height=float(values["height"]),
            people=int(values["people"]),
            radius=float(values["radius"]),
        )
    except KeyError as error:
        raise SimulationError(f"{source}: missing {error.args[0]}") from None
    except (TypeError, ValueError) as error:
        raise SimulationError(f"{source}: {error}") from None


def run_blocks(
    runs: list[tuple[Path, Any]], iterations: int, seed: int, cluster: Cluster, workers: int, stop: StopRequest
) -> tuple[int, int, float]:
    """All blocks of all runs in one global order, this host's round-robin share of them, minus those done."""
    from simulation import engine

    everything = [
        Task(out, params, seed, k, engine.block_iterations(k, iterations, params.people))
        for out, params in runs
        for k in range(engine.block_count(iterations, params.people))
    ]
    mine = [everything[i] for i in assigned(len(everything), cluster)]
    todo = [t for t in mine if merge.load_block(t.out, t.block, t.iterations) is None]
    print(
        f"{cluster.current_host}: {len(mine)} of {len(everything)} blocks are this host's "
        f"({len(mine) - len(todo)} already done), {workers} worker(s)",
        file=sys.stderr,
    )
    start = time.perf_counter()
    try:
        computed = compute(todo, cluster.current_host, workers, stop)
    except Abandoned as error:
        kept = sum(merge.load_block(t.out, t.block, t.iterations) is not None for t in mine)
        _write_manifests(runs, cluster, mine, time.perf_counter() - start, workers, stop)
        raise Abandoned(
            f"{error}; {kept} of the {len(mine)} blocks of {cluster.current_host} are done and kept; "
            "run the job again over the same output to resume"
        ) from None
    seconds = time.perf_counter() - start
    _write_manifests(runs, cluster, mine, seconds, workers, stop)
    return len(mine) - len(todo) + computed, len(mine), seconds


def _write_manifests(
    runs: list[tuple[Path, Any]], cluster: Cluster, mine: list[Task], seconds: float, workers: int, stop: StopRequest
) -> None:
    for out, _params in runs:
        _write_host_manifest(out, cluster, [t for t in mine if t.out == out], seconds, workers, stop)


def _write_host_manifest(
    out: Path, cluster: Cluster, mine: list[Task], seconds: float, workers: int, stop: StopRequest
) -> None:
    done = [t.block for t in mine if merge.load_block(t.out, t.block, t.iterations) is not None]
    merge.write_json(
        out / merge.HOSTS_DIR / f"{cluster.current_host}.json",
        {
            "host": cluster.current_host,
            "hosts": list(cluster.hosts),
            "blocks_assigned": [t.block for t in mine],
            "blocks_done": done,
            "status": "complete" if len(done) == len(mine) else f"stopped by {stop.signal_name or 'an error'}",
            "seconds": round(seconds, 3),
            "workers": workers,
            "package_version": merge.package_version(),
            "image_tag": os.environ.get(merge.IMAGE_TAG_ENV),
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
    )


def _stopped(stop: StopRequest, cluster: Cluster, done: int, total: int) -> JobFailed:
    return JobFailed(
        f"stopped by {stop.signal_name} on {cluster.current_host}: {done} of its {total} blocks are done and kept; "
        "run the job again over the same output to resume"
    )


def cmd_simulate(args: argparse.Namespace, layout: Layout, stop: StopRequest) -> int:
    cluster = read_cluster(layout)
    params = _params(vars(args), "simulate")
    merge.check_writable(layout.output_dir)
    merge.ensure_record(layout.output_dir, merge.simulate_record(params, args.iterations, args.seed))
    done, total, _ = run_blocks([(layout.output_dir, params)], args.iterations, args.seed, cluster, args.workers, stop)
    if stop.requested:
        raise _stopped(stop, cluster, done, total)
    if len(cluster.hosts) == 1:  # this process holds every block: write the final result too
        merged = merge.merge_output(layout.output_dir)
        merge.write_result(layout.output_dir, merged)
        print(json.dumps({k: v for k, v in merged.summary.items() if k != "manifest"}, sort_keys=True))
    return 0


def load_sweep(path: Path) -> tuple[list[Any], int, int]:
    spec = merge.read_json(path)
    if not isinstance(spec, dict):
        raise SimulationError(f"{path} must hold a JSON object with seed, iterations and points")
    seed, iterations, points = spec.get("seed"), spec.get("iterations"), spec.get("points")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise SimulationError(f"{path}: seed must be a non-negative integer, got {seed!r}")
    if not isinstance(iterations, int) or isinstance(iterations, bool) or iterations < 1:
        raise SimulationError(f"{path}: iterations must be a positive integer, got {iterations!r}")
    if not isinstance(points, list) or not points or not all(isinstance(p, dict) for p in points):
        raise SimulationError(f"{path}: points must be a non-empty list of objects")
    return [_params(p, f"{path} point {i}") for i, p in enumerate(points)], iterations, seed


def cmd_sweep(args: argparse.Namespace, layout: Layout, stop: StopRequest) -> int:
    cluster = read_cluster(layout)
    points, iterations, seed = load_sweep(Path(args.spec))
    out = layout.output_dir
    merge.check_writable(out)
    merge.ensure_record(out, merge.sweep_record(points, iterations, seed))
    runs = [(merge.point_dir(out, i), p) for i, p in enumerate(points)]
    for directory, params in runs:
        merge.ensure_record(directory, merge.simulate_record(params, iterations, seed))
    done, total, _ = run_blocks(runs, iterations, seed, cluster, args.workers, stop)
    if stop.requested:
        raise _stopped(stop, cluster, done, total)
    if len(cluster.hosts) == 1:
        merge.write_sweep_result(out, merge.merge_sweep(out))
    return 0


def rscript_command(script: str, script_args: list[str]) -> list[str]:
    rscript = shutil.which("Rscript")
    if rscript is None:
        raise SimulationError("Rscript is not installed in this image")
    if script_args[:1] == ["--args"]:  # callers used to the original workflow pass it themselves
        script_args = script_args[1:]
    return [rscript, script, "--args", *script_args]


def cmd_rscript(args: argparse.Namespace, layout: Layout, stop: StopRequest) -> int:
    cluster = read_cluster(layout)
    code = layout.code_dir
    if Path(args.script).is_absolute() or ".." in Path(args.script).parts:
        raise SimulationError(f"--script must name a file inside the code input, got {args.script!r}")
    if not (code / args.script).is_file():
        raise SimulationError(f"R script {args.script!r} not found in {code} (the job's code input)")
    merge.check_writable(layout.output_dir)
    env = {
        **os.environ,
        "OUTPUT_DIR": str(layout.output_dir),
        "INPUT_DIR": str(layout.input_dir),
        "CURRENT_HOST": cluster.current_host,
        "HOSTS": ",".join(cluster.hosts),
        "HOST_INDEX": str(cluster.index),
    }
    command = rscript_command(args.script, args.script_args)
    print(f"{cluster.current_host}: {' '.join(command)} (in {code})", file=sys.stderr, flush=True)
    process = subprocess.Popen(command, cwd=code, env=env, stderr=subprocess.PIPE)
    tail: collections.deque[bytes] = collections.deque(maxlen=40)
    copier = threading.Thread(target=_tee, args=(process.stderr, tail), daemon=True)
    copier.start()
    forwarded = False
    while process.poll() is None:
        if stop.requested and not forwarded:
            process.terminate()  # R has no blocks to finish; its own handlers (if any) get SIGTERM
            forwarded = True
        try:
            process.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            continue
    copier.join(timeout=5)
    if stop.requested:
        raise JobFailed(f"stopped by {stop.signal_name}: Rscript {args.script} was terminated")
    if process.returncode != 0:
        last = b"".join(tail).decode("utf-8", "replace").strip().splitlines()[-3:]
        raise JobFailed(f"Rscript {args.script} exited with status {process.returncode}: {' | '.join(last)}")
    return 0


def _tee(stream: Any, tail: collections.deque[bytes]) -> None:
    """R's stderr goes to the job log as it comes, and its last lines into the failure message."""
    for line in iter(stream.readline, b""):
        sys.stderr.buffer.write(line)
        sys.stderr.buffer.flush()
        tail.append(line)


# --- main ------------------------------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise SimulationError(f"{self.prog}: {message}")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


_positive_int.__name__ = "positive integer"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m simulation.processing", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def add_workers(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--workers", type=_positive_int, default=default_workers(), help="worker threads (default: CPUs)"
        )

    simulate = sub.add_parser("simulate", help="this host's share of the bundled Monte Carlo")
    for name, kind in (("width", float), ("height", float), ("people", int), ("radius", float)):
        simulate.add_argument(f"--{name}", type=kind, required=True)
    simulate.add_argument("--iterations", type=_positive_int, required=True)
    simulate.add_argument("--seed", type=int, required=True)
    add_workers(simulate)
    simulate.set_defaults(handler=cmd_simulate)

    sweep = sub.add_parser("sweep", help="several parameter sets in one job")
    sweep.add_argument("--spec", required=True, help="JSON: {seed, iterations, points: [{width, height, ...}]}")
    add_workers(sweep)
    sweep.set_defaults(handler=cmd_sweep)

    rscript = sub.add_parser("rscript", help="the user's own R script: Rscript NAME.R --args ...")
    rscript.add_argument("--script", required=True, help="file name inside /opt/ml/processing/input/code")
    rscript.add_argument("script_args", nargs="*", help="after --: arguments for the script")
    rscript.set_defaults(handler=cmd_rscript)
    return parser


def write_message(layout: Layout, text: str) -> None:
    data = text.encode("utf-8")[:MESSAGE_LIMIT].decode("utf-8", "ignore")
    try:
        merge.write_atomic(layout.message_file, data + "\n")
    except OSError as error:  # the failure itself is already on stderr; say why the message is missing
        print(f"(could not write {layout.message_file}: {error.strerror or error})", file=sys.stderr)


def runtime_line(command: str | None) -> str:
    """The job log's first line: versions, and for the bundled engine where its compiled kernel came from
    (`cache`: numba's on-disk cache, filled when the image was built; `compiled`: compiled in this process;
    `numpy`: no numba, the slow fallback) and how long loading it took."""
    import platform

    from simulation import __version__

    parts = [f"simulation {__version__}", f"Python {platform.python_version()}"]
    if command in ("simulate", "sweep"):
        started = time.perf_counter()
        from simulation import _kernel

        loaded = time.perf_counter() - started
        parts.append(_kernel.describe())
        parts.append(f"kernel from {_kernel.kernel_source()} (loaded in {loaded:.2f} s)")
    elif command == "rscript":
        rscript = shutil.which("Rscript")
        version = subprocess.run([rscript, "--version"], capture_output=True, text=True).stdout if rscript else ""
        parts.append(version.strip().replace("Rscript (R) version", "R") or "R not installed")
    return ", ".join(parts)


def main(argv: list[str] | None = None) -> int:
    layout = Layout.from_env()
    stop = StopRequest()
    stop.install()
    command = (sys.argv[1:] if argv is None else argv)[:1]
    print(runtime_line(command[0] if command else None), file=sys.stderr, flush=True)
    try:
        args = build_parser().parse_args(argv)
        return int(args.handler(args, layout, stop))
    except SimulationError as error:
        print(f"error: {error}", file=sys.stderr)
        write_message(layout, str(error))
        return error.exit_code
    except Exception as error:  # a bug: the log gets the traceback, the job's status one line
        traceback.print_exc()
        write_message(layout, f"internal error: {type(error).__name__}: {error}")
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
