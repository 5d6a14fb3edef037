"""Resuming a stopped, failed or timed-out simulation or sweep job: a new job that computes only the missing blocks.

A SageMaker job cannot be restarted in place, and a new job writes a new prefix. So the new job gets the old
job's arguments (parameters, seed, iterations: hence the same block plan), the old job's output prefix as an
input at `layout.RESUME_DIR`, and `--resume-from` it: each host copies the finished blocks it is assigned from
there into its own output (unchanged, so they upload to the new prefix too) and computes the rest. The new
job's output then holds every block, and its merged result is the uninterrupted run's, bit for bit.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from simulation.client import aws
from simulation.client.config import JobConfig, load_config
from simulation.client.request import JobSpec, build_spec, s3_uri
from simulation.client.resources import Resources
from simulation.client.status import PLATFORM_TAG, USER_TAG, describe
from simulation.client.submit import launch, upload_bytes
from simulation.client.values import tag_value
from simulation.client.watch import watch
from simulation.errors import SimulationError
from simulation.job import layout, local_map
from simulation.text import hint, r_string, say

RESUMABLE = ("simulate", "sweep", layout.MAP_COMMAND)
RESUME_FLAG = "--resume-from"
SWEEP_TAG = "sweep"


def _tags(config: JobConfig, description: Mapping[str, Any]) -> dict[str, str]:
    sagemaker = aws.client("sagemaker", config.region)
    arn = description.get("ProcessingJobArn")
    if not arn:
        return {}
    response = aws.call_with_backoff(lambda: sagemaker.list_tags(ResourceArn=arn), f"reading the tags of {arn}")
    return {t.get("Key"): t.get("Value") for t in response.get("Tags", [])}


def _refuse_unless_resumable(job: str, config: JobConfig, description: Mapping[str, Any]) -> list[str]:
    """The old job's arguments, or one line saying why it cannot be resumed."""
    state = description.get("ProcessingJobStatus")
    if state in ("InProgress", "Stopping"):
        stop = hint(f"python -m simulation stop {job}", f"stop_job({r_string(job)})")
        raise SimulationError(f"job {job} is still {state}: let it end or stop it ({stop}), then resume it")
    if state == "Completed":
        fetch = hint(f"python -m simulation results {job}", f"job_results({r_string(job)})")
        raise SimulationError(f"job {job} completed: every block is done, nothing to resume ({fetch})")
    tags = _tags(config, description)
    wanted = {PLATFORM_TAG: config.platform, **({USER_TAG: tag_value(config.user)} if config.user else {})}
    if any(tags.get(key) != value for key, value in wanted.items()):
        whose = f"of platform {config.platform}" + (f" and user {config.user}" if config.user else "")
        raise SimulationError(f"job {job} is not a job {whose}; cannot resume it here")
    arguments = list(description.get("AppSpecification", {}).get("ContainerArguments") or [])
    if arguments[:1] == ["rscript"]:
        raise SimulationError(
            f"job {job} ran an R script: it has no blocks to take over, so it cannot be resumed; submit it again"
        )
    if not arguments or arguments[0] not in RESUMABLE:
        raise SimulationError(f"job {job} is not a simulation, sweep or map job; cannot resume it")
    return arguments


def _without_resume(arguments: list[str]) -> list[str]:
    """The old job's arguments minus its own `--resume-from DIR` (resuming a resumed job)."""
    kept: list[str] = []
    skip = False
    for argument in arguments:
        if skip:
            skip = False
        elif argument == RESUME_FLAG:
            skip = True
        elif not argument.startswith(f"{RESUME_FLAG}="):
            kept.append(argument)
    return kept


def _has_run_record(config: JobConfig, job: str) -> bool:
    s3 = aws.client("s3", config.region)
    key = layout.job_prefix(job, layout.OUTPUT_PART) + layout.RUN_FILE
    try:
        aws.call_with_backoff(
            lambda: s3.head_object(Bucket=config.bucket, Key=key),
            f"reading s3://{config.bucket}/{key}",
            passthrough=frozenset({"404", "NoSuchKey", "NotFound"}),
        )
    except ClientError:
        return False
    return True


def _old_image(config: JobConfig, image: str | None) -> str | None:
    """The old job's image while the platform still allows it (a user image, the bundled one); else the
    platform's current bundled image, whose run.json check then refuses a changed package rather than mix."""
    if not image:
        return None
    try:
        Resources(image=image).resolve(config)
    except SimulationError:
        return None
    return image


