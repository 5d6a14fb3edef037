"""A map job (R's job_lapply, the future backend) emulated on this machine: N hosts, the same entrypoint and files.

A local map job is a folder laid out like the job's place in the bucket (`jobs/<job>/`): `code/` holds what R
shipped (map.json, map.rds, map_host.R), `output/` what the hosts wrote (= the job's S3 output prefix), and
`local.json` how it runs (hosts, cores, container) and where it stands. Each host gets its own /opt/ml tree under
`.staging/` with the code input linked in and its share of the finished blocks seeded into its output; it runs
`python -m simulation.processing map` as a process, or in the job image with no network. Their outputs are moved
into `output/` when they end, whatever happened; blocks that hosts of a killed run left in `.staging/` are taken
over first, so running the folder again computes only what is missing (that is how it resumes).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulation import defaults
from simulation.errors import JobFailed, SimulationError
from simulation.job import containers, layout, map_records, records
from simulation.job.local_job import host_names
from simulation.text import hint, r_string

LOCAL_FILE = "local.json"
LOG_FILE = "local.log"  # a background run's output (hosts' logs, errors)
STATES = ("running", "completed", "failed")
R_LIBS_ENV = "R_LIBS"


@dataclass(frozen=True)
class LocalMap:
    """How a local map job runs; kept in its local.json so that running the folder again runs it the same way."""

    hosts: int = 1
    cores_per_host: int | None = None
    container: str | None = None
    engine: str | None = None
    r_libs: str | None = None  # the R library path of the session that made it (host R only)

    def cores(self) -> int:
        return self.cores_per_host or max(1, defaults.usable_cores() // self.hosts)


def is_local_job(job: str) -> bool:
    """A job given as the folder of a local map job rather than as a SageMaker job name."""
    return os.sep in str(job) and (Path(job) / LOCAL_FILE).is_file()


def read_state(job_dir: Path) -> dict[str, Any]:
    state = records.read_json(Path(job_dir) / LOCAL_FILE)
    if not isinstance(state, dict) or state.get("status") not in STATES:
        raise SimulationError(f"{Path(job_dir) / LOCAL_FILE} is not a local map job's state")
    if state["status"] == "running" and not _alive(state.get("pid")):
        said = _last_line(Path(job_dir) / LOG_FILE)
        message = "the local job's process ended before it could say why" + (f" (its log: {said})" if said else "")
        state = {**state, "status": "failed", "message": message}
    return state


def _last_line(path: Path) -> str | None:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return None
    return lines[-1] if lines else None


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _write_state(job_dir: Path, settings: LocalMap, status: str, **extra: Any) -> None:
    records.write_json(
        job_dir / LOCAL_FILE,
        {
            "hosts": settings.hosts,
            "cores_per_host": settings.cores_per_host,
            "container": settings.container,
            "engine": settings.engine,
            "r_libs": settings.r_libs,
            "status": status,
            "pid": os.getpid(),
            "updated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            **extra,
        },
    )


def settings_of(job_dir: str | Path) -> LocalMap:
    """The settings the folder was last run with; the defaults for a folder never run."""
    if not (Path(job_dir) / LOCAL_FILE).exists():
        return LocalMap()
    state = records.read_json(Path(job_dir) / LOCAL_FILE)
    if not isinstance(state, dict):
        raise SimulationError(f"{Path(job_dir) / LOCAL_FILE} is not a local map job's state")
    return LocalMap(
        hosts=int(state.get("hosts") or 1),
        cores_per_host=state.get("cores_per_host"),
        container=state.get("container"),
        engine=state.get("engine"),
        r_libs=state.get("r_libs"),
    )


def _link(source: Path, target: Path) -> None:
    """A hard link where the file system allows it (a payload of gigabytes is not copied per host), else a copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def prepare_tree(tree: Path, host: str, hosts: list[str], job_dir: Path, spec: map_records.MapSpec) -> None:
    opt_ml = layout.OptMl(tree)
    records.write_json(opt_ml.resource_config, {"current_host": host, "hosts": hosts, "network_interface_name": "eth0"})
    opt_ml.message_file.parent.mkdir(parents=True, exist_ok=True)
    for name in (layout.MAP_SPEC_FILE, layout.MAP_PAYLOAD_FILE, layout.MAP_RUNNER_FILE):
        _link(job_dir / layout.CODE_PART / name, opt_ml.code_dir / name)
    output = job_dir / layout.OUTPUT_PART
    opt_ml.output_dir.mkdir(parents=True, exist_ok=True)
    if (output / layout.RUN_FILE).exists():
        shutil.copy2(output / layout.RUN_FILE, opt_ml.output_dir / layout.RUN_FILE)
    index = hosts.index(host)
    for block in range(index, spec.block_count, len(hosts)):  # this host's finished blocks, as a resumed job has
        if map_records.read_block(output, spec, block) is not None:
            _link(layout.map_values_path(output, block), layout.map_values_path(opt_ml.output_dir, block))
            _link(layout.block_path(output, block), layout.block_path(opt_ml.output_dir, block))


