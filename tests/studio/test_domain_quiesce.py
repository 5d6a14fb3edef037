"""A change to the AWS::SageMaker::Domain resource itself (a cost tag added to `tags`, above all) must not fail the
deploy. CloudFormation's update of a domain always sends its RStudio settings (AWS's resource provider,
aws-sagemaker-domain UpdateHandler / TranslatorForRequest.translateToUpdateRequest) and SageMaker refuses that
UpdateDomain while an RStudio app runs ("Unable to update Domain ... with InService App"; the fake in fakes.py does
the same). So Custom::DomainQuiesce, before the domain, takes the apps down when the domain resource's digest changes,
and the version pin, after the domain, brings the server app back."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from stacks.studio.handlers import quiesce, upgrade
from stacks.studio.handlers.quiesce import Clients, QuiesceFailed
from tests.conftest import SynthesizedPlatform, synthesize
from tests.infra.helpers import one, resources
from tests.studio.conftest import CONTEXT
from tests.studio.fakes import (
    APPS_RUNNING,
    DOMAIN,
    GUARD,
    NEW_IMAGE,
    PIN_PROPS,
    ROLE,
    ROLE_ARN,
    SERVER,
    Clock,
    FakeCloudFormation,
    FakeIam,
    busy_domain,
    error,
)
from tests.studio.helpers import policy_statements

DOMAIN_LOGICAL_ID = "StudioDomainABC123"
POLL_SECONDS = 30


def _props(digest: str) -> dict[str, Any]:
    return {
        "StackName": "simlab-workspace",
        "DomainLogicalId": DOMAIN_LOGICAL_ID,
        "ExecutionRoleName": ROLE,
        "RelaunchGuardArn": GUARD,
        "PinRoleArn": "arn:aws:iam::111122223333:role/simlab-workspace-WorkbenchStartRole",
        "DomainDigest": digest,
    }


PIN = PIN_PROPS


def cloudformation_updates_the_domain(sm: Any) -> None:
    """What CloudFormation's handler sends for any change to the domain resource: its RStudio settings, no image."""
    sm.update_domain(
        DomainId=DOMAIN,
        DomainSettingsForUpdate={
            "RStudioServerProDomainSettingsForUpdate": {
                "DomainExecutionRoleArn": ROLE_ARN,
                "DefaultResourceSpec": {"InstanceType": "system"},
            }
        },
    )


def _until_complete(start: Any, check: Any, event: dict[str, Any], clients: Any, clock: Clock) -> int:
    start(event, clients)
    for passes in range(1, 200):
        clock.sleep(POLL_SECONDS)
        if check(event, clients)["IsComplete"]:
            return passes
    raise AssertionError("never completed")


def _world() -> tuple[Clock, Any, FakeIam, Clients]:
    clock, iam = Clock(), FakeIam()
    # On the pinned image, in use: two RSessions (one Failed), a space's JupyterLab app and the server app.
    sm = busy_domain(clock, iam, server_image=NEW_IMAGE, in_flight=0)
    cfn = FakeCloudFormation({DOMAIN_LOGICAL_ID: DOMAIN})
    return clock, sm, iam, Clients(cloudformation=cfn, sagemaker=sm, iam=iam, sleep=clock.sleep)


def test_without_the_quiesce_sagemaker_refuses_cloudformations_update():
    """The fake refuses as SageMaker does: this is the failure the quiesce exists for."""
    _, sm, _, _ = _world()
    with pytest.raises(ClientError, match="with InService App") as refused:
        cloudformation_updates_the_domain(sm)
    assert APPS_RUNNING in str(refused.value)


