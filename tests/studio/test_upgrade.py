"""The Workbench version pin (Custom::WorkbenchVersion) against the stateful fake in fakes.py: AWS's upgrade
procedure (delete the RSessionGateway and RStudioServerPro apps, UpdateDomain, create the server app) on a domain
in use, with SageMaker trying to relaunch the old server app meanwhile; and its requests against botocore's
Stubber, which checks them against the real API model."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from stacks.studio.handlers import upgrade
from stacks.studio.handlers.upgrade import Clients, UpgradeFailed
from tests.studio.fakes import (
    DOMAIN,
    GUARD,
    NEW_IMAGE,
    OLD_IMAGE,
    PIN_PROPS,
    ROLE,
    ROLE_ARN,
    SERVER,
    Clock,
    FakeIam,
    FakeSageMaker,
    busy_domain,
)

PROPS = PIN_PROPS
POLL_SECONDS = 30


def _run(clients: Clients, clock: Clock, kind: str, limit: int = 200) -> int:
    event = {"RequestType": kind, "ResourceProperties": PROPS}
    out = upgrade.handle_event(event, clients)
    assert out["PhysicalResourceId"] == f"workbench-{DOMAIN}"
    for passes in range(1, limit + 1):
        clock.sleep(POLL_SECONDS)
        if upgrade.check_complete(event, clients)["IsComplete"]:
            return passes
    raise AssertionError("the upgrade never completed")


def _world(server_image: str = OLD_IMAGE, in_flight: int = 1) -> tuple[Clock, FakeSageMaker, FakeIam, Clients]:
    clock, iam = Clock(), FakeIam()
    sm = busy_domain(clock, iam, server_image=server_image, in_flight=in_flight)
    return clock, sm, iam, Clients(sagemaker=sm, iam=iam, sleep=clock.sleep)


def test_version_change_follows_aws_procedure_in_place():
    clock, sm, iam, clients = _world(OLD_IMAGE)
    domain_before = sm.domain
    _run(clients, clock, "Update")
    # The same domain (never replaced), now on the new image, with its profiles and the space's app untouched.
    assert sm.domain is domain_before
    assert sm.domain is not None
    assert sm.domain["spec"] == NEW_IMAGE
    assert sm.domain["Status"] == "InService"
    assert sm.profiles == {"alice": "InService", "bob": "InService"}
    assert sm.apps[("space:shared", "JupyterLab", "default")]["Status"] == "InService"
    # Every RSession went, the server app went (again after the relaunch already under way), then the update,
    # then the server app came back on the new image.
    log = sm.log
    assert {"delete_app alice RSessionGateway", "delete_app bob RSessionGateway"} <= set(log)
    update = log.index("update_domain")
    assert max(i for i, e in enumerate(log) if e.startswith("delete_app")) < update
    assert log.count("delete_app domain-shared RStudioServerPro") == 2
    assert sm.apps[SERVER]["Status"] == "InService"
    assert sm.apps[SERVER]["image"] == NEW_IMAGE
    assert sm.apps[SERVER]["created"] > sm.domain["modified"]
    # CreateApp was denied to the execution role from before the first deletion until after the update.
    assert iam.log == ["attach simlab-workspace-StudioRelaunchGuard", "detach simlab-workspace-StudioRelaunchGuard"]
    assert iam.attached[ROLE] == []


def test_without_a_relaunch_by_sagemaker_the_pin_creates_the_server_app_itself():
    clock, sm, iam, clients = _world(OLD_IMAGE, in_flight=0)
    iam.may_create_apps = lambda: False  # type: ignore[method-assign]
    _run(clients, clock, "Update")
    assert sm.log[-1] == "create_app domain-shared RStudioServerPro"
    assert sm.log.index("update_domain") < len(sm.log) - 1
    assert sm.apps[SERVER]["Status"] == "InService"
    assert sm.apps[SERVER]["image"] == NEW_IMAGE


def test_a_domain_on_the_version_already_is_left_running():
    clock, sm, iam, clients = _world(NEW_IMAGE)
    assert _run(clients, clock, "Create") == 1
    assert sm.log == []
    assert iam.log == []


def test_create_waits_for_the_first_server_app_and_pins_a_fresh_domain():
    """A fresh domain (AWS's default version, its server app still starting) is moved to the chosen version."""
    clock, iam = Clock(), FakeIam()
    sm = FakeSageMaker(clock=clock, iam=iam, server_image=OLD_IMAGE)
    sm._start(SERVER)
    clients = Clients(sagemaker=sm, iam=iam, sleep=clock.sleep)
    _run(clients, clock, "Create")
    assert sm.domain is not None
    assert sm.domain["spec"] == NEW_IMAGE
    assert sm.apps[SERVER]["Status"] == "InService"
    assert sm.apps[SERVER]["image"] == NEW_IMAGE


def test_an_image_version_arn_on_the_domain_is_not_pinned():
    """If SageMakerImageVersionArn were set it would win over SageMakerImageArn (API reference)."""
    domain = {
        "DomainSettings": {"RStudioServerProDomainSettings": {"DefaultResourceSpec": {"SageMakerImageArn": NEW_IMAGE}}}
    }
    assert upgrade.is_pinned(domain, NEW_IMAGE)
    spec = domain["DomainSettings"]["RStudioServerProDomainSettings"]["DefaultResourceSpec"]
    spec["SageMakerImageVersionArn"] = NEW_IMAGE.replace(":image/", ":image-version/") + "/1"
    assert not upgrade.is_pinned(domain, NEW_IMAGE)
    assert not upgrade.is_pinned(domain, OLD_IMAGE)


def test_a_server_app_that_fails_on_the_new_version_fails_the_deploy_with_its_reason():
    clock, sm, iam, clients = _world(OLD_IMAGE, in_flight=0)
    original = sm.create_app

    def failing(**kw: Any) -> None:
        original(**kw)
        sm.apps[SERVER].update(Status="Failed", until=float("inf"), reason="no licence")

    sm.create_app = failing  # type: ignore[method-assign]
    describe = sm.describe_app
    sm.describe_app = lambda **kw: {**describe(**kw), "FailureReason": sm.apps[SERVER].get("reason", "")}  # type: ignore[method-assign]
    iam_may = iam.may_create_apps
    iam.may_create_apps = lambda: False  # type: ignore[method-assign]
    with pytest.raises(UpgradeFailed, match="failed on Workbench 2026.08.2\\+200.pro1: no licence"):
        _run(clients, clock, "Update")
    iam.may_create_apps = iam_may  # type: ignore[method-assign]


def test_a_failed_domain_fails_the_deploy():
    clock, sm, _iam, clients = _world(OLD_IMAGE)
    assert sm.domain is not None
    sm.domain["Status"] = "Update_Failed"
    with pytest.raises(UpgradeFailed, match="is Update_Failed"):
        upgrade.check_complete({"RequestType": "Update", "ResourceProperties": PROPS}, clients)


def test_delete_does_nothing():
    clock, sm, iam, clients = _world(OLD_IMAGE)
    event = {"RequestType": "Delete", "ResourceProperties": PROPS}
    upgrade.handle_event(event, clients)
    assert upgrade.check_complete(event, clients) == {"IsComplete": True}
    assert sm.log == []
    assert iam.log == []


def _stubbed() -> tuple[Any, Stubber, Any, Stubber]:
    creds = {"region_name": "eu-west-2", "aws_access_key_id": "x", "aws_secret_access_key": "x"}
    sagemaker, iam = boto3.client("sagemaker", **creds), boto3.client("iam", **creds)
    return sagemaker, Stubber(sagemaker), iam, Stubber(iam)


SERVER_KEY = {
    "DomainId": DOMAIN,
    "UserProfileName": "domain-shared",
    "AppType": "RStudioServerPro",
    "AppName": "default",
}


def test_update_domain_request_matches_the_api_model():
    sagemaker, sm_stub, iam, iam_stub = _stubbed()
    described = {
        "DomainId": DOMAIN,
        "Status": "InService",
        "DomainSettings": {
            "RStudioServerProDomainSettings": {
                "DomainExecutionRoleArn": ROLE_ARN,
                "DefaultResourceSpec": {"SageMakerImageArn": OLD_IMAGE, "InstanceType": "system"},
            }
        },
    }
    sm_stub.add_response("describe_domain", described, {"DomainId": DOMAIN})
    iam_stub.add_response(
        "list_attached_role_policies",
        {"AttachedPolicies": [{"PolicyArn": GUARD, "PolicyName": "g"}], "IsTruncated": False},
        {"RoleName": ROLE},
    )
    sm_stub.add_response("list_apps", {"Apps": []}, {"DomainIdEquals": DOMAIN})
    sm_stub.add_response("describe_app", {"Status": "Deleted"}, SERVER_KEY)
    sm_stub.add_response("describe_app", {"Status": "Deleted"}, SERVER_KEY)
    settings = {
        "DomainExecutionRoleArn": ROLE_ARN,
        "DefaultResourceSpec": {"SageMakerImageArn": NEW_IMAGE, "InstanceType": "system"},
        "RStudioConnectUrl": "https://connect.example.com",
    }
    sm_stub.add_response(
        "update_domain",
        {"DomainArn": f"arn:aws:sagemaker:eu-west-2:111122223333:domain/{DOMAIN}"},
        {"DomainId": DOMAIN, "DomainSettingsForUpdate": {"RStudioServerProDomainSettingsForUpdate": settings}},
    )
    pin = upgrade.Pin.of({**PROPS, "ConnectUrl": "https://connect.example.com"})
    with sm_stub, iam_stub:
        result = upgrade.upgrade_pass(Clients(sagemaker=sagemaker, iam=iam, sleep=lambda s: None), pin)
    sm_stub.assert_no_pending_responses()
    iam_stub.assert_no_pending_responses()
    assert result.requested == [f"update-domain {DOMAIN} to Workbench 2026.08.2+200.pro1"]


def test_create_app_request_matches_the_api_model():
    sagemaker, sm_stub, iam, iam_stub = _stubbed()
    spec = {"SageMakerImageArn": NEW_IMAGE, "InstanceType": "system"}
    described = {
        "DomainId": DOMAIN,
        "Status": "InService",
        "DomainSettings": {
            "RStudioServerProDomainSettings": {"DomainExecutionRoleArn": ROLE_ARN, "DefaultResourceSpec": spec}
        },
    }
    sm_stub.add_response("describe_domain", described, {"DomainId": DOMAIN})
    iam_stub.add_response(
        "list_attached_role_policies",
        {"AttachedPolicies": [{"PolicyArn": GUARD, "PolicyName": "g"}], "IsTruncated": False},
        {"RoleName": ROLE},
    )
    iam_stub.add_response("detach_role_policy", {}, {"RoleName": ROLE, "PolicyArn": GUARD})
    sm_stub.add_response("describe_app", {"Status": "Deleted"}, SERVER_KEY)
    sm_stub.add_response("create_app", {"AppArn": "arn:aws:sagemaker:eu-west-2:1:app/x"}, SERVER_KEY)
    with sm_stub, iam_stub:
        result = upgrade.upgrade_pass(
            Clients(sagemaker=sagemaker, iam=iam, sleep=lambda s: None), upgrade.Pin.of(PROPS)
        )
    sm_stub.assert_no_pending_responses()
    iam_stub.assert_no_pending_responses()
    assert (
        result.requested[-1] == "create app RStudioServerPro/default of domain-shared on Workbench 2026.08.2+200.pro1"
    )
