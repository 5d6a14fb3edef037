"""Submitting jobs: the bundled simulation, or a user's own R script with its folder.

Each submission checks its values, builds the request (`request.build_spec`), checks it against SageMaker's
model, uploads what the job reads, creates the job, says where it is, and follows it if asked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from simulation import defaults
from simulation.client import aws
from simulation.client.config import JobConfig, load_config
from simulation.client.cost import estimate, plan
from simulation.client.request import (
    JobSpec,
    build_spec,
    check_spec,
    choose_seed,
    s3_uri,
    say_fresh_seed,
    simulate_arguments,
)
from simulation.client.resources import Resources
from simulation.client.values import r_argument
from simulation.client.watch import watch
from simulation.job import layout
from simulation.job.script_folder import code_files, r_version_warnings, script_folder
from simulation.text import hint, r_string, say

ResourcesLike = Resources | Mapping[str, Any] | None


def upload_file(config: JobConfig, path: Path, key: str) -> None:
    s3 = aws.client("s3", config.region)
    aws.call_with_backoff(lambda: s3.upload_file(str(path), config.bucket, key), f"uploading {path}")


def upload_bytes(config: JobConfig, data: bytes, key: str) -> None:
    s3 = aws.client("s3", config.region)
    aws.call_with_backoff(lambda: s3.put_object(Bucket=config.bucket, Key=key, Body=data), f"uploading s3 {key}")


def create_job(config: JobConfig, spec: JobSpec) -> str:
    request = check_spec(config, spec)
    sagemaker = aws.client("sagemaker", config.region)
    aws.call_with_backoff(lambda: sagemaker.create_processing_job(**request), f"creating job {spec.job_name}")
    return spec.job_name


def announce(config: JobConfig, spec: JobSpec) -> None:
    resources = spec.resources
    ceiling = estimate(resources.instance_type, resources.instance_count, resources.max_runtime_seconds / 3600)
    say(
        f"submitted {spec.job_name}: {resources.instance_count} x {resources.instance_type}, "
        f"output {s3_uri(config, spec.job_name, layout.OUTPUT_PART)}"
    )
    say(f"  cost ceiling at the {resources.max_runtime_seconds} s limit: {ceiling['text']}")
    job = spec.job_name
    say(f"  follow it: {hint(f'python -m simulation watch {job}', f'wait_for_job({r_string(job)})')}")


def launch(config: JobConfig, spec: JobSpec, *, wait: bool, logs: bool) -> str:
    """Create the job, say where it is, and follow it to the end if asked; returns the job name."""
    create_job(config, spec)
    announce(config, spec)
    if wait:
        watch(spec.job_name, config=config, logs=logs)
    return spec.job_name


def submit_simulation(
    width: Any = None,
    height: Any = None,
    people: Any = None,
    radius: Any = None,
    iterations: Any = None,
    seed: Any = None,
    *,
    resources: ResourcesLike = None,
    platform: str | None = None,
    wait: bool = False,
    logs: bool = True,
    seed_drawn: bool = False,
) -> str:
    """Run the bundled Monte Carlo as a processing job; returns the job name (after it ends if `wait`).

    Parameters left as None take `simulation.defaults`; no seed means fresh entropy, said on stderr as the first
    line and recorded in the job's run.json (pass it again to reproduce the sample). `seed_drawn`: the caller drew
    `seed` for this submission (the CLI, to print it with --json), so it is said as a fresh one.
    """
    chosen_seed = choose_seed(seed)
    values = defaults.fill(width=width, height=height, people=people, radius=radius, iterations=iterations)
    arguments = simulate_arguments(**values, seed=chosen_seed)
    chosen = Resources.of(resources)
    config = load_config(platform)
    spec = build_spec(config, chosen, base="sim", arguments=arguments, seed=chosen_seed)
    predicted = plan(spec.resources.instance_type, spec.resources.instance_count, **values)
    if seed is None or seed_drawn:
        say_fresh_seed(chosen_seed)  # an unseeded submission's first line: before the plan
    say(f"plan: {predicted['text']}")  # before anything is created: time to result and price, next to a local run
    return launch(config, spec, wait=wait, logs=logs)


def submit_r_script(
    script: str,
    folder: str | None = None,
    args: Iterable[Any] = (),
    *,
    resources: ResourcesLike = None,
    platform: str | None = None,
    wait: bool = False,
    logs: bool = True,
) -> str:
    """Ship `folder` (default: the script's folder) and run `Rscript <script> --args ...` in the job image.

    The script writes its results to $OUTPUT_DIR (/opt/ml/processing/output), which lands in the job's
    S3 output prefix. Packages in the folder built for another R minor version than the job image's are warned
    about on stderr (`r_version_warnings`).
    """
    root, relative = script_folder(script, folder)
    files = code_files(root)
    for line in r_version_warnings(files, root):  # before the upload: the user may rather fix the folder
        say(f"warning: {line}")
    chosen = Resources.of(resources)
    arguments = ["rscript", "--script", relative, "--", *[r_argument(a) for a in args]]
    config = load_config(platform)
    spec = build_spec(config, chosen, base="rscript", arguments=arguments)
    spec = spec.with_input(config, layout.CODE_PART, layout.CODE_DIR)
    check_spec(config, spec)  # an argument SageMaker refuses fails here, before the folder is uploaded
    code_prefix = layout.job_prefix(spec.job_name, layout.CODE_PART)
    for path in files:
        upload_file(config, path, code_prefix + path.relative_to(root).as_posix())
    return launch(config, spec, wait=wait, logs=logs)
