"""What the teardown and the version upgrade share: one pass's bookkeeping, idempotent deletes, and the two steps
that keep SageMaker from relaunching the domain's RStudioServerPro app while it must stay down.

The relaunch: the domain execution role holds `sagemaker:CreateApp` so that SageMaker "automatically launch[es]
an RStudioServerPro app when the existing RStudioServerPro app is in a Deleted or Failed status" (AWS, "Create
an Amazon SageMaker Domain with RStudio using the AWS CLI", DomainExecution role). While that holds, a deleted
server app can come back. So before deleting it, `hold_relaunch` attaches the stack's deny policy
(Deny sagemaker:CreateApp) to that role; an explicit deny beats the allow. IAM changes take a few seconds to
apply, so `stop_server_app` only reports the app gone once it has stayed gone for SETTLE_SECONDS; a relaunch
that was already under way is deleted again on the next pass. `release_relaunch` detaches the policy.
Plain boto3, no other dependency.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)

SHARED_PROFILE = "domain-shared"
SERVER_APP_TYPE = "RStudioServerPro"
SERVER_APP_NAME = "default"
SESSION_APP_TYPE = "RSessionGateway"
GONE_APP_STATES = ("Deleted", "Failed")
# How long the server app must stay gone before anything that depends on its absence goes ahead.
SETTLE_SECONDS = 60
NOT_FOUND = (
    "ResourceNotFound",
    "ValidationException",
    "FileSystemNotFound",
    "MountTargetNotFound",
    "InvalidGroup.NotFound",
    "NoSuchEntity",
)
BUSY = ("ResourceInUse", "DependencyViolation", "ConflictException")
# Domain states that end by themselves: a pass waits for them.
WAIT_DOMAIN_STATES = ("Pending", "Updating")


@dataclass
class Pass:
    """What one pass asked for and what is still there."""

    requested: list[str] = field(default_factory=list)
    remaining: list[str] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return not self.remaining


def code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def pages(call: Callable[..., Any], key: str, **kwargs: Any) -> list[dict[str, Any]]:
    """Every item of a paginated List/Describe call; a missing parent is an empty list."""
    items: list[dict[str, Any]] = []
    while True:
        try:
            page = call(**kwargs)
        except ClientError as error:
            if code(error) in NOT_FOUND:
                return items
            raise
        items += page.get(key, [])
        token = page.get("NextToken")
        if not token:
            return items
        kwargs["NextToken"] = token


def request(
    call: Callable[..., Any], what: str, result: Pass, *, gone: tuple[str, ...] = NOT_FOUND, **kwargs: Any
) -> None:
    """Ask for a change; an error code in `gone` means already gone (not an error, for a delete), something busy is
    retried on the next pass, anything else raises."""
    try:
        call(**kwargs)
        result.requested.append(what)
    except ClientError as error:
        if code(error) in gone:
            return
        if code(error) in BUSY:
            LOG.info("%s busy (%s), retrying on the next pass", what, code(error))
            if what not in result.remaining:
                result.remaining.append(what)
            return
        raise


def delete_apps(sagemaker: Any, domain_id: str, result: Pass, *, app_type: str | None = None) -> None:
    """Delete the domain's user and space apps (of `app_type` only, if given), never the shared server app."""
    for app in pages(sagemaker.list_apps, "Apps", DomainIdEquals=domain_id):
        if app.get("Status") in GONE_APP_STATES or (app_type and app.get("AppType") != app_type):
            continue
        owner = {"SpaceName": app["SpaceName"]} if "SpaceName" in app else {"UserProfileName": app["UserProfileName"]}
        if owner.get("UserProfileName") == SHARED_PROFILE:
            continue
        what = f"app {app['AppType']}/{app['AppName']} of {next(iter(owner.values()))}"
        result.remaining.append(what)
        if app.get("Status") != "Deleting":
            kwargs = {"DomainId": domain_id, "AppType": app["AppType"], "AppName": app["AppName"], **owner}
            request(sagemaker.delete_app, what, result, **kwargs)


