"""A SageMaker Processing job emulated on this machine: the same entrypoint, N hosts, the same output layout.

Each host gets its own temporary /opt/ml tree (resourceconfig.json naming algo-1..algo-N) and runs
`python -m simulation.processing simulate ...` (or `rscript --script ...` with a copy of the user's folder as
its code input) as a process, or as a container with no network. Their
outputs are then gathered into one folder exactly as the job's S3 output prefix would hold them; a file two
hosts both wrote with different bytes is a collision and an error. Finished blocks already in the folder
are handed to every host first, so a re-run after an interruption computes only what is missing.

A simulation's host trees live in the output folder itself (`layout.STAGING_DIR`), not in a temporary folder: a
host writes each finished block there atomically, so when everything is killed at once (SIGKILL to the process
group, a closed terminal's SIGHUP) the next run gathers what the hosts finished before it starts them again.
"""

from __future__ import annotations

import filecmp
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from simulation import engine
from simulation.engine import Params
from simulation.errors import JobFailed, SimulationError
from simulation.job import containers, layout, merge, records, report
from simulation.text import exact, from_r, r_string

# Each emulated host is a process of its own (a Python with the kernel loaded, or an R); beyond this many a local
# job only measures this machine's process table. More than a run's blocks would leave hosts with nothing to do.
MAX_HOSTS = 32
DEFAULT_HOSTS = 3


@dataclass(frozen=True)
class LocalJobResult:
    merged: merge.MergedResult
    output: Path
    hosts: int
    blocks_computed: int
    seconds: float
    files: list[str]


def resume_call(params: Params, iterations: int, seed: int, hosts: int, given: dict[str, object]) -> str:
    """The call that finishes this very run, in the caller's terms (R's `local_job(...)`, else the shell's
    `local-job`): every value spelled out, the seed included (an unseeded call would draw another seed, hence
    another run; the default output folder is named by the same values). `given`: the options the caller set
    (output, workers_per_host, container, engine), None for those it did not."""
    numbers = ("width", "height", "radius")
    values: dict[str, object] = {"hosts": hosts, "width": params.width, "height": params.height}
    values.update(people=params.people, radius=params.radius, iterations=iterations, seed=seed)
    values.update((name, value) for name, value in given.items() if value is not None)
    texts = {name: exact(float(str(value))) if name in numbers else str(value) for name, value in values.items()}
    if from_r():  # text (the seed, paths, images) quoted; the seed has more digits than R's numbers hold
        numeric = {"hosts", "people", "iterations", "workers_per_host", *numbers}
        arguments = [f"{name} = {text if name in numeric else r_string(text)}" for name, text in texts.items()]
        return f"local_job({', '.join(arguments)})"
    words = [word for name, text in texts.items() for word in (f"--{name}".replace("_", "-"), text)]
    return shlex.join(["python", "-m", "simulation", "local-job", *words])


def check_hosts(hosts: int, blocks: int | None = None) -> None:
    """One line for a host count a local job cannot use: below 1, above MAX_HOSTS, or above the run's blocks."""
    # in the caller's terms: local_job(hosts = ...) from R, local-job --hosts in the shell
    command, option, submit, more = (
        ("local_job", "hosts = ", "submit_simulation(instance_count = {})", "iterations")
        if from_r()
        else ("local-job", "--hosts ", "submit --instance-count {}", "--iterations")
    )
    if hosts < 1:
        raise SimulationError(f"{command}: {option.strip()} must be at least 1, got {hosts}")
    if hosts > MAX_HOSTS:
        raise SimulationError(
            f"{command}: {option}{hosts} is more than {MAX_HOSTS} (each emulated host is a process of its own); "
            f"a SageMaker job takes more: {submit.format(hosts)}"
        )
    if blocks is not None and hosts > blocks:
        raise SimulationError(
            f"{command}: {option}{hosts} is more than this run's {blocks} block(s) (block k goes to host k mod "
            f"hosts, so {hosts - blocks} would have nothing to do); use {option}{blocks} or fewer, or more {more}"
        )


def choose_hosts(hosts: int | None, blocks: int) -> int:
    """The host count of a simulation's local job: the one given, checked, else DEFAULT_HOSTS or the run's blocks
    if fewer (a 100-iteration run is one block)."""
    chosen = min(DEFAULT_HOSTS, blocks) if hosts is None else hosts
    check_hosts(chosen, blocks)
    return chosen


def host_names(count: int) -> list[str]:
    return [f"algo-{i}" for i in range(1, count + 1)]