def _resources(config: JobConfig, description: Mapping[str, Any], chosen: Resources) -> Resources:
    """The old job's resources, with what the caller chose instead (more hosts, a longer runtime, ...)."""
    cluster = description.get("ProcessingResources", {}).get("ClusterConfig", {})
    runtime = description.get("StoppingCondition", {}).get("MaxRuntimeInSeconds")
    old = {
        "instance_type": cluster.get("InstanceType"),
        "instance_count": cluster.get("InstanceCount"),
        "volume_size_gb": cluster.get("VolumeSizeInGB"),
        "max_runtime_seconds": min(runtime, config.max_runtime_seconds) if runtime else None,
        "image": _old_image(config, description.get("AppSpecification", {}).get("ImageUri")),
    }
    given = {field.name: getattr(chosen, field.name) for field in dataclasses.fields(chosen)}
    return dataclasses.replace(chosen, **{k: v for k, v in old.items() if given.get(k) is None and k in given})


def _seed_of(arguments: list[str]) -> int | None:
    for flag, value in zip(arguments, arguments[1:], strict=False):
        if flag == "--seed" and value.isdigit():
            return int(value)
    return None


def resume_spec(config: JobConfig, job: str, resources: Resources | Mapping[str, Any] | None = None) -> JobSpec:
    """The new job's spec; every refusal (unknown, running, completed, R script, nothing kept) before AWS is
    asked to create anything."""
    description = describe(job, config)
    arguments = _refuse_unless_resumable(job, config, description)
    if not _has_run_record(config, job):
        raise SimulationError(
            f"job {job} kept no {layout.RUN_FILE} in {s3_uri(config, job, layout.OUTPUT_PART)}: it finished no "
            "block, so there is nothing to take over; submit it again"
        )
    sweep_id = _tags(config, description).get(SWEEP_TAG)
    spec = build_spec(
        config,
        _resources(config, description, Resources.of(resources)),
        base="resume",
        arguments=[*_without_resume(arguments), RESUME_FLAG, layout.RESUME_DIR],
        sweep_id=sweep_id,
        seed=_seed_of(arguments),
        kind=layout.MAP_COMMAND if arguments[0] == layout.MAP_COMMAND else None,
    )
    inputs: list[tuple[str, str, str]] = [
        (layout.RESUME_PART, s3_uri(config, job, layout.OUTPUT_PART), layout.RESUME_DIR)
    ]
    if arguments[0] == "sweep":  # its points: the old job's spec, read where the old job read it
        inputs.append((layout.CONFIG_PART, s3_uri(config, job, layout.CONFIG_PART), layout.CONFIG_DIR))
    if arguments[0] == layout.MAP_COMMAND:  # R's payload and block plan: the old job's code input, unchanged
        inputs.append((layout.CODE_PART, s3_uri(config, job, layout.CODE_PART), layout.CODE_DIR))
    return dataclasses.replace(spec, inputs=tuple(inputs))


def _update_sweep_manifest(config: JobConfig, sweep_id: str, old: str, new: str) -> None:
    """`results <sweep>` then collects the resumed job in the old one's place."""
    from simulation.client.results import read_manifest

    manifest = read_manifest(config, sweep_id)
    if manifest is None or old not in manifest.get("jobs", []):
        return
    manifest["jobs"] = [new if name == old else name for name in manifest["jobs"]]
    manifest.setdefault("resumed", {})[new] = old
    upload_bytes(config, json.dumps(manifest, indent=2).encode(), layout.sweep_manifest_key(sweep_id))


def resume_job(
    job: str,
    *,
    resources: Resources | Mapping[str, Any] | None = None,
    platform: str | None = None,
    wait: bool = False,
    logs: bool = True,
) -> str:
    """Start a job that finishes `job` (stopped, failed or timed out); returns the new job's name.

    Same parameters, seed and block plan; the old job's finished blocks are taken over, only the missing ones
    run. `resources` overrides the old job's (e.g. more instances or a longer runtime).
    """
    if local_map.is_local_job(job):  # a local map job resumes in its own folder
        return local_map.resume_local_map(job, wait=wait)
    config = load_config(platform)
    spec = resume_spec(config, job, resources)
    name = launch(config, spec, wait=False, logs=logs)
    say(f"  resumes {job}: its finished blocks are taken over, only the missing ones run")
    if spec.sweep_id:
        _update_sweep_manifest(config, spec.sweep_id, job, name)
    if wait:
        watch(name, config=config, logs=logs)
    return name
