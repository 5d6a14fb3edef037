"""The sagemaker mode in the rehearsal, as far as moto allows (docs/rehearsal.md).

moto's CloudFormation has no SageMaker Domain, user profile or image resources, and runs Lambda-backed custom
resources (licence preflight, Workbench version pin, teardown) only in Docker; it has no License Manager at all. The
copy of the workspace template therefore loses those resources (every reference to one becomes a stand-in value of
the same shape), and what remains deploys for real: the per-user profile roles, job roles, submitter policies and
job config parameters, the domain's security groups and the License Manager and SageMaker runtime endpoints. The
rehearsal then checks each user's job config against the emulator and submits a job *as that user*: with the
credentials of their profile role and the RSession image's $SIMLAB_JOB_CONFIG_PARAMETER, the project's CLI must find
the user's own config and create a job with the user's job role, name prefix and tag.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from rehearsal.emulator import ACCOUNT, REGION, Emulator

# Resource types the copy drops: moto 5.2.5 has no CloudFormation model for them, or they are custom resources
# and the functions behind them (moto would run them in Docker, which this machine lacks).
UNSUPPORTED_PREFIXES = ("AWS::SageMaker::", "Custom::", "AWS::Lambda::", "AWS::StepFunctions::", "AWS::Events::")
# What a reference to a dropped resource becomes, by attribute.
STAND_INS = {
    "DomainId": "d-rehearsal0000",
    "HomeEfsFileSystemId": "fs-rehearsal0000",
    "ImageArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:image/rehearsal",
    "ImageVersionArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:image-version/rehearsal/1",
}
# The RSession image sets this (stacks/studio/image/Dockerfile); the client fills in its role's name.
PARAMETER_TEMPLATE = "/{platform}/job-config/{{role}}"


def _stand_in(logical_id: str, kind: str, attribute: str | None) -> str:
    if attribute in STAND_INS:
        return STAND_INS[attribute]
    # IAM policies name these; moto refuses a policy whose resource is not ARN-shaped.
    if attribute == "Arn" or (attribute is None and kind == "AWS::StepFunctions::StateMachine"):
        service = "states" if kind.startswith("AWS::StepFunctions::") else "lambda"
        return f"arn:aws:{service}:{REGION}:{ACCOUNT}:function:rehearsal-dropped-{logical_id}"
    return f"rehearsal-dropped-{logical_id}"


def _replace(node: Any, dropped: dict[str, str]) -> Any:
    if isinstance(node, dict):
        if set(node) == {"Ref"} and node["Ref"] in dropped:
            return _stand_in(node["Ref"], dropped[node["Ref"]], None)
        if set(node) == {"Fn::GetAtt"} and node["Fn::GetAtt"][0] in dropped:
            name, attribute = node["Fn::GetAtt"]
            return _stand_in(name, dropped[name], attribute)
        return {key: _replace(value, dropped) for key, value in node.items()}
    if isinstance(node, list):
        return [_replace(item, dropped) for item in node]
    return node


def drop_unsupported(template: dict[str, Any]) -> list[str]:
    """Remove what moto cannot create; point every reference to it at a stand-in. One line per dropped type."""
    resources = template.get("Resources", {})
    dropped = {k: v["Type"] for k, v in resources.items() if v["Type"].startswith(UNSUPPORTED_PREFIXES)}
    if not dropped:
        return []
    kinds: dict[str, int] = {}
    for logical_id, kind in dropped.items():
        del resources[logical_id]
        kinds[kind] = kinds.get(kind, 0) + 1
    for key in ("Resources", "Outputs"):
        if key in template:
            template[key] = _replace(template[key], dropped)
    for resource in resources.values():
        depends = resource.get("DependsOn")
        if isinstance(depends, str):
            depends = [depends]
        if isinstance(depends, list):
            kept = [d for d in depends if d not in dropped]
            if kept:
                resource["DependsOn"] = kept
            else:
                resource.pop("DependsOn", None)
    return [f"dropped {count} {kind} (stand-ins for its references)" for kind, count in sorted(kinds.items())]


def user_configs(emulator: Emulator, platform: str) -> dict[str, dict[str, Any]]:
    """user -> (parameter name, parsed config) of every per-user job config the deploy published."""
    ssm = emulator.client("ssm")
    found: dict[str, dict[str, Any]] = {}
    pages = ssm.get_paginator("get_parameters_by_path").paginate(Path=f"/{platform}/job-config/", Recursive=True)
    for page in pages:
        for parameter in page["Parameters"]:
            config = json.loads(parameter["Value"])
            found[str(config["user"])] = {"parameter": parameter["Name"], **config}
    return found


def check_users(emulator: Emulator, platform: str, users: list[str]) -> list[str]:
    """Each user's config names their own job role (existing, trusting SageMaker), their prefix and name, and
    is published under their profile role's name."""
    from rehearsal.run import RehearsalFailed

    configs = user_configs(emulator, platform)
    if sorted(configs) != sorted(users):
        raise RehearsalFailed(f"per-user job configs for {sorted(configs)}, expected {sorted(users)}")
    iam = emulator.client("iam")
    lines = []
    for user, config in sorted(configs.items()):
        role_name = config["parameter"].rsplit("/", 1)[1]
        profile_role = iam.get_role(RoleName=role_name)["Role"]
        job_role = iam.get_role(RoleName=config["execution_role_arn"].rsplit("/", 1)[1])["Role"]
        trusts = "sagemaker.amazonaws.com" in json.dumps(job_role["AssumeRolePolicyDocument"])
        attached = iam.list_attached_role_policies(RoleName=profile_role["RoleName"])["AttachedPolicies"]
        if not trusts or config["job_name_prefix"] != f"{platform}-{user}" or len(attached) != 1:
            raise RehearsalFailed(f"{user}'s job config or roles are not as deployed: {config}")
        lines.append(f"{user}: config under profile role, own job role, prefix {config['job_name_prefix']}")
    return lines


def submit_as(emulator: Emulator, platform: str, user: str) -> str:
    """The project's CLI in an RSession of `user`: the profile role's credentials and the image's parameter
    template, no --platform. The job must carry the user's job role, name prefix and tag."""
    from rehearsal.run import RehearsalFailed

    config = user_configs(emulator, platform)[user]
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/{config['parameter'].rsplit('/', 1)[1]}"
    creds = emulator.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="SageMaker")["Credentials"]
    env = {
        **emulator.environment(),
        "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
        "AWS_SESSION_TOKEN": creds["SessionToken"],
        "SIMLAB_PLATFORM": platform,
        "SIMLAB_JOB_CONFIG_PARAMETER": PARAMETER_TEMPLATE.format(platform=platform),
    }
    command = [sys.executable, "-m", "simulation", "submit", "--iterations", "1000", "--json"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, cwd=emulator.home)
    if result.returncode != 0:
        raise RehearsalFailed(f"simulation submit as {user} exited {result.returncode}: {result.stderr.strip()[-300:]}")
    job = json.loads(result.stdout)["job"]
    described = emulator.client("sagemaker").describe_processing_job(ProcessingJobName=job)
    tags = emulator.client("sagemaker").list_tags(ResourceArn=described["ProcessingJobArn"])["Tags"]
    output = described["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
    if (
        described["RoleArn"] != config["execution_role_arn"]
        or not job.startswith(f"{platform}-{user}-")
        or {"Key": "user", "Value": user} not in tags
        or f"/jobs/{platform}-{user}-" not in output
    ):
        raise RehearsalFailed(f"{user}'s job {job} does not use their own config: {described}")
    return f"{job} as {user}: own job role, prefix and tag"
