"""SageMaker Processing entrypoint: `python -m simulation.processing simulate|sweep|map|rscript ...`.

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
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import IO, Any

from simulation import defaults
from simulation.engine import Params
from simulation.errors import JobFailed, SimulationError
from simulation.job import layout, merge, records
from simulation.job.hosts import StopRequest, read_cluster, run_blocks, stopped
from simulation.job.layout import OptMl
from simulation.job.map_host import cmd_map
from simulation.options import RUN_OPTIONS, add_engine_options

MESSAGE_LIMIT = 1024  # SageMaker shows the first 1 KB of /opt/ml/output/message as the failure reason


def _params(values: dict[str, Any], source: str) -> Params:
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


def resumed(args: argparse.Namespace, out: Path, wanted: dict[Path, dict[str, Any]]) -> tuple[Path, Path] | None:
    """`--resume-from DIR`: the previous job's output must describe this very run, folder by folder."""
    if args.resume_from is None:
        return None
    previous = Path(args.resume_from)
    for directory, record in wanted.items():
        source = previous / directory.relative_to(out)
        if not (source / layout.RUN_FILE).exists():
            continue  # the previous job never started this run: nothing to take over
        if records.read_json(source / layout.RUN_FILE) != record:
            raise SimulationError(
                f"{source / layout.RUN_FILE} describes another run than this job's; refusing to mix their blocks"
            )
    return out, previous


def cmd_simulate(args: argparse.Namespace, opt_ml: OptMl, stop: StopRequest) -> int:
    cluster = read_cluster(opt_ml)
    params = _params(vars(args), "simulate")
    records.check_writable(opt_ml.output_dir)
    record = records.simulate_record(params, args.iterations, args.seed)
    records.ensure_record(opt_ml.output_dir, record)
    resume = resumed(args, opt_ml.output_dir, {opt_ml.output_dir: record})
    done, total, _ = run_blocks(
        [(opt_ml.output_dir, params)], args.iterations, args.seed, cluster, args.workers, stop, resume
    )
    if stop.requested:
        raise stopped(stop, cluster, done, total)
    if len(cluster.hosts) == 1:  # this process holds every block: write the final result too
        merged = merge.merge_output(opt_ml.output_dir)
        merge.write_result(opt_ml.output_dir, merged)
        print(json.dumps({k: v for k, v in merged.summary.items() if k != "manifest"}, sort_keys=True))
    return 0


def load_sweep(path: Path) -> tuple[list[Params], int, int]:
    spec = records.read_json(path)
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


def cmd_sweep(args: argparse.Namespace, opt_ml: OptMl, stop: StopRequest) -> int:
    cluster = read_cluster(opt_ml)
    points, iterations, seed = load_sweep(Path(args.spec))
    out = opt_ml.output_dir
    records.check_writable(out)
    records.ensure_record(out, records.sweep_record(points, iterations, seed))
    runs = [(layout.point_dir(out, i), p) for i, p in enumerate(points)]
    wanted = {out: records.sweep_record(points, iterations, seed)}
    for directory, params in runs:
        wanted[directory] = records.simulate_record(params, iterations, seed)
        records.ensure_record(directory, wanted[directory])
    done, total, _ = run_blocks(runs, iterations, seed, cluster, args.workers, stop, resumed(args, out, wanted))
    if stop.requested:
        raise stopped(stop, cluster, done, total)
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


