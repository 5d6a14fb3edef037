"""A stateful fake of the parts of SageMaker, IAM, EFS and EC2 the domain's custom resources use (moto has no
user profiles, apps or spaces, and no RStudio). It behaves as AWS's pages describe, on a clock the test drives:

- deleting an app takes DELETE_SECONDS (Deleting, then Deleted); a new one takes START_SECONDS (Pending, then
  InService), records the domain's server image it started with, and cannot be deleted while Pending;
- the RStudioServerPro app is relaunched by SageMaker when it is Deleted or Failed and the domain execution role
  may call CreateApp ("allows Amazon SageMaker to automatically launch an RStudioServerPro app when the existing
  RStudioServerPro app is in a Deleted or Failed status"); `in_flight` relaunches happen whatever the role says
  (one that had started before a deny took effect);
- a profile or space cannot be deleted while it has apps, nor the domain while it has profiles, spaces or apps
  (ResourceInUse); UpdateDomain takes UPDATE_SECONDS (Updating) and DeleteDomain DELETE_DOMAIN_SECONDS;
- UpdateDomain is refused with ValidationException "... with InService App ..." while an RStudio app runs (with
  `any_app_blocks_update`, while any app runs: SageMaker's message says "all InService apps", AWS's upgrade page
  names only the RStudio ones), and for an image not in `known_images`; an app started on an image in
  `failing_images` ends Failed with that reason instead of InService;
- the NFS security groups reference each other (DependencyViolation until both are free of rules).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from botocore.exceptions import ClientError

DOMAIN = "d-abc123"
DOMAIN_ARN = f"arn:aws:sagemaker:eu-west-2:111122223333:domain/{DOMAIN}"
ROLE = "simlab-workspace-StudioExecutionRole"
ROLE_ARN = f"arn:aws:iam::111122223333:role/{ROLE}"
GUARD = "arn:aws:iam::111122223333:policy/simlab-workspace-StudioRelaunchGuard"
SERVER = ("domain-shared", "RStudioServerPro", "default")
OLD_IMAGE = "arn:aws:sagemaker:eu-west-2:712779665605:image/rstudio-workbench-2025.05-sagemaker-1.1"
NEW_IMAGE = "arn:aws:sagemaker:eu-west-2:712779665605:image/rstudio-workbench-2026.08-sagemaker-1.0"
# Custom::WorkbenchVersion's properties for the domain above, on the newest version (handlers/upgrade.py, Pin).
PIN_PROPS: dict[str, Any] = {
    "DomainId": DOMAIN,
    "WorkbenchVersion": "2026.08.2+200.pro1",
    "ServerImageArn": NEW_IMAGE,
    "ExecutionRoleArn": ROLE_ARN,
    "ExecutionRoleName": ROLE,
    "RelaunchGuardArn": GUARD,
}
EPOCH = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
DELETE_SECONDS = 90
START_SECONDS = 120
RELAUNCH_SECONDS = 20
UPDATE_SECONDS = 150
DELETE_DOMAIN_SECONDS = 200


def error(code: str, message: str = "") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message or code}}, "op")


# SageMaker's words (hashicorp/terraform-provider-aws issue 31912).
APPS_RUNNING = (
    f"Unable to update Domain [arn:aws:sagemaker:eu-west-2:111122223333:domain/{DOMAIN}] with InService App. "
    "Delete all InService apps in the domain including shared Apps for [domain-shared] User Profile, and try again."
)


@dataclass
class Clock:
    now: float = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def stamp(self, at: float | None = None) -> datetime:
        return EPOCH + timedelta(seconds=self.now if at is None else at)


@dataclass
class FakeIam:
    attached: dict[str, list[str]] = field(default_factory=lambda: {ROLE: []})
    log: list[str] = field(default_factory=list)

    def _role(self, name: str) -> list[str]:
        if name not in self.attached:
            raise error("NoSuchEntity")
        return self.attached[name]

    def list_attached_role_policies(self, RoleName: str, Marker: str | None = None) -> dict[str, Any]:
        return {"AttachedPolicies": [{"PolicyArn": arn} for arn in self._role(RoleName)], "IsTruncated": False}

    def attach_role_policy(self, RoleName: str, PolicyArn: str) -> None:
        if PolicyArn not in self._role(RoleName):
            self._role(RoleName).append(PolicyArn)
        self.log.append(f"attach {PolicyArn.rsplit('/', 1)[1]}")

    def detach_role_policy(self, RoleName: str, PolicyArn: str) -> None:
        if PolicyArn not in self._role(RoleName):
            raise error("NoSuchEntity")
        self._role(RoleName).remove(PolicyArn)
        self.log.append(f"detach {PolicyArn.rsplit('/', 1)[1]}")

    def may_create_apps(self) -> bool:
        """Whether SageMaker, acting as the domain execution role, may call CreateApp (not without the role)."""
        return ROLE in self.attached and GUARD not in self.attached[ROLE]


@dataclass
class FakeSageMaker:
    clock: Clock
    iam: FakeIam
    server_image: str = OLD_IMAGE
    apps: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    spaces: dict[str, str] = field(default_factory=dict)
    profiles: dict[str, str] = field(default_factory=dict)
    domain: dict[str, Any] | None = None
    in_flight: int = 0
    relaunches: int = 0
    log: list[str] = field(default_factory=list)
    known_images: set[str] = field(default_factory=lambda: {OLD_IMAGE, NEW_IMAGE})
    failing_images: dict[str, str] = field(default_factory=dict)
    any_app_blocks_update: bool = False
    # SageMaker reading a URL back otherwise than it was set (a trailing slash added): the pin must not loop on it.
    normalises_urls: bool = False
    tags: dict[str, str] = field(default_factory=dict)
    tag_access: bool = True

    def __post_init__(self) -> None:
        if self.domain is None:
            self.domain = {"Status": "InService", "until": 0.0, "modified": -1000.0, "spec": self.server_image}

    # ----------------------------------------------------------------- time
    def _advance(self) -> None:
        now = self.clock.now
        for key, app in self.apps.items():
            if app["Status"] == "Deleting" and now >= app["until"]:
                app.update(Status="Deleted", gone_at=app["until"])
            if app["Status"] == "Pending" and now >= app["until"]:
                reason = self.failing_images.get(app["image"])
                if reason:
                    app.update(Status="Failed", reason=reason, gone_at=app["until"])
                else:
                    app["Status"] = "InService"
            if key == SERVER and app["Status"] in ("Deleted", "Failed") and self._relaunching():
                relaunch_at = app.get("gone_at", app["until"]) + RELAUNCH_SECONDS
                if now >= relaunch_at and (self.in_flight > 0 or self.iam.may_create_apps()):
                    self.in_flight = max(0, self.in_flight - 1)
                    self.relaunches += 1
                    self._start(SERVER)
        domain = self.domain
        if domain is not None and domain["Status"] in ("Updating", "Deleting") and now >= domain["until"]:
            if domain["Status"] == "Deleting":
                self.domain = None
            else:
                domain["Status"] = "InService"

    def _start(self, key: tuple[str, str, str], at: float | None = None) -> None:
        at = self.clock.now if at is None else at
        assert self.domain is not None
        self.apps[key] = {"Status": "Pending", "until": at + START_SECONDS, "created": at, "image": self.domain["spec"]}

    def _relaunching(self) -> bool:
        return self.domain is not None and self.domain["Status"] != "Deleting"

    def _live(self, owner: str) -> bool:
        return any(o == owner and a["Status"] not in ("Deleted", "Failed") for (o, _, _), a in self.apps.items())

    # ----------------------------------------------------------------- domain
    def describe_domain(self, DomainId: str) -> dict[str, Any]:
        self._advance()
        if self.domain is None:
            raise error("ResourceNotFound")
        spec = {"InstanceType": "system"}
        if self.domain["spec"] is not None:
            spec["SageMakerImageArn"] = self.domain["spec"]
        server = {"DefaultResourceSpec": spec, **self.domain.get("urls", {})}
        return {
            "DomainId": DomainId,
            "DomainArn": DOMAIN_ARN,
            "Status": self.domain["Status"],
            "HomeEfsFileSystemId": "fs-home",
            "LastModifiedTime": self.clock.stamp(self.domain["modified"]),
            "DomainSettings": {"RStudioServerProDomainSettings": server},
            "DefaultUserSettings": self.domain.get("user_settings", {}),
        }

    def update_domain(
        self, DomainId: str, DomainSettingsForUpdate: dict[str, Any], DefaultUserSettings: dict[str, Any] | None = None
    ) -> None:
        self._advance()
        assert self.domain is not None
        if self.domain["Status"] != "InService":
            raise error("ResourceInUse")
        blocking = ("RStudioServerPro", "RSessionGateway")
        if any(
            a["Status"] not in ("Deleted", "Failed") and (self.any_app_blocks_update or kind in blocking)
            for (_, kind, _), a in self.apps.items()
        ):
            raise error("ValidationException", APPS_RUNNING)
        settings = DomainSettingsForUpdate["RStudioServerProDomainSettingsForUpdate"]
        assert settings["DomainExecutionRoleArn"] == ROLE_ARN
        assert settings["DefaultResourceSpec"]["InstanceType"] == "system"
        # CloudFormation's own update names no image ({InstanceType: system}); whether SageMaker then keeps the pinned
        # image is not documented, so the fake takes the worse case: the domain falls back to AWS's default (None).
        image = settings["DefaultResourceSpec"].get("SageMakerImageArn")
        if image is not None and image not in self.known_images:
            raise error("ValidationException", f"Image {image} does not exist or is not accessible")
        urls = {k: v for k, v in settings.items() if k in ("RStudioConnectUrl", "RStudioPackageManagerUrl")}
        if self.normalises_urls:
            urls = {k: v.rstrip("/") + "/" for k, v in urls.items()}
        self.domain.update(
            Status="Updating",
            until=self.clock.now + UPDATE_SECONDS,
            modified=self.clock.now,
            spec=image,
            urls={**self.domain.get("urls", {}), **urls},
        )
        if DefaultUserSettings is not None:
            self.domain["user_settings"] = DefaultUserSettings
        self.log.append("update_domain")

    def list_tags(self, ResourceArn: str) -> dict[str, Any]:
        assert ResourceArn == DOMAIN_ARN
        if not self.tag_access:
            raise error("AccessDeniedException")
        return {"Tags": [{"Key": k, "Value": v} for k, v in self.tags.items()]}

    def add_tags(self, ResourceArn: str, Tags: list[dict[str, str]]) -> None:
        assert ResourceArn == DOMAIN_ARN
        if not self.tag_access:
            raise error("AccessDeniedException")
        self.tags.update({t["Key"]: t["Value"] for t in Tags})

    def delete_domain(self, DomainId: str, RetentionPolicy: dict[str, str]) -> None:
        self._advance()
        assert self.domain is not None
        assert RetentionPolicy == {"HomeEfsFileSystem": "Retain"}
        if self.profiles or self.spaces or any(a["Status"] not in ("Deleted", "Failed") for a in self.apps.values()):
            raise error("ResourceInUse")
        self.domain.update(Status="Deleting", until=self.clock.now + DELETE_DOMAIN_SECONDS)
        self.log.append("delete_domain")

    # ----------------------------------------------------------------- apps
    def list_apps(self, DomainIdEquals: str, NextToken: str | None = None) -> dict[str, Any]:
        self._advance()
        rows = []
        for (owner, kind, name), app in self.apps.items():
            if owner == "domain-shared":
                continue  # "not returned as part of list-app API calls by any other user profiles"
            row = {
                "AppType": kind,
                "AppName": name,
                "Status": app["Status"],
                "CreationTime": self.clock.stamp(app["created"]),
            }
            row["SpaceName" if owner.startswith("space:") else "UserProfileName"] = owner.removeprefix("space:")
            rows.append(row)
        half = len(rows) // 2  # two pages, to exercise NextToken
        return {"Apps": rows[half:]} if NextToken else {"Apps": rows[:half], "NextToken": "p2"}

    def describe_app(self, **kw: Any) -> dict[str, Any]:
        self._advance()
        app = self.apps.get((kw.get("UserProfileName") or f"space:{kw['SpaceName']}", kw["AppType"], kw["AppName"]))
        if app is None:
            raise error("ResourceNotFound")
        described = {"Status": app["Status"], "CreationTime": self.clock.stamp(app["created"])}
        if app.get("reason"):
            described["FailureReason"] = app["reason"]
        return described

    def delete_app(self, **kw: Any) -> None:
        self._advance()
        owner = kw.get("UserProfileName") or f"space:{kw['SpaceName']}"
        app = self.apps.get((owner, kw["AppType"], kw["AppName"]))
        if app is None or app["Status"] in ("Deleted", "Failed"):
            raise error("ResourceNotFound")
        if app["Status"] == "Pending":
            raise error("ResourceInUse")
        app.update(Status="Deleting", until=self.clock.now + DELETE_SECONDS)
        self.log.append(f"delete_app {owner} {kw['AppType']}")

    def create_app(self, DomainId: str, UserProfileName: str, AppType: str, AppName: str) -> None:
        self._advance()
        key = (UserProfileName, AppType, AppName)
        if key in self.apps and self.apps[key]["Status"] not in ("Deleted", "Failed"):
            raise error("ResourceInUse")
        self._start(key)
        self.log.append(f"create_app {UserProfileName} {AppType}")

    # ----------------------------------------------------------------- spaces and profiles
    def list_spaces(self, DomainIdEquals: str) -> dict[str, Any]:
        return {"Spaces": [{"SpaceName": n, "Status": s} for n, s in self.spaces.items()]}

    def delete_space(self, DomainId: str, SpaceName: str) -> None:
        self._advance()
        if self._live(f"space:{SpaceName}"):
            raise error("ResourceInUse")
        self.log.append(f"delete_space {SpaceName}")
        del self.spaces[SpaceName]

    def list_user_profiles(self, DomainIdEquals: str) -> dict[str, Any]:
        return {"UserProfiles": [{"UserProfileName": n, "Status": s} for n, s in self.profiles.items()]}

    def delete_user_profile(self, DomainId: str, UserProfileName: str) -> None:
        self._advance()
        if self._live(UserProfileName):
            raise error("ResourceInUse")
        self.log.append(f"delete_user_profile {UserProfileName}")
        del self.profiles[UserProfileName]


@dataclass
class FakeEfs:
    mount_targets: dict[str, str] = field(default_factory=lambda: {"fsmt-1": "available", "fsmt-2": "available"})
    file_system: bool = True
    log: list[str] = field(default_factory=list)

    def describe_mount_targets(self, FileSystemId: str) -> dict[str, Any]:
        if not self.file_system:
            raise error("FileSystemNotFound")
        for target, state in list(self.mount_targets.items()):  # a deleting mount target is gone on the next look
            if state == "deleting":
                del self.mount_targets[target]
        return {"MountTargets": [{"MountTargetId": t, "LifeCycleState": s} for t, s in self.mount_targets.items()]}

    def delete_mount_target(self, MountTargetId: str) -> None:
        self.mount_targets[MountTargetId] = "deleting"
        self.log.append(f"delete_mount_target {MountTargetId}")

    def describe_file_systems(self, FileSystemId: str) -> dict[str, Any]:
        if not self.file_system:
            raise error("FileSystemNotFound")
        return {"FileSystems": [{"FileSystemId": FileSystemId, "LifeCycleState": "available"}]}

    def delete_file_system(self, FileSystemId: str) -> None:
        if self.mount_targets:
            raise error("FileSystemInUse")
        self.file_system = False
        self.log.append("delete_file_system")


def nfs_groups(inbound: str, outbound: str) -> dict[str, dict[str, Any]]:
    rule = {"IpProtocol": "tcp", "FromPort": 2049, "ToPort": 2049}
    return {
        "sg-in": {"GroupName": inbound, "In": [dict(rule, UserIdGroupPairs=[{"GroupId": "sg-out"}])], "Out": []},
        "sg-out": {"GroupName": outbound, "In": [], "Out": [dict(rule, UserIdGroupPairs=[{"GroupId": "sg-in"}])]},
    }


@dataclass
class FakeEc2:
    groups: dict[str, dict[str, Any]]
    log: list[str] = field(default_factory=list)

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
            raise error("DependencyViolation")
        self.log.append(f"delete_security_group {self.groups.pop(GroupId)['GroupName']}")


def busy_domain(clock: Clock, iam: FakeIam, **kw: Any) -> FakeSageMaker:
    """A domain in use: two users' RSessions (one Failed), a space's app and the running server app."""
    sm = FakeSageMaker(clock=clock, iam=iam, spaces={"shared": "InService"}, **kw)
    sm.profiles = {"alice": "InService", "bob": "InService"}
    for key, status in (
        (("alice", "RSessionGateway", "s1"), "InService"),
        (("alice", "RSessionGateway", "s2"), "Failed"),
        (("bob", "RSessionGateway", "s3"), "InService"),
        (("space:shared", "JupyterLab", "default"), "InService"),
        (SERVER, "InService"),
    ):
        sm.apps[key] = {"Status": status, "until": 0.0, "created": -3600.0, "image": sm.server_image}
    return sm


@dataclass
class FakeCloudFormation:
    """DescribeStackResource of the stack that holds the domain (`resources`: logical ID -> physical ID)."""

    resources: dict[str, str] = field(default_factory=dict)
    status: str = "UPDATE_COMPLETE"

    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        return {"Stacks": [{"StackName": StackName, "StackStatus": self.status}]}

    def describe_stack_resource(self, StackName: str, LogicalResourceId: str) -> dict[str, Any]:
        if LogicalResourceId not in self.resources:
            raise error("ValidationError", f"Resource {LogicalResourceId} does not exist for stack {StackName}")
        return {
            "StackResourceDetail": {
                "LogicalResourceId": LogicalResourceId,
                "PhysicalResourceId": self.resources[LogicalResourceId],
            }
        }
