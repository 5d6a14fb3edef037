"""The relaunch watchdog (handlers/watchdog.py) on the stateful fake: some ends of a failed deploy leave the domain's
server app deleted with the deny of CreateApp still on the execution role (a rollback after the domain's own update
failed runs the quiesce's take-down again and not the pin), and users cannot log in. Outside CloudFormation operations
the watchdog detaches the deny and starts the server app; during one, or on a domain not InService, it does nothing."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from stacks.studio.handlers import quiesce, watchdog
from tests.infra.helpers import one, render_join
from tests.studio.fakes import (
    DOMAIN,
    GUARD,
    NEW_IMAGE,
    ROLE,
    SERVER,
    START_SECONDS,
    Clock,
    FakeCloudFormation,
    FakeIam,
    FakeSageMaker,
    busy_domain,
)
from tests.studio.helpers import policy_statements

TARGET = watchdog.Watch(
    stack_name="simlab-workspace", domain_id=DOMAIN, execution_role_name=ROLE, relaunch_guard_arn=GUARD
)
SERVER_KEY = {
    "DomainId": DOMAIN,
    "UserProfileName": "domain-shared",
    "AppType": "RStudioServerPro",
    "AppName": "default",
}


def _stuck(status: str = "UPDATE_ROLLBACK_COMPLETE") -> tuple[Clock, FakeSageMaker, FakeIam, FakeCloudFormation]:
    """What a rollback after a failed domain update leaves: server app deleted, deny attached, stack settled."""
    clock, iam = Clock(), FakeIam()
    sm = busy_domain(clock, iam, server_image=NEW_IMAGE, in_flight=0)
    sm.apps[SERVER].update(Status="Deleted", gone_at=0.0)
    iam.attached[ROLE].append(GUARD)
    return clock, sm, iam, FakeCloudFormation({"StudioDomain": DOMAIN}, status=status)


def test_a_stopped_server_comes_back_once_the_stack_has_settled():
    clock, sm, iam, cfn = _stuck()
    clock.sleep(3600)
    assert sm.apps[SERVER]["Status"] == "Deleted"  # the deny holds SageMaker's own relaunch back
    done = watchdog.watch(cfn, sm, iam, TARGET)
    # Once allowed, SageMaker relaunches the app itself (the fake does so at once, the app being long gone); the
    # watchdog creates it only if that has not happened (next test).
    assert done == [f"allow sagemaker:CreateApp to {ROLE} again"]
    assert iam.attached[ROLE] == []
    clock.sleep(START_SECONDS)
    assert sm.describe_app(**SERVER_KEY)["Status"] == "InService"
    assert sm.apps[SERVER]["image"] == NEW_IMAGE
    # The next look finds nothing to do.
    assert watchdog.watch(cfn, sm, iam, TARGET) == []


def test_the_watchdog_starts_the_server_app_when_sagemaker_does_not():
    clock, sm, iam, cfn = _stuck()
    sm.apps.pop(SERVER)  # no app at all: nothing for SageMaker to relaunch
    done = watchdog.watch(cfn, sm, iam, TARGET)
    assert done == [
        f"allow sagemaker:CreateApp to {ROLE} again",
        "create app RStudioServerPro/default of domain-shared",
    ]
    clock.sleep(START_SECONDS)
    assert sm.describe_app(**SERVER_KEY)["Status"] == "InService"


@pytest.mark.parametrize("status", ["UPDATE_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS", "DELETE_IN_PROGRESS"])
def test_nothing_is_touched_while_cloudformation_works_on_the_stack(status):
    """The pin, the quiesce and the teardown hold the deny on purpose, only inside a stack operation."""
    clock, sm, iam, cfn = _stuck(status)
    assert watchdog.watch(cfn, sm, iam, TARGET) == []
    assert iam.attached[ROLE] == [GUARD]
    assert sm.log == []


@pytest.mark.parametrize("domain_status", ["Updating", "Update_Failed", "Deleting"])
def test_a_domain_not_in_service_is_left_alone(domain_status):
    clock, sm, iam, cfn = _stuck()
    assert sm.domain is not None
    sm.domain.update(Status=domain_status, until=clock.now + 10_000)
    assert watchdog.watch(cfn, sm, iam, TARGET) == []
    assert iam.attached[ROLE] == [GUARD]


def test_a_healthy_domain_is_left_as_it_is():
    clock, iam = Clock(), FakeIam()
    sm = busy_domain(clock, iam, server_image=NEW_IMAGE, in_flight=0)
    assert watchdog.watch(FakeCloudFormation(), sm, iam, TARGET) == []
    assert sm.log == []
    assert iam.log == []


def test_the_rollback_the_pin_does_not_see_ends_with_the_server_running():
    """The quiesce took the apps down, CloudFormation's update of the domain failed, and the rollback ran the
    quiesce's take-down once more (the old digest differs from the new) but not the pin."""
    clock, iam = Clock(), FakeIam()
    sm = busy_domain(clock, iam, server_image=NEW_IMAGE, in_flight=0)
    cfn = FakeCloudFormation({"StudioDomain": DOMAIN}, status="UPDATE_IN_PROGRESS")
    clients = quiesce.Clients(cloudformation=cfn, sagemaker=sm, iam=iam, sleep=clock.sleep)

    def props(digest: str) -> dict[str, Any]:
        return {
            "StackName": "simlab-workspace",
            "DomainLogicalId": "StudioDomain",
            "ExecutionRoleName": ROLE,
            "RelaunchGuardArn": GUARD,
            "PinRoleArn": "arn:aws:iam::111122223333:role/pin",
            "DomainDigest": digest,
        }

    for new, old in (("b", "a"), ("a", "b")):  # the update, then the rollback
        event = {"RequestType": "Update", "ResourceProperties": props(new), "OldResourceProperties": props(old)}
        quiesce.handle_event(event, clients)
        while not quiesce.check_complete(event, clients)["IsComplete"]:
            clock.sleep(30)
        assert watchdog.watch(cfn, sm, iam, TARGET) == []  # mid-operation: hands off
    cfn.status = "UPDATE_ROLLBACK_COMPLETE"
    clock.sleep(900)
    assert sm.apps[SERVER]["Status"] == "Deleted"
    watchdog.watch(cfn, sm, iam, TARGET)
    clock.sleep(START_SECONDS)
    assert sm.describe_app(**SERVER_KEY)["Status"] == "InService"
    assert iam.attached[ROLE] == []


