"""The domain teardown handler against a stateful fake of SageMaker, EFS and EC2 (moto has no user profiles,
apps, spaces), and its exact requests against botocore's Stubber (which checks them against the API model).

The fake behaves as the SageMaker docs describe: a profile or space cannot be deleted while it has apps
(ResourceInUse), deleting an app takes a while (Deleting for N list calls, then Deleted), the NFS security
groups reference each other (DependencyViolation until both are free of rules)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from stacks.studio.handlers import teardown
from stacks.studio.handlers.teardown import Clients

DOMAIN = "d-abc123"
EVENT = {"RequestType": "Delete", "ResourceProperties": {"DomainId": DOMAIN, "DeleteData": "true"}}


def _error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "op")


@dataclass
class FakeSageMaker:
    apps: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)  # (owner, type, name)
    spaces: dict[str, str] = field(default_factory=dict)
    profiles: dict[str, str] = field(default_factory=dict)
    domain_exists: bool = True
    delete_delay: int = 2  # list calls an app stays Deleting
    log: list[str] = field(default_factory=list)

    def describe_domain(self, DomainId: str) -> dict[str, Any]:
        if not self.domain_exists:
            raise _error("ResourceNotFound")
        return {"DomainId": DomainId, "HomeEfsFileSystemId": "fs-home"}

    def _tick(self) -> None:
        for app in self.apps.values():
            if app["Status"] == "Deleting":
                app["wait"] -= 1
                if app["wait"] <= 0:
                    app["Status"] = "Deleted"

    def list_apps(self, DomainIdEquals: str, NextToken: str | None = None) -> dict[str, Any]:
        self._tick()
        rows = []
        for (owner, kind, name), app in self.apps.items():
            row = {"AppType": kind, "AppName": name, "Status": app["Status"]}
            row["SpaceName" if owner.startswith("space:") else "UserProfileName"] = owner.removeprefix("space:")
            rows.append(row)
        # Two pages, to exercise NextToken.
        half = len(rows) // 2
        return {"Apps": rows[half:], "NextToken": None} if NextToken else {"Apps": rows[:half], "NextToken": "p2"}

    def delete_app(self, **kw: Any) -> None:
        owner = kw.get("UserProfileName") or f"space:{kw['SpaceName']}"
        app = self.apps.get((owner, kw["AppType"], kw["AppName"]))
        if app is None or app["Status"] == "Deleted":
            raise _error("ResourceNotFound")
        app.update(Status="Deleting", wait=self.delete_delay)
        self.log.append(f"delete_app {owner} {kw['AppType']}")

    def describe_app(self, **kw: Any) -> dict[str, Any]:
        app = self.apps.get((kw["UserProfileName"], kw["AppType"], kw["AppName"]))
        if app is None:
            raise _error("ResourceNotFound")
        return {"Status": app["Status"]}

    def _live(self, owner: str) -> bool:
        return any(o == owner and a["Status"] not in ("Deleted", "Failed") for (o, _, _), a in self.apps.items())

    def list_spaces(self, DomainIdEquals: str) -> dict[str, Any]:
        return {"Spaces": [{"SpaceName": n, "Status": s} for n, s in self.spaces.items()]}

    def delete_space(self, DomainId: str, SpaceName: str) -> None:
        if self._live(f"space:{SpaceName}"):
            raise _error("ResourceInUse")
        self.log.append(f"delete_space {SpaceName}")
        del self.spaces[SpaceName]

    def list_user_profiles(self, DomainIdEquals: str) -> dict[str, Any]:
        return {"UserProfiles": [{"UserProfileName": n, "Status": s} for n, s in self.profiles.items()]}

    def delete_user_profile(self, DomainId: str, UserProfileName: str) -> None:
        if self._live(UserProfileName):
            raise _error("ResourceInUse")
        self.log.append(f"delete_user_profile {UserProfileName}")
        del self.profiles[UserProfileName]


@dataclass
class FakeEfs:
    mount_targets: dict[str, str] = field(default_factory=lambda: {"fsmt-1": "available", "fsmt-2": "available"})
    file_system: bool = True
    log: list[str] = field(default_factory=list)

    def describe_mount_targets(self, FileSystemId: str) -> dict[str, Any]:
        if not self.file_system:
            raise _error("FileSystemNotFound")
        # A deleting mount target disappears on the next look.
        for target, state in list(self.mount_targets.items()):
            if state == "deleting":
                del self.mount_targets[target]
        return {"MountTargets": [{"MountTargetId": t, "LifeCycleState": s} for t, s in self.mount_targets.items()]}

    def delete_mount_target(self, MountTargetId: str) -> None:
        self.mount_targets[MountTargetId] = "deleting"
        self.log.append(f"delete_mount_target {MountTargetId}")

    def describe_file_systems(self, FileSystemId: str) -> dict[str, Any]:
        if not self.file_system:
            raise _error("FileSystemNotFound")
        return {"FileSystems": [{"FileSystemId": FileSystemId, "LifeCycleState": "available"}]}

    def delete_file_system(self, FileSystemId: str) -> None:
        if self.mount_targets:
            raise _error("FileSystemInUse")
        self.file_system = False
        self.log.append("delete_file_system")


@dataclass
class FakeEc2:
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        inbound, outbound = teardown.nfs_group_names(DOMAIN)
        rule_to = {"IpProtocol": "tcp", "FromPort": 2049, "ToPort": 2049}
        self.groups = {
            "sg-in": {"GroupName": inbound, "In": [dict(rule_to, UserIdGroupPairs=[{"GroupId": "sg-out"}])], "Out": []},
            "sg-out": {
                "GroupName": outbound,
                "In": [],
                "Out": [dict(rule_to, UserIdGroupPairs=[{"GroupId": "sg-in"}])],
            },
        }

    def describe_security_groups(self, Filters: list[dict[str, Any]]) -> dict[str, Any]:
        names = set(Filters[0]["Values"])
        return {
            "SecurityGroups": [
                {"GroupId": gid, "GroupName": g["GroupName"], "IpPermissions": g["In"], "IpPermissionsEgress": g["Out"]}
                for gid, g in self.groups.items()
                if g["GroupName"] in names
            ]
        }

    def revoke_security_group_ingress(self, GroupId: str, IpPermissions: list[Any]) -> None:
        self.groups[GroupId]["In"] = []

    def revoke_security_group_egress(self, GroupId: str, IpPermissions: list[Any]) -> None:
        self.groups[GroupId]["Out"] = []

    def delete_security_group(self, GroupId: str) -> None:
        referenced = any(
            pair["GroupId"] == GroupId
            for g in self.groups.values()
            for rule in g["In"] + g["Out"]
            for pair in rule["UserIdGroupPairs"]
        )
        if referenced:
            raise _error("DependencyViolation")
        self.log.append(f"delete_security_group {self.groups.pop(GroupId)['GroupName']}")


def _busy_domain() -> FakeSageMaker:
    return FakeSageMaker(
        apps={
            ("alice", "RSessionGateway", "s1"): {"Status": "InService"},
            ("alice", "RSessionGateway", "s2"): {"Status": "Failed"},  # must be skipped
            ("bob", "RSessionGateway", "s3"): {"Status": "InService"},
            ("space:shared", "JupyterLab", "default"): {"Status": "InService"},
            ("domain-shared", "RStudioServerPro", "default"): {"Status": "InService"},
        },
        spaces={"shared": "InService"},
        profiles={"alice": "InService", "bob": "InService"},
    )


def _run(clients: Clients, event: dict[str, Any], limit: int = 50) -> int:
    assert teardown.handle_event(event, clients)["PhysicalResourceId"] == f"teardown-{DOMAIN}"
    for passes in range(1, limit + 1):
        if teardown.check_complete(event, clients)["IsComplete"]:
            return passes
    raise AssertionError("teardown never completed")


def test_busy_domain_is_emptied_in_the_documented_order_and_its_home_removed():
    sm, efs, ec2 = _busy_domain(), FakeEfs(), FakeEc2()
    passes = _run(Clients(sagemaker=sm, ec2=ec2, efs=efs), EVENT)
    assert passes > 1  # app deletion takes several polls: the is-complete loop is what waits
    assert all(a["Status"] in ("Deleted", "Failed") for a in sm.apps.values())
    assert sm.spaces == {}
    assert sm.profiles == {}
    order = sm.log
    # Every user/space app before any space or profile; the shared RStudioServerPro app last.
    last_user_app = max(i for i, e in enumerate(order) if e.startswith("delete_app") and "domain-shared" not in e)
    first_space = order.index("delete_space shared")
    assert last_user_app < first_space < order.index("delete_user_profile alice")
    assert order[-1] == "delete_app domain-shared RStudioServerPro"
    assert "delete_app alice RSessionGateway" in order
    assert order.count("delete_app alice RSessionGateway") == 1
    # Home: mount targets, then the file system, then both NFS groups (rules revoked first).
    assert efs.log == ["delete_mount_target fsmt-1", "delete_mount_target fsmt-2", "delete_file_system"]
    assert sorted(ec2.log) == sorted(f"delete_security_group {n}" for n in teardown.nfs_group_names(DOMAIN))
    assert ec2.groups == {}


def test_without_delete_data_the_home_and_groups_are_kept():
    sm, efs, ec2 = _busy_domain(), FakeEfs(), FakeEc2()
    keep = {"RequestType": "Delete", "ResourceProperties": {"DomainId": DOMAIN, "DeleteData": "false"}}
    _run(Clients(sagemaker=sm, ec2=ec2, efs=efs), keep)
    assert sm.profiles == {}
    assert efs.log == []
    assert efs.file_system
    assert len(ec2.groups) == 2


def test_rerun_on_a_partly_deleted_domain_and_on_a_gone_domain_is_safe():
    sm, efs, ec2 = _busy_domain(), FakeEfs(), FakeEc2()
    clients = Clients(sagemaker=sm, ec2=ec2, efs=efs)
    teardown.handle_event(EVENT, clients)
    teardown.check_complete(EVENT, clients)  # a first pass, then the handler "restarts" (new Lambda)
    _run(clients, EVENT)
    assert sm.profiles == {}
    assert not efs.file_system
    _run(clients, EVENT)  # everything already gone: completes at once, no error
    sm.domain_exists = False
    assert teardown.check_complete(EVENT, clients) == {"IsComplete": True}


def test_create_and_update_do_nothing():
    sm = _busy_domain()
    clients = Clients(sagemaker=sm, ec2=FakeEc2(), efs=FakeEfs())
    for kind in ("Create", "Update"):
        event = {"RequestType": kind, "ResourceProperties": {"DomainId": DOMAIN}}
        assert teardown.handle_event(event, clients) == {"PhysicalResourceId": f"teardown-{DOMAIN}"}
        assert teardown.check_complete(event, clients) == {"IsComplete": True}
    assert sm.log == []


def test_first_pass_requests_match_the_sagemaker_api_model():
    """Stubber rejects any parameter the real API would refuse (e.g. a wrong AppType spelling)."""
    sagemaker = boto3.client("sagemaker", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(sagemaker)
    stub.add_response("describe_domain", {"DomainId": DOMAIN, "HomeEfsFileSystemId": "fs-1"}, {"DomainId": DOMAIN})
    stub.add_response(
        "list_apps",
        {
            "Apps": [
                {
                    "DomainId": DOMAIN,
                    "UserProfileName": "alice",
                    "AppType": "RSessionGateway",
                    "AppName": "s1",
                    "Status": "InService",
                },
                {
                    "DomainId": DOMAIN,
                    "SpaceName": "sp",
                    "AppType": "JupyterLab",
                    "AppName": "default",
                    "Status": "Deleting",
                },
                {
                    "DomainId": DOMAIN,
                    "UserProfileName": "domain-shared",
                    "AppType": "RStudioServerPro",
                    "AppName": "default",
                    "Status": "InService",
                },
            ]
        },
        {"DomainIdEquals": DOMAIN},
    )
    stub.add_response(
        "delete_app",
        {},
        {"DomainId": DOMAIN, "UserProfileName": "alice", "AppType": "RSessionGateway", "AppName": "s1"},
    )
    with stub:
        result = teardown.teardown_pass(Clients(sagemaker=sagemaker, ec2=None, efs=None), DOMAIN, delete_data=True)
    stub.assert_no_pending_responses()
    assert result.requested == ["app RSessionGateway/s1 of alice"]
    assert not result.done  # apps remain (one deleting): spaces and profiles wait for the next pass


def test_unexpected_errors_are_not_swallowed():
    class Denied(FakeSageMaker):
        def list_apps(self, DomainIdEquals: str, NextToken: str | None = None) -> dict[str, Any]:
            raise _error("AccessDeniedException")

    with pytest.raises(ClientError, match="AccessDenied"):
        teardown.check_complete(EVENT, Clients(sagemaker=Denied(), ec2=FakeEc2(), efs=FakeEfs()))