def prepare_host(tree: Path, host: str, hosts: list[str], output: Path) -> None:
    """An /opt/ml tree as SageMaker lays it out, its output seeded with the run's finished blocks."""
    config = {"current_host": host, "hosts": hosts, "network_interface_name": "eth0"}
    opt_ml = layout.OptMl(tree)
    records.write_json(opt_ml.resource_config, config)
    opt_ml.message_file.parent.mkdir(parents=True, exist_ok=True)
    out = opt_ml.output_dir
    out.mkdir(parents=True, exist_ok=True)
    if (output / layout.RUN_FILE).exists():
        shutil.copy2(output / layout.RUN_FILE, out / layout.RUN_FILE)
    if (output / layout.BLOCKS_DIR).is_dir():
        shutil.copytree(output / layout.BLOCKS_DIR, out / layout.BLOCKS_DIR, ignore=_temporaries)


def _temporaries(_folder: str, names: list[str]) -> list[str]:
    return [n for n in names if n.startswith(".")]


def entrypoint_args(params: Params, iterations: int, seed: int, workers: int) -> list[str]:
    return [
        "simulate",
        f"--width={params.width!r}",
        f"--height={params.height!r}",
        f"--people={params.people}",
        f"--radius={params.radius!r}",
        f"--iterations={iterations}",
        f"--seed={seed}",
        f"--workers={workers}",
    ]


def host_command(tree: Path, args: list[str], engine: containers.Engine | None, image: str | None) -> list[str]:
    if engine is None or image is None:
        return [sys.executable, *layout.ENTRYPOINT[1:], *args]
    return engine.run_command(image, tree, args)


def gather(trees: dict[str, Path], output: Path) -> None:
    """Copies every host's output into `output`, the way S3 merges all hosts' uploads under one prefix."""
    origin: dict[Path, tuple[str, Path]] = {}
    for host, tree in trees.items():
        source = layout.OptMl(tree).output_dir
        for path in sorted(source.rglob("*")):
            if not path.is_file() or path.name.startswith("."):
                continue
            relative = path.relative_to(source)
            if relative in origin and not filecmp.cmp(origin[relative][1], path, shallow=False):
                raise JobFailed(f"hosts {origin[relative][0]} and {host} both wrote {relative} with different content")
            origin.setdefault(relative, (host, path))
    for relative, (_host, path) in origin.items():
        target = output / relative
        if target.exists() and filecmp.cmp(target, path, shallow=False):
            continue
        records.write_atomic(target, path.read_text(encoding="utf-8"))


def recover(staging: Path, output: Path, record: dict[str, object]) -> int:
    """Blocks that hosts of an earlier, killed run finished in the staging area, moved into the output folder.
    Only valid records of this run's blocks count (writes are atomic, so a killed write leaves a hidden temp
    file, never a torn block); returns how many were recovered."""
    if not staging.is_dir():
        return 0
    params = records.params_of(dict(record))
    iterations = int(str(record["iterations"]))
    recovered = 0
    for tree in sorted(p for p in staging.iterdir() if p.is_dir()):
        source = layout.OptMl(tree).output_dir
        for k in range(int(str(record["block_count"]))):
            target = layout.block_path(output, k)
            if target.exists():
                continue
            expected = engine.block_iterations(k, iterations, params.people)
            block = records.load_block(source, k, expected)
            if block is not None:
                records.write_atomic(target, layout.block_path(source, k).read_text(encoding="utf-8"))
                recovered += 1
    return recovered


def _host_message(tree: Path) -> str:
    try:
        return layout.OptMl(tree).message_file.read_text(encoding="utf-8").strip()
    except OSError:
        return "no message"