def test_its_requests_match_the_api_models():
    cloudformation = boto3.client("cloudformation", region_name="eu-west-2")
    sagemaker = boto3.client("sagemaker", region_name="eu-west-2")
    iam = boto3.client("iam", region_name="eu-west-2")
    stubs = [Stubber(c) for c in (cloudformation, sagemaker, iam)]
    cf_stub, sm_stub, iam_stub = stubs
    cf_stub.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": "simlab-workspace",
                    "StackStatus": "UPDATE_ROLLBACK_COMPLETE",
                    "CreationTime": "2026-12-01T12:00:00Z",
                }
            ]
        },
        {"StackName": "simlab-workspace"},
    )
    sm_stub.add_response("describe_domain", {"DomainId": DOMAIN, "Status": "InService"}, {"DomainId": DOMAIN})
    iam_stub.add_response(
        "list_attached_role_policies",
        {"AttachedPolicies": [{"PolicyArn": GUARD, "PolicyName": "g"}], "IsTruncated": False},
        {"RoleName": ROLE},
    )
    iam_stub.add_response("detach_role_policy", {}, {"RoleName": ROLE, "PolicyArn": GUARD})
    sm_stub.add_response("describe_app", {"Status": "Deleted"}, SERVER_KEY)
    sm_stub.add_response("create_app", {"AppArn": "arn:aws:sagemaker:eu-west-2:1:app/x"}, SERVER_KEY)
    for stub in stubs:
        stub.activate()
    assert len(watchdog.watch(cloudformation, sagemaker, iam, TARGET)) == 2
    for stub in stubs:
        stub.assert_no_pending_responses()


def test_the_schedule_and_what_the_watchdog_may_do(studio):
    template = studio.template_json["workspace"]
    _, rule = one(template, "AWS::Events::Rule", "Watchdog")
    assert rule["Properties"]["ScheduleExpression"] == "rate(15 minutes)"
    (target,) = rule["Properties"]["Targets"]
    assert set(render_join(target["Input"], "X").split('"')) >= {
        "stack_name",
        "domain_id",
        "execution_role_name",
        "relaunch_guard_arn",
    }
    role_id = one(template, "AWS::IAM::Role", "WatchdogWatchRole")[0]
    granted: dict[str, dict[str, Any]] = {}
    for statement in policy_statements(template, role_id):
        for action in [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]:
            granted[action] = statement
    assert sorted(granted) == [
        "cloudformation:DescribeStacks",
        "iam:DetachRolePolicy",
        "iam:ListAttachedRolePolicies",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "sagemaker:CreateApp",
        "sagemaker:DescribeApp",
        "sagemaker:DescribeDomain",
    ]
    assert granted["cloudformation:DescribeStacks"]["Resource"] == {"Ref": "AWS::StackId"}
    server_app = render_join(granted["sagemaker:CreateApp"]["Resource"], "D")
    assert server_app.endswith(":app/D/domain-shared/RStudioServerPro/default")
    assert "Condition" in granted["iam:DetachRolePolicy"]  # the guard only