def test_a_changed_domain_deploys_in_place_and_the_server_app_comes_back():
    clock, sm, iam, clients = _world()
    domain_before = sm.domain
    # 1. The quiesce (the domain depends on it): apps down, relaunch held.
    update = {"RequestType": "Update", "ResourceProperties": _props("new"), "OldResourceProperties": _props("old")}
    _until_complete(quiesce.handle_event, quiesce.check_complete, update, clients, clock)
    assert sm.apps[SERVER]["Status"] == "Deleted"
    assert {k: a["Status"] for k, a in sm.apps.items() if k[1] == "RSessionGateway"} == {
        ("alice", "RSessionGateway", "s1"): "Deleted",
        ("alice", "RSessionGateway", "s2"): "Failed",
        ("bob", "RSessionGateway", "s3"): "Deleted",
    }
    assert sm.apps[("space:shared", "JupyterLab", "default")]["Status"] == "InService"  # not RStudio's
    assert iam.attached[ROLE] == [GUARD]
    # 2. CloudFormation's own update of the domain now goes through; no relaunch came in between.
    clock.sleep(600)
    cloudformation_updates_the_domain(sm)
    assert sm.relaunches == 0
    clock.sleep(200)  # UpdateDomain takes 150 s in the fake
    assert sm.describe_domain(DomainId=DOMAIN)["Status"] == "InService"
    # 3. The pin (same digest, after the domain): re-pins the image CloudFormation's update dropped, then starts the
    # server app and lets SageMaker relaunch it again.
    pin_clients = upgrade.Clients(sagemaker=sm, iam=iam, sleep=clock.sleep)
    pin_event = {"RequestType": "Update", "ResourceProperties": PIN}
    _until_complete(upgrade.handle_event, upgrade.check_complete, pin_event, pin_clients, clock)
    assert sm.domain is domain_before
    assert sm.domain is not None
    assert sm.domain["spec"] == NEW_IMAGE
    assert sm.apps[SERVER]["Status"] == "InService"
    assert sm.apps[SERVER]["image"] == NEW_IMAGE
    assert iam.attached[ROLE] == []
    assert sm.profiles == {"alice": "InService", "bob": "InService"}


@pytest.mark.parametrize(
    "event",
    [
        {"RequestType": "Create", "ResourceProperties": _props("a")},
        {"RequestType": "Delete", "ResourceProperties": _props("a")},
        {"RequestType": "Update", "ResourceProperties": _props("a"), "OldResourceProperties": _props("a")},
    ],
    ids=["create", "delete", "update with the same digest"],
)
def test_nothing_else_stops_anything(event):
    """A new domain has no apps; the teardown empties a deleted one; an unchanged domain is not updated. No client
    is even made (None would fail on the first call)."""
    assert quiesce.handle_event(event, None)["PhysicalResourceId"] == f"quiesce-simlab-workspace-{DOMAIN_LOGICAL_ID}"
    assert quiesce.check_complete(event, None) == {"IsComplete": True}


def test_a_stack_without_the_domain_yet_needs_nothing():
    clock, sm, iam, clients = _world()
    clients.cloudformation = FakeCloudFormation({})
    update = {"RequestType": "Update", "ResourceProperties": _props("new"), "OldResourceProperties": _props("old")}
    assert quiesce.check_complete(update, clients) == {"IsComplete": True}
    assert sm.log == []
    assert iam.log == []


def test_a_domain_no_update_can_start_from_fails_at_once_and_releases_the_relaunch():
    clock, sm, iam, clients = _world()
    iam.attached[ROLE].append(GUARD)  # e.g. held by an earlier pass
    assert sm.domain is not None
    sm.domain.update(Status="Update_Failed")
    update = {"RequestType": "Update", "ResourceProperties": _props("new"), "OldResourceProperties": _props("old")}
    with pytest.raises(QuiesceFailed, match=f"domain {DOMAIN} is Update_Failed"):
        quiesce.check_complete(update, clients)
    assert iam.attached[ROLE] == []


def test_an_unexpected_lookup_error_is_not_taken_for_a_missing_domain():
    clock, sm, iam, clients = _world()

    class Denied:
        def describe_stack_resource(self, **kw: Any) -> None:
            raise error("AccessDenied")

    clients.cloudformation = Denied()
    update = {"RequestType": "Update", "ResourceProperties": _props("new"), "OldResourceProperties": _props("old")}
    with pytest.raises(ClientError, match="AccessDenied"):
        quiesce.check_complete(update, clients)


