"""Custom resource that empties a SageMaker Domain so CloudFormation can delete it (`cdk destroy`).

CloudFormation's own domain delete fails while apps, spaces or user profiles exist, and it always keeps the
domain's home EFS. On Delete this handler removes, in order: the apps of every user and space (skipping
Deleted/Failed ones), the spaces, the user profiles, the `domain-shared` RStudioServerPro app; then, when
ResourceProperties DeleteData is "true", the home EFS, its mount targets and the two NFS security groups
SageMaker created for the domain (`security-group-for-{inbound,outbound}-nfs-<domain>`), so the VPC can go.

Used by a CDK Provider: `on_event` starts the work, `is_complete` is polled until nothing is left (each call
does one pass: asks for what can be deleted now and reports whether anything remains). Every call is
idempotent: a domain that is already partly or wholly gone is fine. Plain boto3, no other dependency.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import ClientError

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)

SHARED_PROFILE = "domain-shared"
SERVER_APP_TYPE = "RStudioServerPro"
SERVER_APP_NAME = "default"
GONE_APP_STATES = ("Deleted", "Failed")
NOT_FOUND = (
    "ResourceNotFound",
    "ValidationException",
    "FileSystemNotFound",
    "MountTargetNotFound",
    "InvalidGroup.NotFound",
)


@dataclass
class Clients:
    sagemaker: Any
    ec2: Any
    efs: Any

    @classmethod
    def default(cls) -> Clients:
        return cls(sagemaker=boto3.client("sagemaker"), ec2=boto3.client("ec2"), efs=boto3.client("efs"))


@dataclass
class Pass:
    """What one pass asked for and what is still there."""

    requested: list[str] = field(default_factory=list)
    remaining: list[str] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return not self.remaining


def on_event(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle_event(event, Clients.default())


def is_complete(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return check_complete(event, Clients.default())


def handle_event(event: dict[str, Any], clients: Clients) -> dict[str, Any]:
    props = event["ResourceProperties"]
    domain_id = str(props["DomainId"])
    LOG.info("%s for domain %s", event["RequestType"], domain_id)
    if event["RequestType"] == "Delete":
        teardown_pass(clients, domain_id, delete_data=_flag(props))
    return {"PhysicalResourceId": f"teardown-{domain_id}"}


def check_complete(event: dict[str, Any], clients: Clients) -> dict[str, Any]:
    if event["RequestType"] != "Delete":
        return {"IsComplete": True}
    props = event["ResourceProperties"]
    result = teardown_pass(clients, str(props["DomainId"]), delete_data=_flag(props))
    LOG.info("requested: %s; remaining: %s", result.requested, result.remaining)
    return {"IsComplete": result.done}


def _flag(props: dict[str, Any]) -> bool:
    return str(props.get("DeleteData", "false")).lower() == "true"


def teardown_pass(clients: Clients, domain_id: str, *, delete_data: bool) -> Pass:
    """One idempotent pass. Each stage starts only when the one before it has nothing left."""
    result = Pass()
    try:
        domain = clients.sagemaker.describe_domain(DomainId=domain_id)
    except ClientError as error:
        if _code(error) in NOT_FOUND:
            LOG.info("domain %s is gone already", domain_id)
            return result
        raise
    for stage in (_user_apps, _spaces, _profiles, _shared_app):
        stage(clients.sagemaker, domain_id, result)
        if not result.done:
            return result
    if delete_data:
        _home_file_system(clients, domain_id, domain.get("HomeEfsFileSystemId"), result)
    return result


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _pages(call: Any, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        try:
            page = call(**kwargs)
        except ClientError as error:
            if _code(error) in NOT_FOUND:
                return items
            raise
        items += page.get(key, [])
        token = page.get("NextToken")
        if not token:
            return items
        kwargs["NextToken"] = token


def _delete(call: Any, what: str, result: Pass, **kwargs: Any) -> None:
    """Ask for a delete; something already gone or already being deleted is not an error."""
    try:
        call(**kwargs)
        result.requested.append(what)
    except ClientError as error:
        if _code(error) in NOT_FOUND:
            return
        if _code(error) in ("ResourceInUse", "DependencyViolation", "ConflictException"):
            LOG.info("%s busy (%s), retrying on the next pass", what, _code(error))
            result.remaining.append(what)
            return
        raise


def _user_apps(sagemaker: Any, domain_id: str, result: Pass) -> None:
    for app in _pages(sagemaker.list_apps, "Apps", DomainIdEquals=domain_id):
        if app.get("Status") in GONE_APP_STATES:
            continue
        owner = {"UserProfileName": app["UserProfileName"]} if "UserProfileName" in app else {}
        if "SpaceName" in app:
            owner = {"SpaceName": app["SpaceName"]}
        if owner.get("UserProfileName") == SHARED_PROFILE:
            continue  # the domain's own RStudioServerPro app goes last
        what = f"app {app['AppType']}/{app['AppName']} of {next(iter(owner.values()), '?')}"
        result.remaining.append(what)
        if app.get("Status") != "Deleting":
            _delete(
                sagemaker.delete_app,
                what,
                result,
                DomainId=domain_id,
                AppType=app["AppType"],
                AppName=app["AppName"],
                **owner,
            )


def _spaces(sagemaker: Any, domain_id: str, result: Pass) -> None:
    for space in _pages(sagemaker.list_spaces, "Spaces", DomainIdEquals=domain_id):
        what = f"space {space['SpaceName']}"
        result.remaining.append(what)
        if space.get("Status") != "Deleting":
            _delete(sagemaker.delete_space, what, result, DomainId=domain_id, SpaceName=space["SpaceName"])


def _profiles(sagemaker: Any, domain_id: str, result: Pass) -> None:
    for profile in _pages(sagemaker.list_user_profiles, "UserProfiles", DomainIdEquals=domain_id):
        name = profile["UserProfileName"]
        if name == SHARED_PROFILE:
            continue
        what = f"user profile {name}"
        result.remaining.append(what)
        if profile.get("Status") != "Deleting":
            _delete(sagemaker.delete_user_profile, what, result, DomainId=domain_id, UserProfileName=name)


def _shared_app(sagemaker: Any, domain_id: str, result: Pass) -> None:
    try:
        app = sagemaker.describe_app(
            DomainId=domain_id, UserProfileName=SHARED_PROFILE, AppType=SERVER_APP_TYPE, AppName=SERVER_APP_NAME
        )
    except ClientError as error:
        if _code(error) in NOT_FOUND:
            return
        raise
    if app.get("Status") in GONE_APP_STATES:
        return
    what = f"app {SERVER_APP_TYPE}/{SERVER_APP_NAME} of {SHARED_PROFILE}"
    result.remaining.append(what)
    if app.get("Status") != "Deleting":
        _delete(
            sagemaker.delete_app,
            what,
            result,
            DomainId=domain_id,
            UserProfileName=SHARED_PROFILE,
            AppType=SERVER_APP_TYPE,
            AppName=SERVER_APP_NAME,
        )


def nfs_group_names(domain_id: str) -> tuple[str, str]:
    """The names SageMaker gives the NFS security groups of a domain with service-managed groups."""
    return (f"security-group-for-inbound-nfs-{domain_id}", f"security-group-for-outbound-nfs-{domain_id}")


def _home_file_system(clients: Clients, domain_id: str, file_system_id: str | None, result: Pass) -> None:
    if file_system_id:
        targets = _pages(clients.efs.describe_mount_targets, "MountTargets", FileSystemId=file_system_id)
        for target in targets:
            what = f"mount target {target['MountTargetId']}"
            result.remaining.append(what)
            if target.get("LifeCycleState") != "deleting":
                _delete(clients.efs.delete_mount_target, what, result, MountTargetId=target["MountTargetId"])
        if targets:
            return
        systems = _pages(clients.efs.describe_file_systems, "FileSystems", FileSystemId=file_system_id)
        for system in systems:
            what = f"file system {file_system_id}"
            result.remaining.append(what)
            if system.get("LifeCycleState") != "deleting":
                _delete(clients.efs.delete_file_system, what, result, FileSystemId=file_system_id)
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
        _delete(
            clients.ec2.delete_security_group, f"security group {group['GroupName']}", result, GroupId=group["GroupId"]
        )
