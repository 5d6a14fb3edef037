"""Custom resource that empties and deletes a SageMaker Domain running RStudio (`cdk destroy`).

CloudFormation's own domain delete fails while apps, spaces or user profiles exist, it always keeps the domain's
home EFS, and nothing in it stops SageMaker from relaunching the RStudioServerPro app it just deleted (the
domain execution role's sagemaker:CreateApp exists for exactly that relaunch; see common.py). On Delete this
handler, one stage at a time, each only when the one before has nothing left:

1. deletes the apps of every user and space (skipping Deleted/Failed ones);
2. attaches the deny-CreateApp policy to the domain execution role, so the server app cannot come back;
3. deletes the `domain-shared` RStudioServerPro app and waits until it has stayed gone (a relaunch already under
   way is deleted again);
4. deletes the spaces, then the user profiles;
5. deletes the domain itself (its home EFS retained by SageMaker) and waits until it is gone; CloudFormation's
   own delete of the domain and profiles then finds nothing left;
6. with ResourceProperties DeleteData "true": deletes the home EFS (HomeFileSystemId), its mount targets and the
   two NFS security groups SageMaker created (`security-group-for-{inbound,outbound}-nfs-<domain>`);
7. detaches the deny policy, so CloudFormation can delete the role.

Used by a CDK Provider: `on_event` starts the work, `is_complete` is polled until nothing is left (each call does
one pass). Every pass is idempotent: a domain partly or wholly gone is fine, and a second run changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import ClientError

from .common import (
    LOG,
    NOT_FOUND,
    SHARED_PROFILE,
    Pass,
    code,
    delete_apps,
    hold_relaunch,
    pages,
    release_relaunch,
    request,
    stop_server_app,
)


@dataclass
class Clients:
    sagemaker: Any
    ec2: Any
    efs: Any
    iam: Any
    sleep: Callable[[float], None] = time.sleep

    @classmethod
    def default(cls) -> Clients:
        return cls(
            sagemaker=boto3.client("sagemaker"),
            ec2=boto3.client("ec2"),
            efs=boto3.client("efs"),
            iam=boto3.client("iam"),
        )


@dataclass(frozen=True)
class Target:
    """ResourceProperties of Custom::DomainTeardown."""

    domain_id: str
    delete_data: bool
    home_file_system_id: str
    execution_role_name: str
    relaunch_guard_arn: str

    @classmethod
    def of(cls, props: dict[str, Any]) -> Target:
        return cls(
            domain_id=str(props["DomainId"]),
            delete_data=str(props.get("DeleteData", "false")).lower() == "true",
            home_file_system_id=str(props.get("HomeFileSystemId", "")),
            execution_role_name=str(props["ExecutionRoleName"]),
            relaunch_guard_arn=str(props["RelaunchGuardArn"]),
        )


def on_event(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle_event(event, Clients.default())


def is_complete(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return check_complete(event, Clients.default())


def handle_event(event: dict[str, Any], clients: Clients) -> dict[str, Any]:
    target = Target.of(event["ResourceProperties"])
    LOG.info("%s for domain %s", event["RequestType"], target.domain_id)
    if event["RequestType"] == "Delete":
        teardown_pass(clients, target)
    return {"PhysicalResourceId": f"teardown-{target.domain_id}"}


def check_complete(event: dict[str, Any], clients: Clients) -> dict[str, Any]:
    if event["RequestType"] != "Delete":
        return {"IsComplete": True}
    result = teardown_pass(clients, Target.of(event["ResourceProperties"]))
    LOG.info("requested: %s; remaining: %s", result.requested, result.remaining)
    return {"IsComplete": result.done}


def teardown_pass(clients: Clients, target: Target) -> Pass:
    """One idempotent pass: the first stage with something left does its part, and the pass ends there."""
    result = Pass()
    sagemaker, domain_id = clients.sagemaker, target.domain_id
    try:
        domain = sagemaker.describe_domain(DomainId=domain_id)
    except ClientError as error:
        if code(error) not in NOT_FOUND:
            raise
        domain = None
    if domain is not None:
        if domain.get("Status") == "Deleting":
            result.remaining.append(f"domain {domain_id} (deleting)")
            return result
        stages: list[Callable[[], None]] = [
            lambda: delete_apps(sagemaker, domain_id, result),
            lambda: hold_relaunch(clients.iam, target.execution_role_name, target.relaunch_guard_arn, result),
            lambda: stop_server_app(sagemaker, domain_id, result, clients.sleep),
            lambda: _spaces(sagemaker, domain_id, result),
            lambda: _profiles(sagemaker, domain_id, result),
            lambda: _domain(sagemaker, domain_id, result),
        ]
        for stage in stages:
            stage()
            if not result.done:
                return result
        return result
    if target.delete_data:
        _home_file_system(clients, domain_id, target.home_file_system_id, result)
        if not result.done:
            return result
    release_relaunch(clients.iam, target.execution_role_name, target.relaunch_guard_arn, result)
    return result


def _spaces(sagemaker: Any, domain_id: str, result: Pass) -> None:
    for space in pages(sagemaker.list_spaces, "Spaces", DomainIdEquals=domain_id):
        what = f"space {space['SpaceName']}"
        result.remaining.append(what)
        if space.get("Status") != "Deleting":
            request(sagemaker.delete_space, what, result, DomainId=domain_id, SpaceName=space["SpaceName"])


def _profiles(sagemaker: Any, domain_id: str, result: Pass) -> None:
    for profile in pages(sagemaker.list_user_profiles, "UserProfiles", DomainIdEquals=domain_id):
        name = profile["UserProfileName"]
        if name == SHARED_PROFILE:
            continue  # SageMaker's own profile of the server app; it goes with the domain
        what = f"user profile {name}"
        result.remaining.append(what)
        if profile.get("Status") != "Deleting":
            request(sagemaker.delete_user_profile, what, result, DomainId=domain_id, UserProfileName=name)


def _domain(sagemaker: Any, domain_id: str, result: Pass) -> None:
    # The home EFS is kept here whatever DeleteData says: with DeleteData the teardown deletes it itself, after
    # the domain, together with the NFS security groups SageMaker leaves behind.
    what = f"domain {domain_id}"
    result.remaining.append(what)
    request(sagemaker.delete_domain, what, result, DomainId=domain_id, RetentionPolicy={"HomeEfsFileSystem": "Retain"})


def nfs_group_names(domain_id: str) -> tuple[str, str]:
    """The names SageMaker gives the NFS security groups of a domain with service-managed groups."""
    return (f"security-group-for-inbound-nfs-{domain_id}", f"security-group-for-outbound-nfs-{domain_id}")


def _home_file_system(clients: Clients, domain_id: str, file_system_id: str, result: Pass) -> None:
    if file_system_id:
        targets = pages(clients.efs.describe_mount_targets, "MountTargets", FileSystemId=file_system_id)
        for mount in targets:
            what = f"mount target {mount['MountTargetId']}"
            result.remaining.append(what)
            if mount.get("LifeCycleState") != "deleting":
                request(clients.efs.delete_mount_target, what, result, MountTargetId=mount["MountTargetId"])
        if targets:
            return
        systems = pages(clients.efs.describe_file_systems, "FileSystems", FileSystemId=file_system_id)
        for system in systems:
            what = f"file system {file_system_id}"
            result.remaining.append(what)
            if system.get("LifeCycleState") != "deleting":
                request(clients.efs.delete_file_system, what, result, FileSystemId=file_system_id)
        if systems:
            return
    groups = clients.ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": list(nfs_group_names(domain_id))}]
    ).get("SecurityGroups", [])
    # The inbound group admits NFS from the outbound one and vice versa: neither can go while the other's
    # rules name it, so every rule of both is revoked before either is deleted.
    for group in groups:
        if group.get("IpPermissions"):
            clients.ec2.revoke_security_group_ingress(GroupId=group["GroupId"], IpPermissions=group["IpPermissions"])
        if group.get("IpPermissionsEgress"):
            clients.ec2.revoke_security_group_egress(
                GroupId=group["GroupId"], IpPermissions=group["IpPermissionsEgress"]
            )
    for group in groups:
        what = f"security group {group['GroupName']}"
        request(clients.ec2.delete_security_group, what, result, GroupId=group["GroupId"])
