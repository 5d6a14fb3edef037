"""The CreateProcessingJob request, built by pure functions so tests can compare it field by field.

boto3 rather than the sagemaker SDK: CreateProcessingJob is one documented request whose every field we
want to set and test ourselves (network isolation, VPC, tags). Everything is checked, against the
platform's limits and against SageMaker's own API model, before AWS is asked to create anything.
"""

from __future__ import annotations

import getpass
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

from simulation.client.config import JobConfig, image_tag
from simulation.client.resources import Resolved, Resources
from simulation.client.status import KIND_TAG
from simulation.client.validation import check_request
from simulation.client.values import (
    MAX_ITERATIONS,
    MAX_NAME,
    as_float,
    as_int,
    check_name_part,
    format_number,
    tag_value,
)
from simulation.engine import Params
from simulation.errors import SimulationError
from simulation.job import layout
from simulation.text import hint, r_string, say

USER_ENV = "SIMLAB_USER"
Input = tuple[str, str, str]  # (input name, S3 uri, local path in the container)


def make_job_name(
    platform: str, base: str, *, now: datetime | None = None, token: str | None = None, reserve: int = 0
) -> str:
    """`<platform>-<base>-<UTC stamp>-<random>`: unique, sortable, listable by the prefix (the platform, or
    in SageMaker mode the user's `<platform>-<user>`).

    At most 63 - `reserve` characters, so a caller can append a suffix (a sweep's `-p003`).
    """
    check_name_part(platform, "platform name")
    check_name_part(base)
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%d-%H%M%S")
    token = token or secrets.token_hex(4)  # 2^32: same-second submissions do not collide
    suffix = f"-{stamp}-{token}"
    room = MAX_NAME - reserve - len(platform) - 1 - len(suffix)
    if room < 1:
        raise SimulationError(f"platform name {platform!r} is too long to build job names from")
    base = base[:room].rstrip("-")
    return check_name_part(f"{platform}-{base}{suffix}")


def current_user() -> str:
    user = os.environ.get(USER_ENV)
    if user:
        return user
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry inside some containers
        return "unknown"


def s3_uri(config: JobConfig, job_name: str, part: str) -> str:
    return f"s3://{config.bucket}/{layout.job_prefix(job_name, part)}"


@dataclass(frozen=True)
class JobSpec:
    """Everything a processing job needs beyond the platform configuration."""

    job_name: str
    arguments: tuple[str, ...]
    resources: Resolved
    inputs: tuple[Input, ...] = ()
    sweep_id: str | None = None
    user: str = "unknown"
    seed: int | None = None  # of a simulation or sweep: reported when the job is submitted
    kind: str | None = None  # tagged `kind` where the job list should tell it apart (map jobs)

    def with_input(self, config: JobConfig, part: str, local_path: str) -> JobSpec:
        """Adds the job's `jobs/<job>/<part>/` prefix as an input mounted at `local_path`."""
        return replace(self, inputs=(*self.inputs, (part, s3_uri(config, self.job_name, part), local_path)))


def build_spec(
    config: JobConfig,
    resources: Resources,
    *,
    base: str,
    arguments: Sequence[str],
    default_count: int = 1,
    sweep_id: str | None = None,
    job_name: str | None = None,
    seed: int | None = None,
    kind: str | None = None,
) -> JobSpec:
    """A job's spec: resources resolved against the platform, a fresh job name unless one is given."""
    return JobSpec(
        job_name=job_name or make_job_name(config.name_prefix, resources.name or base),
        arguments=tuple(arguments),
        resources=resources.resolve(config, default_count=default_count),
        sweep_id=sweep_id,
        user=config.user or current_user(),
        seed=seed,
        kind=kind,
    )


def processing_request(config: JobConfig, spec: JobSpec) -> dict[str, Any]:
    """The CreateProcessingJob request: isolated in the platform's VPC, output under the job's prefix."""
    tags = [{"Key": "platform", "Value": config.platform}, {"Key": "user", "Value": tag_value(spec.user)}]
    if spec.sweep_id:
        tags.append({"Key": "sweep", "Value": spec.sweep_id})
    if spec.kind:
        tags.append({"Key": KIND_TAG, "Value": spec.kind})
    resources = spec.resources
    return {
        "ProcessingJobName": spec.job_name,
        "RoleArn": config.execution_role_arn,
        "AppSpecification": {
            "ImageUri": resources.image_uri,
            "ContainerEntrypoint": list(layout.ENTRYPOINT),
            "ContainerArguments": list(spec.arguments),
        },
        "ProcessingInputs": [
            {
                "InputName": name,
                "S3Input": {
                    "S3Uri": uri,
                    "LocalPath": local,
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                    "S3DataDistributionType": "FullyReplicated",
                },
            }
            for name, uri, local in spec.inputs
        ],
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": layout.OUTPUT_PART,
                    "S3Output": {
                        "S3Uri": s3_uri(config, spec.job_name, layout.OUTPUT_PART),
                        "LocalPath": layout.OUTPUT_DIR,
                        # each finished block reaches S3 as it is written: a stopped, failed or timed-out job
                        # keeps them (for --resume) and `watch` counts them while the job runs
                        "S3UploadMode": "Continuous",
                    },
                }
            ]
        },
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": resources.instance_count,
                "InstanceType": resources.instance_type,
                "VolumeSizeInGB": resources.volume_size_gb,
            }
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": resources.max_runtime_seconds},
        "NetworkConfig": {
            "EnableNetworkIsolation": True,
            "EnableInterContainerTrafficEncryption": True,
            "VpcConfig": {"SecurityGroupIds": list(config.security_group_ids), "Subnets": list(config.subnet_ids)},
        },
        "Environment": {
            layout.IMAGE_TAG_ENV: image_tag(resources.image_uri),
            layout.PLATFORM_ENV: config.platform,
            layout.JOB_NAME_ENV: spec.job_name,
        },
        "Tags": tags,
    }


def check_spec(config: JobConfig, spec: JobSpec) -> dict[str, Any]:
    """The request, checked against SageMaker's API model: call before uploading anything for the job."""
    request = processing_request(config, spec)
    check_request("sagemaker", "CreateProcessingJob", request)
    return request


def check_params(width: float, height: float, people: int, radius: float) -> Params:
    """The engine's own validation, so a bad parameter fails here and not an hour into a job."""
    try:
        return Params(width=width, height=height, people=people, radius=radius)
    except SimulationError:
        raise
    except (TypeError, ValueError) as error:
        raise SimulationError(f"invalid simulation parameters: {error}") from None


def say_fresh_seed(seed: int) -> None:
    """A run's fresh seed, said as its first line (once its input is checked, before its plan or its start), in
    the caller's terms: an interrupted or surprising run can then be repeated, a local job resumed, with it."""
    again = hint(f"--seed {seed}", f"seed = {r_string(seed)}")
    say(f"seed {seed} (pass {again} to reproduce this sample)")


def announce_seed(seed: Any) -> int:
    """`choose_seed`, and a seed drawn here said at once (`say_fresh_seed`)."""
    chosen = choose_seed(seed)
    if seed is None:
        say_fresh_seed(chosen)
    return chosen


def choose_seed(seed: Any) -> int:
    """The seed of a submission: the one given (exactly, also from R as digits), else fresh entropy.

    Every front door (CLI, Python, R, sweeps) comes through here, so none has a fixed default seed
    (`simulation.defaults` says why) and the seed drawn is the one reported and recorded.
    """
    if seed is None:
        from simulation.engine import fresh_seed

        return fresh_seed()
    return as_int(seed, "seed", 0)


def simulate_arguments(width: Any, height: Any, people: Any, radius: Any, iterations: Any, seed: Any) -> list[str]:
    """Validated `simulate ...` arguments of the processing entrypoint (contract section 2)."""
    values: dict[str, float | int] = {
        "width": as_float(width, "width"),
        "height": as_float(height, "height"),
        "people": as_int(people, "people", 2),
        "radius": as_float(radius, "radius"),
        "iterations": as_int(iterations, "iterations", 1, MAX_ITERATIONS),
        "seed": as_int(seed, "seed", 0),
    }
    check_params(float(values["width"]), float(values["height"]), int(values["people"]), float(values["radius"]))
    args = ["simulate"]
    for key, value in values.items():
        args += [f"--{key}", format_number(value)]
    return args
