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
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from simulation import engine
from simulation.engine import Params
from simulation.errors import JobFailed, SimulationError
from simulation.job import layout, merge, records
from simulation.job.script_folder import code_files, script_folder

CONTAINER_OPT_ML = layout.OptMl().root  # where the job image expects the tree


@dataclass(frozen=True)
class LocalJobResult:
    merged: merge.MergedResult
    output: Path
    hosts: int
    blocks_computed: int
    seconds: float


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


def host_command(tree: Path, args: list[str], container: str | None, engine: str | None) -> list[str]:
    if container is None:
        return [sys.executable, *layout.ENTRYPOINT[1:], *args]
    # As SageMaker runs it with network isolation: no network; plus what a local run can afford to add.
    return [
        engine or container_engine(),
        "run",
        "--rm",
        "--network=none",
        "--read-only",
        "--tmpfs=/tmp",
        "--cap-drop=all",
        "--security-opt=no-new-privileges",
        f"--volume={tree}:{CONTAINER_OPT_ML}",
        container,
        *args,
    ]


def container_engine() -> str:
    for name in ("podman", "docker"):
        if shutil.which(name):
            return name
    raise SimulationError("--container needs podman or docker on PATH; neither was found")


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
) -> LocalJobResult:
    """Runs the job's hosts, gathers their outputs into `output`, merges. Interrupted: gathers, then JobFailed."""
    if hosts < 1:
        raise SimulationError(f"--hosts must be at least 1, got {hosts}")
    output = Path(output).resolve()
    record = records.simulate_record(params, iterations, seed)
    records.check_writable(output)
    records.ensure_record(output, record)
    names = host_names(hosts)
    staging = output / layout.STAGING_DIR
    recover(staging, output, record)
    before = {k for k in range(record["block_count"]) if layout.block_path(output, k).exists()}
    started = time.perf_counter()
    shutil.rmtree(staging, ignore_errors=True)
    trees = {host: staging / host for host in names}
    for host, tree in trees.items():
        prepare_host(tree, host, names, output)
    args = entrypoint_args(params, iterations, seed, workers_per_host)
    interrupted, failures = run_hosts(trees, args, output, container, engine)
    seconds = time.perf_counter() - started
    done = {k for k in range(record["block_count"]) if layout.block_path(output, k).exists()}
    if interrupted or failures:
        first = next(iter(failures.items()), None)
        detail = f"{first[0]} exited with {first[1][0]}: {first[1][1]}" if first else "interrupted"
        raise JobFailed(
            f"local job did not finish ({detail}); {len(done)} of {record['block_count']} blocks are kept "
            f"in {output}; run the same command again to resume"
        )
    merged = merge.merge_output(output)
    merged.summary["workers"] = hosts * workers_per_host
    merge.write_result(output, merged)
    shutil.rmtree(staging, ignore_errors=True)
    return LocalJobResult(merged, output, hosts, len(done - before), seconds)


