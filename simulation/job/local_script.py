"""`local-job --r-script`: a user's R script as the `rscript` entrypoint of N emulated hosts, on this machine.

Each host gets an /opt/ml tree whose code input is a copy of the folder a job would ship, and runs the script with
the job's environment (OUTPUT_DIR, HOST_INDEX, HOSTS, CURRENT_HOST); their outputs are gathered into one folder as
the job's S3 prefix would hold them. Per-iteration values the hosts wrote to iterations/<host>.csv are put together
into the same outputs a simulation has (`report.combine_script_output`).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from simulation.errors import JobFailed, SimulationError
from simulation.job import containers, layout, records, report
from simulation.job.local_job import OUTPUT_ROOT, check_hosts, host_names, prepare_host, run_hosts
from simulation.job.script_folder import JOB_IMAGE_R, code_files, r_minor, script_folder
from simulation.job.script_folder import r_version_warnings as script_folder_warnings
from simulation.text import hint


@dataclass(frozen=True)
class LocalScriptResult:
    output: Path
    hosts: int
    command: list[str]
    files: list[str]
    mean: float | None  # the hosts' iterations put together, else the script's own output_result_mean.txt
    seconds: float
    summary: dict[str, object] | None  # when the hosts wrote iterations/<host>.csv
    notes: list[str]


def prepare_script_host(tree: Path, host: str, hosts: list[str], root: Path, files: list[Path]) -> None:
    """An /opt/ml tree whose code input is the folder a job would be shipped (`submit --r-script`)."""
    prepare_host(tree, host, hosts, tree / "no-previous-output")
    code = layout.OptMl(tree).code_dir
    for path in files:
        target = code / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def r_notes(files: list[Path], root: Path, container: str | None) -> list[str]:
    """Where the R that ran here differs from a job's (container/Dockerfile's R), said before the user meets it."""
    notes = script_folder_warnings(files, root)
    here = None if container else records.r_version()
    if here is not None and r_minor(here) != r_minor(JOB_IMAGE_R):
        notes.append(
            f"this machine's R {here} ran the script; jobs run R {JOB_IMAGE_R} (the job image): try it there "
            f"with {hint('--container', 'container =')}"
        )
    return notes


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
    In a container the output is /opt/ml/processing/output, so a script with that path hard-coded works too.
    Per-iteration values the hosts wrote to iterations/<host>.csv are put together as a simulation's outputs."""
    check_hosts(hosts)
    root, relative = script_folder(script, folder)
    files = code_files(root)
    image_engine = containers.prepare(container, engine) if container else None
    output = Path(output).resolve()
    if (output / layout.RUN_FILE).exists():
        other = hint("another --output folder", "another output = folder")
        raise SimulationError(f"{output} holds a simulation's output; give the R script {other}")
    records.check_writable(output)
    names = host_names(hosts)
    command = ["rscript", "--script", relative, "--", *args]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="simulation-local-job-") as work:
        trees = {host: Path(work) / host for host in names}
        for host, tree in trees.items():
            prepare_script_host(tree, host, names, root, files)
        try:
            interrupted, failures = run_hosts(trees, command, output, image_engine, container)
        except JobFailed as error:  # two hosts wrote one name: on SageMaker, one would silently replace the other
            raise JobFailed(
                f"{error}; name each host's files by CURRENT_HOST or HOST_INDEX (R/examples/own_script/main.R "
                f"writes {layout.SCRIPT_ITERATIONS_DIR}/<CURRENT_HOST>.csv)"
            ) from None
    if interrupted or failures:
        first = next(iter(failures.items()), None)
        detail = f"{first[0]} exited with {first[1][0]}: {first[1][1]}" if first else "interrupted"
        raise JobFailed(f"local R-script job did not finish ({detail}); what the hosts wrote is in {output}")
    combined = report.combine_script_output(output, output, names)
    summary = combined[0] if combined else None
    mean = float(str(summary["mean"])) if summary else _mean_of(output)
    written = sorted(p.relative_to(output).as_posix() for p in output.rglob("*") if p.is_file())
    seconds = time.perf_counter() - started
    return LocalScriptResult(output, hosts, command, written, mean, seconds, summary, r_notes(files, root, container))


def _mean_of(output: Path) -> float | None:
    try:
        return float((output / layout.MEAN_FILE).read_text().split()[0])
    except (OSError, IndexError, ValueError):
        return None


def describe_script(result: LocalScriptResult) -> str:
    head = (
        f"local job: {result.hosts} host(s) ran Rscript {result.command[2]} --args {' '.join(result.command[4:])}"
        f" ({result.seconds:.1f} s)"
    )
    if result.summary is not None:
        lines = [head, report.describe(result.summary, result.output, _top_level(result.files))]
    else:
        lines = [head, f"output: {result.output} ({', '.join(result.files) or 'no files'})"]
        if result.mean is not None:
            lines.append(f"{layout.MEAN_FILE}: {result.mean!r}")
    lines += [f"  note: {note}" for note in result.notes]
    return "\n".join(lines)


def _top_level(files: list[str]) -> list[str]:
    """`iterations/` once instead of each host's file in it."""
    seen: list[str] = []
    for name in files:
        top = name.split("/", 1)[0] + ("/" if "/" in name else "")
        if top not in seen:
            seen.append(top)
    return seen


def script_json(result: LocalScriptResult) -> str:
    return json.dumps(
        {
            **(result.summary or {}),
            "output": str(result.output),
            "hosts": result.hosts,
            "files": result.files,
            "mean": result.mean,
            "notes": result.notes,
        },
        sort_keys=True,
    )


def default_script_output(script: str) -> Path:
    """out/local-r-job/<script>-<UTC time>: an R script's run has no blocks to resume, so each gets its own."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    base = OUTPUT_ROOT / "local-r-job" / f"{Path(script).stem}-{stamp}"
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate
