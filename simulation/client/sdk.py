"""The SageMaker Python SDK path: a `ScriptProcessor` built from the platform's job config.

Users of the original workflow write `sagemaker$processing$ScriptProcessor(...)` from R. On this platform
three of its defaults fail: `get_execution_role()` is the caller's own role (iam:PassRole is denied),
`Session().default_bucket()` creates a `sagemaker-<region>-<account>` bucket (denied), and a job without a
VPC and network isolation is refused by the submitter policy. `script_processor()` fills in what the
platform decides (execution role, image, isolated network, the platform bucket with jobs under the same
`jobs/` prefix the CLI uses, runtime cap, tags) and leaves `run(code=..., arguments=..., outputs=...)` as it
was. The checks `submit` makes (allowed instance type, instance count, runtime, image) happen here, before
anything is uploaded or created.

The SDK is v2 (pinned in requirements.txt): its `sagemaker.processing` import path is what existing R code
uses; v3 moved it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

from simulation.client import aws
from simulation.client.config import JobConfig, image_tag, load_config
from simulation.client.request import current_user
from simulation.client.resources import Resources
from simulation.client.values import MAX_NAME, check_name_part, tag_value
from simulation.errors import SimulationError
from simulation.job import layout

DEFAULT_COMMAND = ("Rscript",)

# What the platform sets and a caller may not override: each would break the submitter policy or the
# platform's confinement. Everything else of ScriptProcessor's constructor passes through unchanged.
_PLATFORM_ARGUMENTS = {
    "role": "the platform's execution role",
    "image_uri": "image= (the bundled image or one in the platform's user repository)",
    "network_config": "the platform's isolated job subnets and security group",
    "sagemaker_session": "a session on the platform bucket",
    "instance_type": "instance_type=",
    "instance_count": "instance_count=",
}


def _sdk() -> Any:
    # v2 prints a banner about v3 on import; the pin is deliberate (see the module docstring).
    os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    # "Not applying SDK defaults from location ..." on import and every Session: the platform sets what
    # matters. The SDK leaves a level that is already set alone.
    config_logger = logging.getLogger("sagemaker.config")
    if config_logger.level == logging.NOTSET:
        config_logger.setLevel(logging.WARNING)
    try:
        import sagemaker  # noqa: PLC0415 - optional: only this path needs it
        from sagemaker.network import NetworkConfig
        from sagemaker.processing import ScriptProcessor
    except ImportError:
        raise SimulationError(
            "the SageMaker Python SDK is not installed here: pip install -r requirements.txt (sagemaker 2.x)"
        ) from None
    if not str(sagemaker.__version__).startswith("2."):
        raise SimulationError(f"script_processor needs the SageMaker Python SDK 2.x; found {sagemaker.__version__}")
    return sagemaker, NetworkConfig, ScriptProcessor


def platform_session(config: JobConfig) -> Any:
    """A sagemaker Session on this platform's bucket: default_bucket() never creates one, code and outputs
    land under `jobs/<job>/` like the CLI's jobs."""
    sagemaker, _, _ = _sdk()
    import boto3

    boto = aws.new_session()
    if config.region and boto.region_name != config.region:
        # keep the botocore session (its credentials and any event hooks), only move the region
        boto = boto3.session.Session(botocore_session=boto._session, region_name=config.region)

    class PlatformSession(sagemaker.session.Session):  # type: ignore[name-defined,misc]
        def default_bucket(self) -> str:
            # The platform's bucket exists (its data stack made it). The SDK would first probe it: ListBuckets,
            # then a listing of the whole `jobs` prefix, which holds every user's jobs and which a
            # SageMaker-mode user's policy rightly refuses (the SDK then gives up with 403 Forbidden).
            return config.bucket

    return PlatformSession(
        boto_session=boto, default_bucket=config.bucket, default_bucket_prefix=layout.JOBS_PREFIX.rstrip("/")
    )