def gather(staging: Path, output: Path) -> None:
    """Moves what every host tree holds into the job's output, as every host's upload lands in one S3 prefix.

    The record of a block moves after its values (it marks the block done); hidden names (atomic writes in flight)
    never move."""
    if not staging.is_dir():
        return
    for tree in sorted(p for p in staging.iterdir() if p.is_dir()):
        source = layout.OptMl(tree).output_dir
        if not source.is_dir():
            continue
        files = [p for p in source.rglob("*") if p.is_file() and not p.name.startswith(".")]
        for path in sorted(files, key=lambda p: (p.suffix == ".json" and p.parent.name == layout.BLOCKS_DIR, p)):
            target = output / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)


def host_command(tree: Path, settings: LocalMap, engine: containers.Engine | None = None) -> list[str]:
    """A host as a process, or with `engine` (what `containers.prepare` chose) in the settings' image."""
    args = [layout.MAP_COMMAND, f"--workers={settings.cores()}"]
    if engine is None or settings.container is None:
        return [sys.executable, *layout.ENTRYPOINT[1:], *args]
    return engine.run_command(settings.container, tree, args)


def check_container(container: str, engine: str | None = None) -> None:
    """R's check before it writes a job for `container`: the line `local-job --container` says, if any."""
    containers.prepare(container, engine)


def prepare_engine(settings: LocalMap) -> containers.Engine | None:
    """The engine that runs the hosts' image, proved by one probe container (as `local-job --container`); one
    line for a missing image or an engine that cannot run it, before anything is started."""
    return containers.prepare(settings.container, settings.engine) if settings.container else None


def _message(tree: Path) -> str:
    try:
        return layout.OptMl(tree).message_file.read_text(encoding="utf-8").strip() or "no message"
    except OSError:
        return "no message"


def run_local_map(job_dir: str | Path, settings: LocalMap | None = None) -> dict[str, Any]:
    """Runs (or resumes) the local map job in `job_dir` to its end; returns the summary of its output.

    `settings` None: those the folder was last run with. A host that fails or an interruption raises JobFailed
    after every finished block was moved into `output/`."""
    job_dir = Path(job_dir).resolve()
    spec = map_records.read_spec(job_dir / layout.CODE_PART)
    if settings is None:
        settings = settings_of(job_dir)
    if settings.hosts < 1:
        raise SimulationError(f"hosts must be at least 1, got {settings.hosts}")
    engine = prepare_engine(settings)
    output = job_dir / layout.OUTPUT_PART
    records.check_writable(output)
    records.ensure_record(output, map_records.run_record(spec))
    staging = job_dir / layout.STAGING_DIR
    gather(staging, output)  # a killed run's finished blocks
    shutil.rmtree(staging, ignore_errors=True)
    names = host_names(settings.hosts)
    trees = {host: staging / host for host in names}
    for host, tree in trees.items():
        prepare_tree(tree, host, names, job_dir, spec)
    _write_state(job_dir, settings, "running")
    env = dict(os.environ)
    if settings.r_libs:
        env[R_LIBS_ENV] = settings.r_libs
    processes: dict[str, subprocess.Popen[bytes]] = {}
    started = time.perf_counter()
    try:
        for host, tree in trees.items():
            env[layout.OPT_ML_ROOT_ENV] = str(tree)
            command = host_command(tree, settings, engine)
            processes[host] = subprocess.Popen(command, env=env, stdout=sys.stderr.fileno())
        for process in processes.values():
            process.wait()
    except BaseException as error:
        for process in processes.values():
            if process.poll() is None:
                process.terminate()  # each host finishes its blocks in flight and exits
        for process in processes.values():
            process.wait()
        gather(staging, output)
        _write_state(job_dir, settings, "failed", message=f"interrupted ({type(error).__name__})")
        raise
    gather(staging, output)
    summary = map_records.summarize(output)
    summary["seconds"] = round(time.perf_counter() - started, 3)
    failures = {h: (p.returncode, _message(trees[h])) for h, p in processes.items() if p.returncode != 0}
    if failures or not summary["complete"]:
        host, (code, message) = next(iter(failures.items()), ("a host", (0, "blocks are missing")))
        text = (
            f"local map job did not finish ({host} exited with {code}: {message}); {summary['blocks_done']} of "
            f"{summary['blocks']} blocks are kept in {output}; {resume_hint(job_dir)} computes only the rest"
        )
        _write_state(job_dir, settings, "failed", message=text)
        raise JobFailed(text)
    shutil.rmtree(staging, ignore_errors=True)
    _write_state(job_dir, settings, "completed", seconds=summary["seconds"])
    return summary


def resume_hint(job_dir: Path) -> str:
    """What runs a stopped local map job's missing blocks, in the caller's terms (R's or the shell's)."""
    shell = shlex.join(["python", "-m", "simulation", "local-job", "--map", str(job_dir)])
    return hint(shell, f"resume_job({r_string(job_dir)})")


