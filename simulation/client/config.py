"""Discovery: the platform's job configuration, published by the jobs stack as `/<platform>/job-config`.

Nothing about the account (image, role, bucket, network) is written in this package; it all comes from
that one SSM parameter, so a redeploy that moves anything is picked up by the next call.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from simulation.client import aws
from simulation.errors import SimulationError
from simulation.job import layout
from simulation.text import hint

PLATFORM_ENV = layout.PLATFORM_ENV
DEFAULT_PLATFORM = "simlab"
# Overrides the parameter name; "{role}" in it is replaced by the caller's IAM role name. RStudio on SageMaker
# sets /<platform>/job-config/{role}: each user's RSessions run with their own role, whose parameter holds
# that user's job role, job-name prefix and name (stacks/studio/access.py).
PARAMETER_ENV = "SIMLAB_JOB_CONFIG_PARAMETER"
PLATFORM_IN_R = 'platform = "NAME"'  # the argument every simjobs function takes
ROLE_PLACEHOLDER = "{role}"

_REQUIRED_KEYS = (
    "image_uri",
    "execution_role_arn",
    "bucket",
    "subnet_ids",
    "security_group_ids",
    "allowed_instance_types",
    "default_instance_type",
    "max_instances",
    "max_runtime_seconds",
)


@dataclass(frozen=True)
class JobConfig:
    platform: str
    region: str | None
    image_uri: str
    execution_role_arn: str
    bucket: str
    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]
    allowed_instance_types: tuple[str, ...]
    default_instance_type: str
    max_instances: int
    max_runtime_seconds: int
    log_group: str = "/aws/sagemaker/ProcessingJobs"
    ecr_repository_uri: str | None = None
    # Per-user configs (SageMaker mode): job names start `<job_name_prefix>-`, jobs are tagged with `user`.
    job_name_prefix: str | None = None
    user: str | None = None

    @property
    def name_prefix(self) -> str:
        """What every job name of this config starts with (before its '-')."""
        return self.job_name_prefix or self.platform


def image_tag(image_uri: str) -> str:
    """The tag (or digest) of an image: recorded in each job's environment and host manifests."""
    last = image_uri.rsplit("/", 1)[-1]
    if "@" in last:
        return last.split("@", 1)[1]
    return last.split(":", 1)[1] if ":" in last else "latest"


def platform_name(platform: str | None = None) -> str:
    """`--platform`, else $SIMLAB_PLATFORM, else "simlab"."""
    name = platform or os.environ.get(PLATFORM_ENV) or DEFAULT_PLATFORM
    return str(name)


def parameter_name(platform: str) -> str:
    return f"/{platform}/job-config"


def parse_config(platform: str, text: str, where: str | None = None) -> JobConfig:
    """The pure half of discovery: JSON text -> JobConfig, naming the first thing that is wrong."""
    where = where or parameter_name(platform)
    try:
        raw: Any = json.loads(text)
    except json.JSONDecodeError as error:
        raise SimulationError(
            f"SSM parameter {where} is not JSON ({error.msg}); redeploy the {platform}-jobs stack"
        ) from None
    if not isinstance(raw, dict):
        raise SimulationError(f"SSM parameter {where} must hold a JSON object")
    missing = [key for key in _REQUIRED_KEYS if key not in raw]
    if missing:
        raise SimulationError(f"SSM parameter {where} lacks {', '.join(missing)}; redeploy the {platform}-jobs stack")
    for key in ("subnet_ids", "security_group_ids", "allowed_instance_types"):
        value = raw[key]
        # a string here would iterate into single characters: one "subnet" per letter
        if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
            raise SimulationError(f"SSM parameter {where}: {key} must be a list of non-empty strings, got {value!r}")
    try:
        config = JobConfig(
            platform=str(raw.get("platform", platform)),
            region=raw.get("region"),
            image_uri=str(raw["image_uri"]),
            execution_role_arn=str(raw["execution_role_arn"]),
            bucket=str(raw["bucket"]),
            subnet_ids=tuple(str(s) for s in raw["subnet_ids"]),
            security_group_ids=tuple(str(s) for s in raw["security_group_ids"]),
            allowed_instance_types=tuple(str(s) for s in raw["allowed_instance_types"]),
            default_instance_type=str(raw["default_instance_type"]),
            max_instances=int(raw["max_instances"]),
            max_runtime_seconds=int(raw["max_runtime_seconds"]),
            log_group=str(raw.get("log_group") or "/aws/sagemaker/ProcessingJobs"),
            ecr_repository_uri=raw.get("ecr_repository_uri"),
            job_name_prefix=raw.get("job_name_prefix"),
            user=raw.get("user"),
        )
    except (TypeError, ValueError) as error:
        raise SimulationError(f"SSM parameter {where} has a malformed value: {error}") from None
    if not config.subnet_ids or not config.security_group_ids:
        raise SimulationError(f"SSM parameter {where} names no subnets or security groups")
    return config


def role_name(arn: str) -> str | None:
    """The role of an assumed-role caller (`arn:aws:sts::1:assumed-role/ROLE/session`), else None."""
    resource = arn.split(":", 5)[-1]
    parts = resource.split("/")
    return parts[1] if len(parts) >= 3 and parts[0] == "assumed-role" else None


def resolve_parameter(platform: str | None) -> tuple[str, str]:
    """(platform name, SSM parameter name): `--platform` wins; else $SIMLAB_JOB_CONFIG_PARAMETER (with
    {role} filled in from sts:GetCallerIdentity), else /<platform>/job-config."""
    name = platform_name(platform)
    template = os.environ.get(PARAMETER_ENV, "") if platform is None else ""
    if not template:
        return name, parameter_name(name)
    if ROLE_PLACEHOLDER not in template:
        return name, template
    try:
        arn = aws.client("sts").get_caller_identity()["Arn"]
    except (ClientError, BotoCoreError) as error:
        raise aws.as_user_error(error, "asking STS who this session is") from None
    role = role_name(str(arn))
    if role is None:
        raise SimulationError(
            f"${PARAMETER_ENV} is {template}, which needs an IAM role session, but this session is {arn}; "
            f"unset it or pick the platform with {hint('--platform', PLATFORM_IN_R)}"
        )
    return name, template.replace(ROLE_PLACEHOLDER, role)


def pick_platform() -> str:
    """How the caller names another platform: an option or the environment, in its own terms."""
    return hint(f"--platform / ${PLATFORM_ENV}", f'{PLATFORM_IN_R} / Sys.setenv({PLATFORM_ENV} = "NAME")')


def load_config(platform: str | None = None) -> JobConfig:
    """Read the job configuration; a missing parameter says which stack publishes it."""
    name, parameter = resolve_parameter(platform)
    ssm = aws.client("ssm")
    try:
        response = ssm.get_parameter(Name=parameter)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ParameterNotFound":
            raise SimulationError(
                f"no job configuration at SSM parameter {parameter}: deploy the `{name}-jobs` stack "
                f"(or pick another platform with {pick_platform()})"
            ) from None
        raise aws.as_user_error(error, f"reading SSM parameter {parameter}") from None
    except BotoCoreError as error:
        raise aws.as_user_error(error, f"reading SSM parameter {parameter}") from None
    return parse_config(name, response["Parameter"]["Value"], where=parameter)