def run_hosts(
    trees: dict[str, Path], args: list[str], output: Path, container: str | None, engine: str | None
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
                host_command(tree, args, container, engine), env=env, stdout=sys.stderr.fileno()
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


# --- a user's R script ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LocalScriptResult:
    output: Path
    hosts: int
    command: list[str]
    files: list[str]
    mean: float | None  # from output_result_mean.txt, when the script wrote one
    seconds: float


def prepare_script_host(tree: Path, host: str, hosts: list[str], root: Path, files: list[Path]) -> None:
    """An /opt/ml tree whose code input is the folder a job would be shipped (`submit --r-script`)."""
    prepare_host(tree, host, hosts, tree / "no-previous-output")
    code = layout.OptMl(tree).code_dir
    for path in files:
        target = code / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def run_local_r_script(
    script: str,
    folder: str | None,
    args: list[str],
    *,
    hosts: int,
    output: Path,
    container: str | None = None,
    engine: str | None = None,
) -> LocalScriptResult:
    """`Rscript SCRIPT --args ARGS` as the `rscript` entrypoint of N emulated hosts (same env: OUTPUT_DIR,
    HOST_INDEX, HOSTS, CURRENT_HOST), their outputs gathered into `output` as the job's S3 prefix would hold them.
    In a container the output is /opt/ml/processing/output, so a script with that path hard-coded works too."""
    if hosts < 1:
        raise SimulationError(f"--hosts must be at least 1, got {hosts}")
    root, relative = script_folder(script, folder)
    files = code_files(root)
    output = Path(output).resolve()
    if (output / layout.RUN_FILE).exists():
        raise SimulationError(f"{output} holds a simulation's output; give the R script another --output folder")
    records.check_writable(output)
    names = host_names(hosts)
    command = ["rscript", "--script", relative, "--", *args]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="simulation-local-job-") as work:
        trees = {host: Path(work) / host for host in names}
        for host, tree in trees.items():
            prepare_script_host(tree, host, names, root, files)
        try:
            interrupted, failures = run_hosts(trees, command, output, container, engine)
        except JobFailed as error:  # two hosts wrote one name: on SageMaker, one would silently replace the other
            raise JobFailed(f"{error}; name each host's files by HOST_INDEX or CURRENT_HOST") from None
    if interrupted or failures:
        first = next(iter(failures.items()), None)
        detail = f"{first[0]} exited with {first[1][0]}: {first[1][1]}" if first else "interrupted"
        raise JobFailed(f"local R-script job did not finish ({detail}); what the hosts wrote is in {output}")
    written = sorted(p.relative_to(output).as_posix() for p in output.rglob("*") if p.is_file())
    return LocalScriptResult(output, hosts, command, written, _mean_of(output), time.perf_counter() - started)


def _mean_of(output: Path) -> float | None:
    try:
        return float((output / layout.MEAN_FILE).read_text().split()[0])
    except (OSError, IndexError, ValueError):
        return None


def describe_script(result: LocalScriptResult) -> str:
    lines = [
        f"local job: {result.hosts} host(s) ran Rscript {result.command[2]} --args {' '.join(result.command[4:])}"
        f" ({result.seconds:.1f} s)",
        f"output: {result.output} ({', '.join(result.files) or 'no files'})",
    ]
    if result.mean is not None:
        lines.append(f"{layout.MEAN_FILE}: {result.mean!r}")
    return "\n".join(lines)


def script_json(result: LocalScriptResult) -> str:
    return json.dumps(
        {"output": str(result.output), "hosts": result.hosts, "files": result.files, "mean": result.mean},
        sort_keys=True,
    )


def describe(result: LocalJobResult) -> str:
    """The human summary `local-job` prints."""
    s = result.merged.summary
    lines = [
        f"local job: {result.hosts} host(s), {s['iterations']} iterations in {s['blocks']} blocks, seed {s['seed']}"
        f" ({result.blocks_computed} blocks computed now, {s['blocks'] - result.blocks_computed} resumed;"
        f" {result.seconds:.1f} s, {s['backend']})",
        f"area {s['width']:g} x {s['height']:g}, {s['people']} people, radius {s['radius']:g}",
        f"mean violations per person: {s['mean']:.6f}",
    ]
    if s["sd"] is not None:
        low, high = s["ci95"]
        lines.append(f"  sd {s['sd']:.6f}, se {s['se']:.6f}, 95% CI [{low:.6f}, {high:.6f}]")
    lines.append(f"  analytic expectation (N-1)p: {s['analytic_mean']:.6f}")
    lines.append(f"output: {result.output} (summary.json, {layout.MEAN_FILE}, blocks/, hosts/)")
    return "\n".join(lines)


def summary_json(result: LocalJobResult) -> str:
    return json.dumps({**result.merged.summary, "output": str(result.output)}, sort_keys=True)


DEFAULT_HOSTS = 3


def default_output(script: bool = False) -> Path:
    """Where a local job gathers its hosts' outputs unless told: the bundled simulation's, or an R script's."""
    return Path("out") / ("local-r-job" if script else "local-job")
