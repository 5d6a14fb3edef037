"""Custom resource that pins the domain's Posit Workbench version, and changes it the way AWS documents.

CloudFormation replaces an AWS::SageMaker::Domain when RStudioServerProDomainSettings.DefaultResourceSpec
changes, and the users' homes live on the domain's EFS. So the domain resource never names the version; this
resource does (ResourceProperties ServerImageArn, the region's RStudioServerPro image of the chosen version), and
on Create and Update it runs AWS's upgrade procedure ("Upgrade the RStudio version", rstudio-version-upgrade.html):

1. delete the RSessionGateway apps and the `domain-shared` RStudioServerPro app (with the execution role's
   CreateApp denied meanwhile, so SageMaker cannot relaunch the old version; see common.py);
2. `UpdateDomain` with DefaultResourceSpec {SageMakerImageArn: <image>, InstanceType: system};
3. once the domain is InService again, allow CreateApp again and create the RStudioServerPro app.

The same procedure applies the domain's other settings that can change after the first deploy (the Connect and
Package Manager URLs, the RSessions' default instance type: ResourceProperties ConnectUrl, PackageManagerUrl,
DefaultUserSettings), which the domain resource leaves out for the same kind of reason (stacks/studio/domain.py).
A domain already on the image and those settings skips 1-2. Each `is_complete` call is one pass that reads where
the domain is and does the next step, so a restarted poll picks up where the last one stopped. Delete does nothing
(the teardown resource empties and deletes the domain). Plain boto3, no other dependency.

SageMaker may answer DescribeDomain with values other than the ones UpdateDomain set (a normalised URL, say), and
then the domain would never look current: the pin would take it down and update it again and again until the
provider's hour ran out. So each UpdateDomain the pin makes is counted in a tag on the domain, per CloudFormation
request (ATTEMPTS_TAG: `<request id> <count>`); once MAX_UPDATES of them have not stuck, the resource fails at once,
naming each value set and what SageMaker reads back. A tag that cannot be read or written only turns the count off.

When a pass fails (the resource fails, and CloudFormation rolls back by running this resource again with the old
version's properties), the deny is detached first: a failed upgrade must not also keep SageMaker from relaunching the
server app. SageMaker answers a refused UpdateDomain or CreateApp with ValidationException; those fail the resource
with AWS's message (never taken for "already gone", which is what the deletes make of that code), except the refusal
"with InService App" while only apps this procedure deletes are running (a user opened an RSession, or a relaunch
came through, since the take-down): the next pass deletes them and asks again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import ClientError

from .common import (
    BUSY,
    LOG,
    SERVER_APP,
    SERVER_APP_NAME,
    SERVER_APP_TYPE,
    SESSION_APP_TYPE,
    SHARED_PROFILE,
    WAIT_DOMAIN_STATES,
    Pass,
    code,
    describe_server_app,
    pages,
    relaunch_released_on_failure,
    release_relaunch,
    request,
    take_down,
)

SERVER_INSTANCE_TYPE = "system"
# SageMaker's refusal of an UpdateDomain with RStudio settings while apps run: "Unable to update Domain [...] with
# InService App. Delete all InService apps in the domain including shared Apps for [domain-shared] User Profile,
# and try again." (ValidationException; quoted in hashicorp/terraform-provider-aws issue 31912, 2023.)
APPS_RUNNING = "with InService App"
ATTEMPTS_TAG = "simlab-pin-updates"
# One UpdateDomain is AWS's procedure; a second forgives one stale read right after it.
MAX_UPDATES = 2


class UpgradeFailed(RuntimeError):
    """The domain or its server app ended in a failed state; the message is what CloudFormation shows."""


@dataclass
class Clients:
    sagemaker: Any
    iam: Any
    sleep: Callable[[float], None] = time.sleep

    @classmethod
    def default(cls) -> Clients:
        return cls(sagemaker=boto3.client("sagemaker"), iam=boto3.client("iam"))


@dataclass(frozen=True)
class Pin:
    """ResourceProperties of Custom::WorkbenchVersion."""

    domain_id: str
    version: str
    server_image_arn: str
    execution_role_arn: str
    execution_role_name: str
    relaunch_guard_arn: str
    domain_arn: str = ""  # "": updates are not counted (see ATTEMPTS_TAG)
    request_id: str = ""
    connect_url: str = ""
    package_manager_url: str = ""
    # UpdateDomain's DefaultUserSettings (the RSessions' default instance type and image); {}: leave them.
    default_user_settings: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, props: dict[str, Any], request_id: str = "") -> Pin:
        return cls(
            domain_id=str(props["DomainId"]),
            domain_arn=str(props.get("DomainArn", "")),
            request_id=request_id,
            version=str(props["WorkbenchVersion"]),
            server_image_arn=str(props["ServerImageArn"]),
            execution_role_arn=str(props["ExecutionRoleArn"]),
            execution_role_name=str(props["ExecutionRoleName"]),
            relaunch_guard_arn=str(props["RelaunchGuardArn"]),
            connect_url=str(props.get("ConnectUrl", "")),
            package_manager_url=str(props.get("PackageManagerUrl", "")),
            default_user_settings=dict(props.get("DefaultUserSettings") or {}),
        )


def on_event(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle_event(event, Clients.default())


def is_complete(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return check_complete(event, Clients.default())


def handle_event(event: dict[str, Any], clients: Clients) -> dict[str, Any]:
    pin = Pin.of(event["ResourceProperties"], str(event.get("RequestId", "")))
    LOG.info(
        "%s: Workbench %s (%s) on domain %s", event["RequestType"], pin.version, pin.server_image_arn, pin.domain_id
    )
    if event["RequestType"] != "Delete":
        upgrade_pass(clients, pin)
    return {"PhysicalResourceId": f"workbench-{pin.domain_id}", "Data": {"ServerImageArn": pin.server_image_arn}}


def check_complete(event: dict[str, Any], clients: Clients) -> dict[str, Any]:
    if event["RequestType"] == "Delete":
        return {"IsComplete": True}
    result = upgrade_pass(clients, Pin.of(event["ResourceProperties"], str(event.get("RequestId", ""))))
    LOG.info("requested: %s; remaining: %s", result.requested, result.remaining)
    return {"IsComplete": result.done}


def server_spec(domain: dict[str, Any]) -> dict[str, Any]:
    settings = domain.get("DomainSettings", {}).get("RStudioServerProDomainSettings", {})
    spec: dict[str, Any] = settings.get("DefaultResourceSpec", {})
    return spec


def is_pinned(domain: dict[str, Any], image_arn: str) -> bool:
    """The domain's server app is set to `image_arn` on the system instance. An image *version* ARN would win
    over the image ARN (API reference, RStudioServerProDomainSettings), so none may be set."""
    spec = server_spec(domain)
    return (
        spec.get("SageMakerImageArn") == image_arn
        and not spec.get("SageMakerImageVersionArn")
        and spec.get("InstanceType", SERVER_INSTANCE_TYPE) == SERVER_INSTANCE_TYPE
    )


def _session_instance_type(user_settings: dict[str, Any]) -> str | None:
    spec = user_settings.get("RSessionAppSettings", {}).get("DefaultResourceSpec", {})
    return spec.get("InstanceType")  # type: ignore[no-any-return]


def settings_current(domain: dict[str, Any], pin: Pin) -> bool:
    """The settings the pin owns besides the version (the domain resource leaves them out, domain.py says why) are
    what the deploy asks for. A URL set once stays when the setting is emptied (UpdateDomain has no way to unset it)."""
    server = domain.get("DomainSettings", {}).get("RStudioServerProDomainSettings", {})
    if pin.connect_url and server.get("RStudioConnectUrl") != pin.connect_url:
        return False
    if pin.package_manager_url and server.get("RStudioPackageManagerUrl") != pin.package_manager_url:
        return False
    wanted = _session_instance_type(pin.default_user_settings)
    return not wanted or wanted == _session_instance_type(domain.get("DefaultUserSettings", {}))


def differences(domain: dict[str, Any], pin: Pin) -> list[str]:
    """Each value the pin owns that the domain does not read back as set: `name: set X, reads Y`."""
    server = domain.get("DomainSettings", {}).get("RStudioServerProDomainSettings", {})
    found: list[str] = []
    if not is_pinned(domain, pin.server_image_arn):
        spec = server_spec(domain)
        read = spec.get("SageMakerImageVersionArn") or spec.get("SageMakerImageArn")
        found.append(f"server image: set {pin.server_image_arn}, reads {read}")
    for name, wanted in (("RStudioConnectUrl", pin.connect_url), ("RStudioPackageManagerUrl", pin.package_manager_url)):
        if wanted and server.get(name) != wanted:
            found.append(f"{name}: set {wanted}, reads {server.get(name)}")
    wanted_type = _session_instance_type(pin.default_user_settings)
    read_type = _session_instance_type(domain.get("DefaultUserSettings", {}))
    if wanted_type and wanted_type != read_type:
        found.append(f"RSessions' default instance type: set {wanted_type}, reads {read_type}")
    return found


def _updates_made(sagemaker: Any, pin: Pin) -> int:
    """How many UpdateDomain calls the pin made on the domain in this CloudFormation request (0 if not counted)."""
    if not (pin.domain_arn and pin.request_id):
        return 0
    try:
        tags = sagemaker.list_tags(ResourceArn=pin.domain_arn).get("Tags", [])
    except ClientError as error:
        LOG.warning("cannot read the tags of %s (%s): updates not counted", pin.domain_arn, code(error))
        return 0
    for tag in tags:
        request, _, count = str(tag.get("Value", "")).partition(" ")
        if tag.get("Key") == ATTEMPTS_TAG and request == pin.request_id and count.isdigit():
            return int(count)
    return 0


def _count_update(sagemaker: Any, pin: Pin, count: int) -> None:
    if not (pin.domain_arn and pin.request_id):
        return
    try:
        sagemaker.add_tags(
            ResourceArn=pin.domain_arn, Tags=[{"Key": ATTEMPTS_TAG, "Value": f"{pin.request_id} {count}"}]
        )
    except ClientError as error:
        LOG.warning("cannot tag %s (%s): updates not counted", pin.domain_arn, code(error))


def upgrade_pass(clients: Clients, pin: Pin) -> Pass:
    """One pass: wait for the domain, or take the next step of the procedure. A pass that fails lets SageMaker
    relaunch the server app again before the failure reaches CloudFormation."""
    with relaunch_released_on_failure(clients.iam, pin.execution_role_name, pin.relaunch_guard_arn):
        return _upgrade_pass(clients, pin)


def _upgrade_pass(clients: Clients, pin: Pin) -> Pass:
    result = Pass()
    sagemaker = clients.sagemaker
    domain = sagemaker.describe_domain(DomainId=pin.domain_id)
    status = domain.get("Status")
    if status in WAIT_DOMAIN_STATES:
        result.remaining.append(f"domain {pin.domain_id} ({status})")
        return result
    if status != "InService":
        raise UpgradeFailed(f"domain {pin.domain_id} is {status}: {domain.get('FailureReason', 'no reason given')}")
    if not (is_pinned(domain, pin.server_image_arn) and settings_current(domain, pin)):
        updates = _updates_made(sagemaker, pin)
        if updates >= MAX_UPDATES:
            raise UpgradeFailed(
                f"domain {pin.domain_id} does not keep what the pin sets "
                f"({updates} UpdateDomain calls in this deploy): " + "; ".join(differences(domain, pin))
            )
        _take_down_and_update(clients, pin, result)
        if f"update-domain {pin.domain_id} to Workbench {pin.version}" in result.requested:
            _count_update(sagemaker, pin, updates + 1)
        return result
    release_relaunch(clients.iam, pin.execution_role_name, pin.relaunch_guard_arn, result)
    _bring_up(sagemaker, pin, domain, result)
    return result


def _take_down_and_update(clients: Clients, pin: Pin, result: Pass) -> None:
    sagemaker = clients.sagemaker
    take_down(
        sagemaker, clients.iam, pin.domain_id, pin.execution_role_name, pin.relaunch_guard_arn, result, clients.sleep
    )
    if not result.done:
        return
    server: dict[str, Any] = {
        "DomainExecutionRoleArn": pin.execution_role_arn,
        "DefaultResourceSpec": {"SageMakerImageArn": pin.server_image_arn, "InstanceType": SERVER_INSTANCE_TYPE},
    }
    # Sent again so that an update cannot drop them.
    if pin.connect_url:
        server["RStudioConnectUrl"] = pin.connect_url
    if pin.package_manager_url:
        server["RStudioPackageManagerUrl"] = pin.package_manager_url
    what = f"update-domain {pin.domain_id} to Workbench {pin.version}"
    result.remaining.append(what)
    update: dict[str, Any] = {"DomainSettingsForUpdate": {"RStudioServerProDomainSettingsForUpdate": server}}
    if pin.default_user_settings:
        update["DefaultUserSettings"] = pin.default_user_settings
    try:
        sagemaker.update_domain(DomainId=pin.domain_id, **update)
        result.requested.append(what)
    except ClientError as error:
        if code(error) in BUSY:
            LOG.info("%s busy (%s), retrying on the next pass", what, code(error))
            return
        message = str(error.response.get("Error", {}).get("Message", ""))
        if code(error) == "ValidationException" and APPS_RUNNING in message:
            rstudio, others = _running_apps(sagemaker, pin.domain_id)
            if rstudio or not others:
                LOG.info("%s refused while RStudio apps run (%s): the next pass deletes them", what, message)
                return
            raise UpgradeFailed(
                f"{what}: SageMaker refuses it while these apps run, which the upgrade does not stop: "
                f"{', '.join(others)}; delete them and deploy again ({message})"
            ) from None
        raise UpgradeFailed(f"{what} refused: {code(error)}: {message}") from None


def _running_apps(sagemaker: Any, domain_id: str) -> tuple[list[str], list[str]]:
    """The domain's running apps: (the RStudio ones, which the procedure deletes; any other, e.g. JupyterLab in a
    space)."""
    server = describe_server_app(sagemaker, domain_id)
    rstudio = [] if server is None or server.get("Status") in ("Deleted", "Failed") else [SERVER_APP]
    others: list[str] = []
    for app in pages(sagemaker.list_apps, "Apps", DomainIdEquals=domain_id):
        if app.get("Status") in ("Deleted", "Failed"):
            continue
        owner = app.get("SpaceName") or app.get("UserProfileName")
        name = f"{app.get('AppType')}/{app.get('AppName')} of {owner} ({app.get('Status')})"
        (rstudio if app.get("AppType") in (SESSION_APP_TYPE, SERVER_APP_TYPE) else others).append(name)
    return rstudio, others


def _bring_up(sagemaker: Any, pin: Pin, domain: dict[str, Any], result: Pass) -> None:
    app = describe_server_app(sagemaker, pin.domain_id)
    status = app.get("Status") if app else None
    if status == "InService":
        return
    if status in ("Pending", "Deleting"):
        result.remaining.append(f"{SERVER_APP} ({status})")
        return
    if status == "Failed" and _newer(app, domain):
        raise UpgradeFailed(
            f"the RStudioServerPro app of domain {pin.domain_id} failed on Workbench {pin.version}: "
            f"{app.get('FailureReason', 'no reason given')}"  # type: ignore[union-attr]
        )
    what = f"create {SERVER_APP} on Workbench {pin.version}"
    result.remaining.append(what)
    try:
        request(
            sagemaker.create_app,
            what,
            result,
            gone=(),
            DomainId=pin.domain_id,
            UserProfileName=SHARED_PROFILE,
            AppType=SERVER_APP_TYPE,
            AppName=SERVER_APP_NAME,
        )
    except ClientError as error:
        message = error.response.get("Error", {}).get("Message", "")
        raise UpgradeFailed(f"{what} refused: {code(error)}: {message}") from None


def _newer(app: dict[str, Any] | None, domain: dict[str, Any]) -> bool:
    """The app was created after the domain's last change: a failure of the pinned version, not a leftover."""
    created, changed = (app or {}).get("CreationTime"), domain.get("LastModifiedTime")
    return bool(created and changed and created > changed)