def cmd_rscript(args: argparse.Namespace, opt_ml: OptMl, stop: StopRequest) -> int:
    cluster = read_cluster(opt_ml)
    code = opt_ml.code_dir
    if Path(args.script).is_absolute() or ".." in Path(args.script).parts:
        raise SimulationError(f"--script must name a file inside the code input, got {args.script!r}")
    if not (code / args.script).is_file():
        raise SimulationError(f"R script {args.script!r} not found in {code} (the job's code input)")
    records.check_writable(opt_ml.output_dir)
    env = {
        **os.environ,
        "OUTPUT_DIR": str(opt_ml.output_dir),
        "INPUT_DIR": str(opt_ml.input_dir),
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


def _tee(stream: IO[bytes], tail: collections.deque[bytes]) -> None:
    """R's stderr goes to the job log as it comes, and its last lines into the failure message."""
    for line in iter(stream.readline, b""):
        sys.stderr.buffer.write(line)
        sys.stderr.buffer.flush()
        tail.append(line)


# --- main ------------------------------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise SimulationError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m simulation.processing", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def add_workers(p: argparse.ArgumentParser) -> None:
        add_engine_options(p, ("workers",))
        p.set_defaults(workers=defaults.usable_cores())
        p.add_argument(
            "--resume-from",
            metavar="DIR",
            help=f"a stopped job's output ({layout.RESUME_DIR}): take over its blocks",
        )

    simulate = sub.add_parser("simulate", help="this host's share of the bundled Monte Carlo")
    add_engine_options(simulate, RUN_OPTIONS, required=True)  # the client always passes every value
    add_workers(simulate)
    simulate.set_defaults(handler=cmd_simulate)

    sweep = sub.add_parser("sweep", help="several parameter sets in one job")
    sweep.add_argument("--spec", required=True, help="JSON: {seed, iterations, points: [{width, height, ...}]}")
    add_workers(sweep)
    sweep.set_defaults(handler=cmd_sweep)

    mapped = sub.add_parser(layout.MAP_COMMAND, help="this host's share of an R map (job_lapply, futures)")
    add_workers(mapped)
    mapped.set_defaults(handler=cmd_map)

    rscript = sub.add_parser("rscript", help="the user's own R script: Rscript NAME.R --args ...")
    rscript.add_argument("--script", required=True, help="file name inside /opt/ml/processing/input/code")
    rscript.add_argument("script_args", nargs="*", help="after --: arguments for the script")
    rscript.set_defaults(handler=cmd_rscript)
    return parser


def write_message(opt_ml: OptMl, text: str) -> None:
    data = text.encode("utf-8")[:MESSAGE_LIMIT].decode("utf-8", "ignore")
    try:
        records.write_atomic(opt_ml.message_file, data + "\n")
    except OSError as error:  # the failure itself is already on stderr; say why the message is missing
        print(f"(could not write {opt_ml.message_file}: {error.strerror or error})", file=sys.stderr)


def runtime_line(command: str | None) -> str:
    """The job log's first line: versions, and for the bundled engine where its compiled kernel came from
    (`cache`: numba's on-disk cache, filled when the image was built; `compiled`: compiled in this process;
    `numpy`: no numba, the slow fallback) and how long loading it took."""
    import platform

    from simulation import __version__

    parts = [f"simulation {__version__}", f"Python {platform.python_version()}"]
    if command in ("simulate", "sweep"):
        started = time.perf_counter()
        from simulation.engine import _kernel

        loaded = time.perf_counter() - started
        parts.append(_kernel.describe())
        parts.append(f"kernel from {_kernel.kernel_source()} (loaded in {loaded:.2f} s)")
    elif command in ("rscript", layout.MAP_COMMAND):
        rscript = shutil.which("Rscript")
        version = subprocess.run([rscript, "--version"], capture_output=True, text=True).stdout if rscript else ""
        parts.append(version.strip().replace("Rscript (R) version", "R") or "R not installed")
    return ", ".join(parts)


def main(argv: list[str] | None = None) -> int:
    opt_ml = OptMl.from_env()
    stop = StopRequest()
    stop.install()
    command = (sys.argv[1:] if argv is None else argv)[:1]
    print(runtime_line(command[0] if command else None), file=sys.stderr, flush=True)
    try:
        args = build_parser().parse_args(argv)
        return int(args.handler(args, opt_ml, stop))
    except SimulationError as error:
        print(f"error: {error}", file=sys.stderr)
        write_message(opt_ml, str(error))
        return error.exit_code
    except Exception as error:  # a bug: the log gets the traceback, the job's status one line
        traceback.print_exc()
        write_message(opt_ml, f"internal error: {type(error).__name__}: {error}")
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