# ------------------------------------------------------------------------------------- the synthesized wiring
@pytest.fixture(scope="module")
def tagged(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedPlatform:
    return synthesize({**CONTEXT, "tags": "CostCenter=4711"}, tmp_path_factory.mktemp("studio-tagged.out"))


def test_the_domain_waits_for_the_quiesce_and_the_pin_for_the_domain(studio):
    template = studio.template_json["workspace"]
    domain_id, domain = one(template, "AWS::SageMaker::Domain")
    quiesce_id, props = one(template, "Custom::DomainQuiesce")
    assert quiesce_id in domain["DependsOn"]
    assert props["Properties"]["DomainLogicalId"] == domain_id
    _, pin = one(template, "Custom::WorkbenchVersion")
    assert domain_id in pin["DependsOn"]


def test_a_new_cost_tag_changes_the_domain_and_so_both_digests_and_nothing_else_of_the_pin(studio, tagged):
    before, after = (s.template_json["workspace"] for s in (studio, tagged))
    assert one(before, "AWS::SageMaker::Domain")[1] != one(after, "AWS::SageMaker::Domain")[1]  # the tag
    assert {"Key": "CostCenter", "Value": "4711"} in one(after, "AWS::SageMaker::Domain")[1]["Properties"]["Tags"]
    digests = []
    for template in (before, after):
        pin = one(template, "Custom::WorkbenchVersion")[1]["Properties"]
        stopper = one(template, "Custom::DomainQuiesce")[1]["Properties"]
        assert pin["DomainDigest"] == stopper["DomainDigest"]
        digests.append(pin)
    assert digests[0]["DomainDigest"] != digests[1]["DomainDigest"]
    assert {k: v for k, v in digests[0].items() if k != "DomainDigest"} == {
        k: v for k, v in digests[1].items() if k != "DomainDigest"
    }


def test_the_quiesce_may_only_find_its_domain_and_act_as_the_pin(studio):
    template = studio.template_json["workspace"]
    roles = {
        rid
        for rid, role in resources(template, "AWS::IAM::Role").items()
        if rid.startswith("Quiesce")
        and "lambda.amazonaws.com" in str(role["Properties"]["AssumeRolePolicyDocument"])
        and "Provider" not in rid
    }
    assert len(roles) == 2
    for rid in roles:
        actions = sorted(
            (a, str(s["Resource"]))
            for s in policy_statements(template, rid)
            for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        )
        kinds = [a for a, _ in actions]
        assert kinds == [
            "cloudformation:DescribeStackResource",
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "sts:AssumeRole",
        ]
        assert "'Ref': 'AWS::StackId'" in dict(actions)["cloudformation:DescribeStackResource"]
        assert "WorkbenchStartRole" in dict(actions)["sts:AssumeRole"]
    pin_role = next(
        r for rid, r in resources(template, "AWS::IAM::Role").items() if rid.startswith("WorkbenchStartRole")
    )
    trusted = str(pin_role["Properties"]["AssumeRolePolicyDocument"])
    assert all(rid in trusted for rid in roles)


def test_the_lookup_request_is_valid_for_cloudformations_api_model():
    """botocore's Stubber checks the request against the real API model; the answer's shape is the model's too."""
    client = boto3.client("cloudformation", region_name="eu-west-2")
    stub = Stubber(client)
    stub.add_response(
        "describe_stack_resource",
        {
            "StackResourceDetail": {
                "LogicalResourceId": DOMAIN_LOGICAL_ID,
                "PhysicalResourceId": DOMAIN,
                "ResourceType": "AWS::SageMaker::Domain",
                "LastUpdatedTimestamp": "2026-12-01T12:00:00Z",
                "ResourceStatus": "UPDATE_COMPLETE",
            }
        },
        {"StackName": "simlab-workspace", "LogicalResourceId": DOMAIN_LOGICAL_ID},
    )
    with stub:
        assert quiesce.domain_id(client, quiesce.Quiesce.of(_props("x"))) == DOMAIN
    stub.assert_no_pending_responses()