def base_job_name(config: JobConfig, name: str | None) -> str:
    """`<prefix>-<name>` (the platform, or a SageMaker-mode user's `<platform>-<user>`): job listing and the
    IAM scope go by that prefix. The SDK
    appends `-<yyyy-mm-dd-HH-MM-SS-mmm>` and cuts the whole to 63 characters."""
    base = check_name_part(name) if name else "sdk"
    prefix = f"{config.name_prefix}-"
    if not base.startswith(prefix):
        base = prefix + base
    # room for the SDK's 24-character timestamp suffix, so the platform prefix is never cut
    return check_name_part(base[: MAX_NAME - 24].rstrip("-"))


def _tags(config: JobConfig, extra: Any) -> list[dict[str, str]]:
    tags = {"platform": config.platform, "user": tag_value(config.user or current_user())}
    for tag in _tag_list(extra):
        tags.setdefault(str(tag["Key"]), str(tag["Value"]))  # the platform's own tags win
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def _tag_list(extra: Any) -> list[Mapping[str, Any]]:
    if extra is None:
        return []
    if isinstance(extra, Mapping):
        return [{"Key": key, "Value": value} for key, value in extra.items()]
    if isinstance(extra, Sequence) and all(isinstance(t, Mapping) and {"Key", "Value"} <= set(t) for t in extra):
        return list(extra)
    raise SimulationError("tags must be a named list / dict, or a list of {Key, Value}")


def script_processor(
    platform: str | None = None,
    instance_type: str | None = None,
    instance_count: Any = 1,
    image: str | None = None,
    command: Sequence[str] = DEFAULT_COMMAND,
    **overrides: Any,
) -> Any:
    """A `sagemaker.processing.ScriptProcessor` confined to the platform; `run(...)` works as before.

    `overrides` go to the constructor (`volume_size_in_gb`, `max_runtime_in_seconds`, `base_job_name`,
    `env`, `tags`, KMS keys ...); what the platform decides (role, image_uri, network_config,
    sagemaker_session) is refused with one line saying how to choose it instead.
    """
    for key in overrides:
        if key in _PLATFORM_ARGUMENTS:
            raise SimulationError(f"script_processor: {key} is set by the platform; use {_PLATFORM_ARGUMENTS[key]}")
    if isinstance(command, str):
        command = (command,)
    if not command or not all(isinstance(part, str) and part for part in command):
        raise SimulationError(f"command must be a non-empty list of strings, got {command!r}")
    wanted = Resources(
        instance_type=instance_type,
        instance_count=instance_count,
        volume_size_gb=overrides.pop("volume_size_in_gb", None),
        max_runtime_seconds=overrides.pop("max_runtime_in_seconds", None),
        image=image,
    )
    config = load_config(platform)
    resources = wanted.resolve(config)  # the same checks and defaults as submit, before anything is uploaded
    _, network_config, processor = _sdk()
    env = {
        layout.IMAGE_TAG_ENV: image_tag(resources.image_uri),
        layout.PLATFORM_ENV: config.platform,
        # as the CLI's R-script jobs have it: scripts that write to $OUTPUT_DIR work on both paths
        "OUTPUT_DIR": layout.OUTPUT_DIR,
        **{str(k): str(v) for k, v in (overrides.pop("env", None) or {}).items()},
    }
    return processor(
        role=config.execution_role_arn,
        image_uri=resources.image_uri,
        command=list(command),
        instance_count=resources.instance_count,
        instance_type=resources.instance_type,
        volume_size_in_gb=resources.volume_size_gb,
        max_runtime_in_seconds=resources.max_runtime_seconds,
        base_job_name=base_job_name(config, overrides.pop("base_job_name", None)),
        sagemaker_session=platform_session(config),
        env=env,
        tags=_tags(config, overrides.pop("tags", None)),
        network_config=network_config(
            enable_network_isolation=True,
            encrypt_inter_container_traffic=True,
            security_group_ids=list(config.security_group_ids),
            subnets=list(config.subnet_ids),
        ),
        **overrides,
    )
