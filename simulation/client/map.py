"""Map jobs on SageMaker: R's job_lapply and future backend ship a payload; this submits it and reads its progress.

R writes the payload folder (map.rds and the runner map_host.R); `submit_map` adds map.json (its digest and block
plan, for the job's cores), checks the request, uploads the folder to `jobs/<job>/code/` and creates one job whose
hosts each run their share of the blocks (`python3 -m simulation.processing map`). The job is tagged `kind=map`,
so the job list tells it apart. `map_results` reads a map job's output prefix, complete or not: R assembles the
values from the blocks' .rds files; `results` shows elements done and the failed ones with their messages.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from simulation.client import aws
from simulation.client.config import JobConfig, load_config
from simulation.client.cost import VCPUS
from simulation.client.images import check_image
from simulation.client.request import build_spec, check_spec
from simulation.client.resources import Resources
from simulation.client.status import describe, status_of
from simulation.client.submit import ResourcesLike, launch, upload_file
from simulation.client.values import as_int
from simulation.errors import SimulationError
from simulation.job import layout, map_records

KIND = map_records.KIND
CODE_FILES = (layout.MAP_SPEC_FILE, layout.MAP_PAYLOAD_FILE, layout.MAP_RUNNER_FILE)
# R packages of the bundled job image beyond base R (container/Dockerfile's r-cran-* packages and what Debian
# installs with them); tests/processing check this list against the image itself. A user's own image (build_image)
# is not known here: its hosts check the packages before running any element.
BUNDLED_R_PACKAGES = (
    "cli",
    "codetools",
    "digest",
    "doParallel",
    "foreach",
    "future",
    "globals",
    "glue",
    "iterators",
    "lifecycle",
    "listenv",
    "magrittr",
    "parallelly",
    "purrr",
    "rlang",
    "vctrs",
)


def image_r_packages(image: str | None = None, platform: str | None = None) -> list[str] | None:
    """The R packages (beyond base R) of the image a job would run; None when this side cannot know them."""
    config = load_config(platform)
    uri = check_image(config, image)
    return list(BUNDLED_R_PACKAGES) if uri == config.image_uri else None


def map_capacity(
    workers: Any = None, instance_type: str | None = None, instance_count: Any = None, platform: str | None = None
) -> dict[str, Any]:
    """What a batch of futures runs on (R's `plan(simjobs::sagemaker)`): `workers` futures at once, one per vCPU.

    Given workers and no instance count, enough instances for one vCPU each (within the platform's limit); given
    no workers, every vCPU of the instances is one."""
    config = load_config(platform)
    wanted = None if workers is None else as_int(workers, "workers", 1)
    count = None if instance_count is None else as_int(instance_count, "instance count", 1)
    chosen = Resources(instance_type=instance_type, instance_count=count).resolve(config)
    vcpus = VCPUS.get(chosen.instance_type, 1)
    if wanted is not None and count is None:
        count = min(config.max_instances, math.ceil(wanted / vcpus))
        chosen = Resources(instance_type=chosen.instance_type, instance_count=count).resolve(config)
    return {
        "instance_type": chosen.instance_type,
        "instance_count": chosen.instance_count,
        "vcpus": vcpus,
        "workers": wanted if wanted is not None else chosen.instance_count * vcpus,
    }


def is_map(description: dict[str, Any]) -> bool:
    arguments = description.get("AppSpecification", {}).get("ContainerArguments") or []
    return bool(arguments) and arguments[0] == layout.MAP_COMMAND


def submit_map(
    folder: str,
    *,
    elements: Any,
    mode: str = "lapply",
    seed: str | None = None,
    seed_drawn: bool = False,
    block_size: Any = None,
    resources: ResourcesLike = None,
    platform: str | None = None,
    wait: bool = False,
    logs: bool = True,
) -> str:
    """Submit the payload R wrote into `folder` as one map job; returns the job name (after it ends if `wait`)."""
    code = Path(folder)
    count = as_int(elements, "elements", 1, map_records.MAX_ELEMENTS)
    size = None if block_size is None else as_int(block_size, "block size", 1, count)
    config = load_config(platform)
    spec = build_spec(config, Resources.of(resources), base=KIND, arguments=[layout.MAP_COMMAND], kind=KIND)
    spec = spec.with_input(config, layout.CODE_PART, layout.CODE_DIR)
    cores = spec.resources.instance_count * VCPUS.get(spec.resources.instance_type, 1)
    map_records.write_spec(
        code, elements=count, mode=mode, seed=seed, seed_drawn=seed_drawn, block_size=size, cores=cores
    )
    check_spec(config, spec)  # a request SageMaker refuses fails here, before the payload is uploaded
    prefix = layout.job_prefix(spec.job_name, layout.CODE_PART)
    for name in CODE_FILES:
        upload_file(config, code / name, prefix + name)
    return launch(config, spec, wait=wait, logs=logs)


def _read_json(config: JobConfig, key: str) -> Any:
    s3 = aws.client("s3", config.region)
    try:
        body = aws.call_with_backoff(
            lambda: s3.get_object(Bucket=config.bucket, Key=key)["Body"].read(),
            f"reading s3://{config.bucket}/{key}",
            passthrough=frozenset({"NoSuchKey", "404"}),
        )
    except ClientError:
        return None
    return json.loads(body)


def _download(config: JobConfig, prefix: str, dest: Path, records_only: bool) -> None:
    """The output prefix into `dest` (only the JSON files while the job runs: its progress, not its values)."""
    s3 = aws.client("s3", config.region)
    paginator = s3.get_paginator("list_objects_v2")
    pages = aws.call_with_backoff(
        lambda: list(paginator.paginate(Bucket=config.bucket, Prefix=prefix)), f"listing s3://{config.bucket}/{prefix}"
    )
    root = dest.resolve()
    for page in pages:
        for item in page.get("Contents", []):
            relative = item["Key"][len(prefix) :]
            if not relative or any(part.startswith(".") for part in relative.split("/")):
                continue  # a temporary file of an atomic write, caught by the continuous upload
            if records_only and not relative.endswith(".json"):
                continue
            target = (root / relative).resolve()
            if root not in target.parents:
                raise SimulationError(f"refusing S3 key outside the output prefix: {item['Key']}")
            if target.exists() and target.stat().st_size == item.get("Size"):
                continue  # files of a job are written once, under names that never change
            target.parent.mkdir(parents=True, exist_ok=True)
            aws.call_with_backoff(
                functools.partial(s3.download_file, config.bucket, item["Key"], str(target)),
                f"downloading s3://{config.bucket}/{item['Key']}",
            )


def _code_prefix(config: JobConfig, job: str, description: dict[str, Any]) -> str:
    """Where the job read its payload: its own `code/`, or for a resumed job the code input of the job it resumes."""
    for item in description.get("ProcessingInputs") or []:
        uri = str(item.get("S3Input", {}).get("S3Uri", ""))
        head = f"s3://{config.bucket}/"
        if item.get("InputName") == layout.CODE_PART and uri.startswith(head):
            return uri[len(head) :]
    return layout.job_prefix(job, layout.CODE_PART)


def map_results(job: str, target: Path, config: JobConfig) -> dict[str, Any]:
    """A map job's progress and failures (while it runs), or its whole output (once it ended) in `target/output`."""
    description = describe(job, config)
    status = status_of(description)
    spec_value = _read_json(config, _code_prefix(config, job, description) + layout.MAP_SPEC_FILE)
    if spec_value is None:
        raise SimulationError(f"map job {job} has no {layout.MAP_SPEC_FILE} in its code input")
    spec = map_records.parse_spec(spec_value, f"{job}'s {layout.MAP_SPEC_FILE}")
    output = target / layout.OUTPUT_PART
    ended = status["status"] in ("Completed", "Failed", "Stopped")
    _download(config, layout.job_prefix(job, layout.OUTPUT_PART), output, records_only=not ended)
    summary = map_records.summarize(output, spec)
    result = {
        **summary,
        "job": job,
        "status": status["status"],
        "failure_reason": status["failure_reason"],
        "output_uri": status["output"],
        "duration_seconds": status["duration_seconds"],
    }
    target.mkdir(parents=True, exist_ok=True)
    (target / layout.SUMMARY_FILE).write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    return result