def start_local_map(job_dir: str | Path, settings: LocalMap) -> int:
    """Runs the job in a background process (`python -m simulation.job.local_map JOB_DIR`: this module only, not
    the CLI with the AWS client); returns its process id. Its state and log are in the folder."""
    job_dir = Path(job_dir).resolve()
    map_records.read_spec(job_dir / layout.CODE_PART)
    prepare_engine(settings)  # here, where the caller sees its line, not in the background run's log
    _write_state(job_dir, settings, "running")  # this settles the settings the background run reads
    log = (job_dir / LOG_FILE).open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", __name__, str(job_dir)],
        stdout=subprocess.DEVNULL,
        stderr=log,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    log.close()
    state = records.read_json(job_dir / LOCAL_FILE)
    records.write_json(job_dir / LOCAL_FILE, {**state, "pid": process.pid})
    return process.pid


def local_status(job_dir: str | Path) -> dict[str, Any]:
    """Where a local map job stands, shaped like `job_status` of a SageMaker job."""
    job_dir = Path(job_dir).resolve()
    state = read_state(job_dir)
    status = {"running": "InProgress", "completed": "Completed", "failed": "Failed"}[state["status"]]
    return {
        "job": str(job_dir),
        "status": status,
        "failure_reason": state.get("message") if status == "Failed" else None,
        "exit_message": None,
        "output": str(job_dir / layout.OUTPUT_PART),
        "local": True,
        "hosts": state.get("hosts"),
    }


def wait_local(job_dir: str | Path, poll_seconds: float = 0.2, timeout: float | None = None) -> dict[str, Any]:
    """Blocks until the local map job ends; its status (JobFailed for a failed one)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        status = local_status(job_dir)
        if status["status"] != "InProgress":
            break
        if deadline is not None and time.monotonic() > deadline:
            return status
        time.sleep(poll_seconds)
    if status["status"] == "Failed":
        raise JobFailed(f"local map job {job_dir} failed: {status['failure_reason']}")
    return status


def local_results(job_dir: str | Path) -> dict[str, Any]:
    """The summary of a local map job's output, with its status; R reads the values from `output`."""
    job_dir = Path(job_dir).resolve()
    status = local_status(job_dir)
    summary = map_records.summarize(job_dir / layout.OUTPUT_PART)
    return {**summary, "job": str(job_dir), "status": status["status"], "failure_reason": status["failure_reason"]}


def summary_json(summary: dict[str, Any]) -> str:
    return json.dumps(summary, sort_keys=True)


def submit_local_map(
    job_dir: str | Path,
    *,
    elements: int,
    mode: str = "lapply",
    seed: str | None = None,
    seed_drawn: bool = False,
    block_size: int | None = None,
    settings: LocalMap | None = None,
    wait: bool = True,
) -> dict[str, Any]:
    """The front door R uses: map.json beside the payload R wrote into `job_dir/code`, then the job, run to its end
    (`wait`: its summary) or started in the background (its folder is the job's name for status and results)."""
    job_dir = Path(job_dir).resolve()
    settings = settings or LocalMap()
    if settings.hosts < 1:
        raise SimulationError(f"hosts must be at least 1, got {settings.hosts}")
    cores = settings.hosts * settings.cores()
    map_records.write_spec(
        job_dir / layout.CODE_PART,
        elements=elements,
        mode=mode,
        seed=seed,
        seed_drawn=seed_drawn,
        block_size=block_size,
        cores=cores,
    )
    if not wait:
        start_local_map(job_dir, settings)
        return {"job": str(job_dir), "status": "InProgress"}
    return {**run_local_map(job_dir, settings), "job": str(job_dir), "status": "Completed"}


def image_r_packages(container: str, engine: str | None = None) -> list[str]:
    """The R packages installed in `container` (an image), asked of the image itself with no network; a missing
    image or an engine that cannot run it is the same line as `local-job --container` says."""
    chosen = containers.prepare(container, engine)
    script = ["-e", "cat(rownames(installed.packages()), sep = '\\n')"]
    command = chosen.run_command(container, None, script, entrypoint="Rscript")
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise SimulationError(f"cannot list the R packages of image {container}: {last}")
    return sorted(line.strip() for line in done.stdout.splitlines() if line.strip())


def resume_local_map(job_dir: str | Path, wait: bool = True) -> str:
    """Runs a stopped or failed local map job again in its folder: only its missing blocks are computed."""
    job_dir = Path(job_dir).resolve()
    state = read_state(job_dir)
    if state["status"] == "running":
        raise SimulationError(f"local map job {job_dir} is still running (process {state.get('pid')}); let it end")
    output = job_dir / layout.OUTPUT_PART
    summary = map_records.summarize(output) if (output / layout.RUN_FILE).is_file() else None
    if state["status"] == "completed" and summary is not None and summary["complete"]:
        raise SimulationError(f"local map job {job_dir} completed: every block is done, nothing to resume")
    settings = settings_of(job_dir)
    if wait:
        run_local_map(job_dir, settings)
    else:
        start_local_map(job_dir, settings)
    return str(job_dir)


def main(argv: list[str] | None = None) -> int:
    """The background run `start_local_map` starts: the folder's job with its saved settings."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(f"usage: python -m {__name__} JOB_DIR", file=sys.stderr)
        return 2
    try:
        run_local_map(args[0])
    except (SimulationError, JobFailed) as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