def describe_server_app(sagemaker: Any, domain_id: str) -> dict[str, Any] | None:
    try:
        app: dict[str, Any] = sagemaker.describe_app(
            DomainId=domain_id, UserProfileName=SHARED_PROFILE, AppType=SERVER_APP_TYPE, AppName=SERVER_APP_NAME
        )
    except ClientError as error:
        if code(error) in NOT_FOUND:
            return None
        raise
    return app


SERVER_APP = f"app {SERVER_APP_TYPE}/{SERVER_APP_NAME} of {SHARED_PROFILE}"


def stop_server_app(sagemaker: Any, domain_id: str, result: Pass, sleep: Callable[[float], None]) -> None:
    """Delete the shared server app; done only once it is gone and still gone SETTLE_SECONDS later."""
    app = describe_server_app(sagemaker, domain_id)
    if app is not None and app.get("Status") not in GONE_APP_STATES:
        result.remaining.append(SERVER_APP)
        if app.get("Status") != "Deleting":
            request(
                sagemaker.delete_app,
                SERVER_APP,
                result,
                DomainId=domain_id,
                UserProfileName=SHARED_PROFILE,
                AppType=SERVER_APP_TYPE,
                AppName=SERVER_APP_NAME,
            )
        return
    sleep(SETTLE_SECONDS)
    again = describe_server_app(sagemaker, domain_id)
    if again is not None and again.get("Status") not in GONE_APP_STATES:
        LOG.info("%s came back (%s) after its deletion: deleting it again", SERVER_APP, again.get("Status"))
        result.remaining.append(f"{SERVER_APP} (relaunched)")


def _guard_attached(iam: Any, role_name: str, policy_arn: str) -> bool | None:
    """Whether the deny policy is attached to the role; None when the role no longer exists."""
    kwargs: dict[str, Any] = {"RoleName": role_name}
    try:
        while True:
            page = iam.list_attached_role_policies(**kwargs)
            if any(p.get("PolicyArn") == policy_arn for p in page.get("AttachedPolicies", [])):
                return True
            if not page.get("IsTruncated"):
                return False
            kwargs["Marker"] = page["Marker"]
    except ClientError as error:
        if code(error) == "NoSuchEntity":
            return None
        raise


def hold_relaunch(iam: Any, role_name: str, policy_arn: str, result: Pass) -> None:
    """Attach the deny-CreateApp policy to the domain execution role (no-op if attached or the role is gone)."""
    if _guard_attached(iam, role_name, policy_arn) is False:
        request(
            iam.attach_role_policy,
            f"deny sagemaker:CreateApp to {role_name}",
            result,
            RoleName=role_name,
            PolicyArn=policy_arn,
        )


def release_relaunch(iam: Any, role_name: str, policy_arn: str, result: Pass) -> None:
    """Detach the deny-CreateApp policy again (no-op if it is not attached)."""
    if _guard_attached(iam, role_name, policy_arn):
        request(
            iam.detach_role_policy,
            f"allow sagemaker:CreateApp to {role_name} again",
            result,
            RoleName=role_name,
            PolicyArn=policy_arn,
        )


def take_down(
    sagemaker: Any,
    iam: Any,
    domain_id: str,
    role_name: str,
    policy_arn: str,
    result: Pass,
    sleep: Callable[[float], None],
) -> None:
    """The first step of AWS's upgrade procedure, a stage per pass: hold SageMaker's relaunch, delete the RSessions,
    then the server app until it stays deleted. Done when `result` is."""
    steps: list[Callable[[], None]] = [
        lambda: hold_relaunch(iam, role_name, policy_arn, result),
        lambda: delete_apps(sagemaker, domain_id, result, app_type=SESSION_APP_TYPE),
        lambda: stop_server_app(sagemaker, domain_id, result, sleep),
    ]
    for step in steps:
        step()
        if not result.done:
            return


@contextmanager
def relaunch_released_on_failure(iam: Any, role_name: str, policy_arn: str) -> Iterator[None]:
    """A pass that fails lets SageMaker relaunch the server app again before the failure reaches CloudFormation."""
    try:
        yield
    except Exception:
        try:
            release_relaunch(iam, role_name, policy_arn, Pass())
        except Exception:  # the original failure is the one to report
            LOG.exception("could not detach %s from %s", policy_arn, role_name)
        raise