def run_local_job(
    params: Params,
    iterations: int,
    seed: int,
    *,
    hosts: int,
    output: Path,
    workers_per_host: int = 1,
    container: str | None = None,
    engine: str | None = None,
    announce: Callable[[], None] | None = None,
) -> LocalJobResult:
    """Runs the job's hosts, gathers their outputs into `output`, merges and writes every output (`report`).
    `announce` is called once every check has passed, just before the hosts start. Interrupted: gathers, then
    JobFailed saying how many blocks are kept."""
    record = records.simulate_record(params, iterations, seed)
    check_hosts(hosts, record["block_count"])
    image_engine = containers.prepare(container, engine) if container else None
    output = Path(output).resolve()
    records.check_writable(output)
    records.ensure_record(output, record)
    names = host_names(hosts)
    staging = output / layout.STAGING_DIR
    recover(staging, output, record)
    before = {k for k in range(record["block_count"]) if layout.block_path(output, k).exists()}
    if announce is not None:
        announce()
    started = time.perf_counter()
    shutil.rmtree(staging, ignore_errors=True)
    trees = {host: staging / host for host in names}
    for host, tree in trees.items():
        prepare_host(tree, host, names, output)
    args = entrypoint_args(params, iterations, seed, workers_per_host)
    interrupted, failures = run_hosts(trees, args, output, image_engine, container)
    seconds = time.perf_counter() - started
    done = {k for k in range(record["block_count"]) if layout.block_path(output, k).exists()}
    if interrupted or failures:
        first = next(iter(failures.items()), None)
        # interrupted: the hosts stopped because of it, and what they said (run again over the output) is no hint
        detail = f"{first[0]} exited with {first[1][0]}: {first[1][1]}" if first and not interrupted else "interrupted"
        raise JobFailed(
            f"local job did not finish ({detail}); {len(done)} of {record['block_count']} blocks are kept in {output}"
        )
    merged = merge.merge_output(output)
    merged.summary["workers"] = hosts * workers_per_host
    files = report.write_merged(output, merged)
    shutil.rmtree(staging, ignore_errors=True)
    return LocalJobResult(merged, output, hosts, len(done - before), seconds, files)


def run_hosts(
    trees: dict[str, Path], args: list[str], output: Path, engine: containers.Engine | None, image: str | None
) -> tuple[bool, dict[str, tuple[int, str]]]:
    """Runs the entrypoint with `args` on every host, then gathers their outputs into `output` whatever happened.
    Returns (interrupted, {host: (exit status, its message)} of the hosts that failed)."""
    interrupted = False
    env = {**os.environ, layout.OPT_ML_ROOT_ENV: ""}
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for host, tree in trees.items():
            env[layout.OPT_ML_ROOT_ENV] = str(tree)
            # the hosts' stdout would garble --json: everything they say goes to stderr
            processes[host] = subprocess.Popen(
                host_command(tree, args, engine, image), env=env, stdout=sys.stderr.fileno()
            )
        interrupted = _wait_all(processes)
    finally:
        for process in processes.values():  # only if waiting itself failed
            if process.poll() is None:
                process.kill()
                process.wait()
        gather(trees, output)  # whatever happened, keep every finished block
    return interrupted, {h: (p.returncode, _host_message(trees[h])) for h, p in processes.items() if p.returncode != 0}


def _wait_all(processes: dict[str, subprocess.Popen[bytes]]) -> bool:
    """Waits for every host. Ctrl-C already reached them (same process group); SIGTERM is passed on. Each host
    finishes its blocks in flight and exits, so we keep waiting: the caller then gathers what they finished."""
    interrupted = False

    def forward(signum: int, _frame: object) -> None:
        nonlocal interrupted
        interrupted = True
        for process in processes.values():
            if process.poll() is None and signum == signal.SIGTERM:
                process.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        for process in processes.values():
            process.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return interrupted


def describe(result: LocalJobResult) -> str:
    """The human summary `local-job` prints: the result in the one format of every command (`report.describe`),
    after a line saying what this run did."""
    s = result.merged.summary
    head = (
        f"local job: {result.hosts} host(s), {result.blocks_computed} blocks computed now, "
        f"{s['blocks'] - result.blocks_computed} resumed ({result.seconds:.1f} s)"
    )
    files = [*result.files, layout.BLOCKS_DIR + "/", layout.HOSTS_DIR + "/"]
    return head + "\n" + report.describe(s, result.output, files)


def summary_json(result: LocalJobResult) -> str:
    return json.dumps({**result.merged.summary, "output": str(result.output), "files": result.files}, sort_keys=True)


# --- default output folders: one per run ---------------------------------------------------------------------------

OUTPUT_ROOT = Path("out")


def _number(value: float) -> str:
    """1000.0 -> '1000', 6.5 -> '6.5': exact (repr), so two different values never share a name."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def default_output(params: Params, iterations: int, seed: int) -> Path:
    """out/local-job/<parameters>-seed<seed>: the same run (whatever its host count) always finds its own blocks
    there to resume, and another run never collides with it."""
    name = (
        f"{_number(params.width)}x{_number(params.height)}-n{params.people}-r{_number(params.radius)}"
        f"-i{iterations}-seed{seed}"
    )
    return OUTPUT_ROOT / "local-job" / name
