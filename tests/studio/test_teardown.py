"""The domain teardown handler against the stateful fake in fakes.py (apps take time to go, SageMaker relaunches
the server app while the domain execution role may create apps, one relaunch is already under way when the
deny lands), and its first requests against botocore's Stubber (which checks them against the API model)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from stacks.studio.handlers import common, teardown
from stacks.studio.handlers.teardown import Clients
from tests.studio.fakes import (
    DOMAIN,
    GUARD,
    ROLE,
    SERVER,
    Clock,
    FakeEc2,
    FakeEfs,
    FakeIam,
    busy_domain,
    error,
    nfs_groups,
)

PROPS = {
    "DomainId": DOMAIN,
    "DeleteData": "true",
    "HomeFileSystemId": "fs-home",
    "ExecutionRoleName": ROLE,
    "RelaunchGuardArn": GUARD,
}
EVENT = {"RequestType": "Delete", "ResourceProperties": PROPS}
POLL_SECONDS = 30  # the provider's query interval (stacks/studio/lifecycle.py)


def _world(in_flight: int = 1) -> tuple[Clock, Any, FakeEfs, FakeEc2, FakeIam, Clients]:
    clock, iam = Clock(), FakeIam()
    sm = busy_domain(clock, iam, in_flight=in_flight)
    efs, ec2 = FakeEfs(), FakeEc2(nfs_groups(*teardown.nfs_group_names(DOMAIN)))
    return clock, sm, efs, ec2, iam, Clients(sagemaker=sm, ec2=ec2, efs=efs, iam=iam, sleep=clock.sleep)


def _run(clients: Clients, clock: Clock, event: dict[str, Any], limit: int = 200) -> int:
    """What CDK's provider does: on_event, then is_complete every POLL_SECONDS until it says complete."""
    assert teardown.handle_event(event, clients)["PhysicalResourceId"] == f"teardown-{DOMAIN}"
    for passes in range(1, limit + 1):
        clock.sleep(POLL_SECONDS)
        if teardown.check_complete(event, clients)["IsComplete"]:
            return passes
    raise AssertionError("teardown never completed")


def test_teardown_outlasts_the_relaunch_and_deletes_everything_in_order():
    clock, sm, efs, ec2, iam, clients = _world(in_flight=1)
    _run(clients, clock, EVENT)
    # The fake relaunched the server app once after its first deletion (it was under way before the deny).
    assert sm.relaunches == 1
    assert sm.log.count("delete_app domain-shared RStudioServerPro") == 2
    # Ends with no apps, profiles or spaces, and no domain.
    assert sm.domain is None
    assert sm.profiles == {}
    assert sm.spaces == {}
    assert all(app["Status"] in ("Deleted", "Failed") for app in sm.apps.values())
    order = sm.log
    last_user_app = max(i for i, e in enumerate(order) if e.startswith("delete_app") and "domain-shared" not in e)
    last_server_delete = max(i for i, e in enumerate(order) if e == "delete_app domain-shared RStudioServerPro")
    # users' apps, then the server app (until it stays gone), then spaces and profiles, then the domain
    assert last_user_app < order.index("delete_app domain-shared RStudioServerPro")
    assert last_server_delete < order.index("delete_space shared") < order.index("delete_user_profile alice")
    assert order[-1] == "delete_domain"
    assert "delete_app alice RSessionGateway" in order
    assert order.count("delete_app alice RSessionGateway") == 1  # the Failed one is skipped
    # CreateApp was denied before the server app went, and allowed again once the domain was gone.
    assert iam.log == ["attach simlab-workspace-StudioRelaunchGuard", "detach simlab-workspace-StudioRelaunchGuard"]
    assert iam.attached[ROLE] == []
    # Home: mount targets, then the file system, then both NFS groups (rules revoked first).
    assert efs.log == ["delete_mount_target fsmt-1", "delete_mount_target fsmt-2", "delete_file_system"]
    assert sorted(ec2.log) == sorted(f"delete_security_group {n}" for n in teardown.nfs_group_names(DOMAIN))


def test_a_second_run_changes_nothing():
    clock, sm, efs, ec2, iam, clients = _world()
    _run(clients, clock, EVENT)
    logs = (list(sm.log), list(efs.log), list(ec2.log), list(iam.log))
    assert _run(clients, clock, EVENT) == 1
    assert (sm.log, efs.log, ec2.log, iam.log) == logs


def test_without_the_deny_the_relaunch_never_lets_it_finish(monkeypatch):
    """The teardown's guard is what ends the relaunch: with hold_relaunch a no-op, SageMaker brings the server app
    back after every deletion and the profiles and domain are never reached."""
    clock, sm, _efs, _ec2, _iam, clients = _world(in_flight=0)
    monkeypatch.setattr(teardown, "hold_relaunch", lambda *args: None)
    with pytest.raises(AssertionError, match="never completed"):
        _run(clients, clock, EVENT, limit=120)
    assert sm.relaunches > 3
    assert sm.profiles
    assert sm.domain is not None


def test_server_app_must_stay_gone_for_the_settle_time(monkeypatch):
    """The app is reported gone only after a second look SETTLE_SECONDS later."""
    clock, sm, _efs, _ec2, iam, clients = _world(in_flight=0)
    for key in list(sm.apps):
        if key != SERVER:
            del sm.apps[key]
    sm.apps[SERVER].update(Status="Deleted", gone_at=0.0)
    iam.attached[ROLE] = [GUARD]
    slept: list[float] = []
    clients.sleep = lambda s: (slept.append(s), clock.sleep(s))  # type: ignore[assignment,func-returns-value]
    result = common.Pass()
    common.stop_server_app(sm, DOMAIN, result, clients.sleep)
    assert result.done
    assert slept == [common.SETTLE_SECONDS]


def test_without_delete_data_the_home_and_groups_are_kept():
    clock, sm, efs, ec2, iam, clients = _world()
    _run(clients, clock, {"RequestType": "Delete", "ResourceProperties": {**PROPS, "DeleteData": "false"}})
    assert sm.domain is None
    assert efs.log == []
    assert efs.file_system
    assert len(ec2.groups) == 2
    assert iam.attached[ROLE] == []


def test_rerun_after_a_restart_midway_is_safe():
    clock, sm, efs, ec2, iam, clients = _world()
    teardown.handle_event(EVENT, clients)
    clock.sleep(POLL_SECONDS)
    teardown.check_complete(EVENT, clients)  # a first pass, then the provider "restarts" (a new Lambda)
    _run(clients, clock, EVENT)
    assert sm.domain is None
    assert not efs.file_system
    assert iam.attached[ROLE] == []


def test_create_and_update_do_nothing():
    clock, sm, _efs, _ec2, iam, clients = _world()
    for kind in ("Create", "Update"):
        event = {"RequestType": kind, "ResourceProperties": PROPS}
        assert teardown.handle_event(event, clients) == {"PhysicalResourceId": f"teardown-{DOMAIN}"}
        assert teardown.check_complete(event, clients) == {"IsComplete": True}
    assert sm.log == []
    assert iam.log == []


def test_a_role_deleted_already_is_no_obstacle():
    clock, sm, _efs, _ec2, iam, clients = _world(in_flight=0)
    del iam.attached[ROLE]
    _run(clients, clock, EVENT)
    assert sm.domain is None
    assert iam.log == []


def test_first_pass_requests_match_the_api_models():
    """Stubber rejects any parameter the real APIs would refuse (a wrong AppType spelling, a missing field)."""
    creds = {"region_name": "eu-west-1", "aws_access_key_id": "x", "aws_secret_access_key": "x"}
    sagemaker, iam = boto3.client("sagemaker", **creds), boto3.client("iam", **creds)
    sm_stub, iam_stub = Stubber(sagemaker), Stubber(iam)
    sm_stub.add_response("describe_domain", {"DomainId": DOMAIN, "Status": "InService"}, {"DomainId": DOMAIN})
    sm_stub.add_response(
        "list_apps",
        {
            "Apps": [
                {
                    "DomainId": DOMAIN,
                    "SpaceName": "sp",
                    "AppType": "JupyterLab",
                    "AppName": "default",
                    "Status": "Failed",
                }
            ]
        },
        {"DomainIdEquals": DOMAIN},
    )
    iam_stub.add_response(
        "list_attached_role_policies", {"AttachedPolicies": [], "IsTruncated": False}, {"RoleName": ROLE}
    )
    iam_stub.add_response("attach_role_policy", {}, {"RoleName": ROLE, "PolicyArn": GUARD})
    server = {
        "DomainId": DOMAIN,
        "UserProfileName": "domain-shared",
        "AppType": "RStudioServerPro",
        "AppName": "default",
    }
    sm_stub.add_response("describe_app", {**server, "Status": "InService"}, server)
    sm_stub.add_response("delete_app", {}, server)
    with sm_stub, iam_stub:
        result = teardown.teardown_pass(
            Clients(sagemaker=sagemaker, ec2=None, efs=None, iam=iam, sleep=lambda s: None),
            teardown.Target.of(PROPS),
        )
    sm_stub.assert_no_pending_responses()
    iam_stub.assert_no_pending_responses()
    assert result.requested == [
        f"deny sagemaker:CreateApp to {ROLE}",
        "app RStudioServerPro/default of domain-shared",
    ]
    assert not result.done


def test_delete_domain_request_matches_the_api_model():
    sagemaker = boto3.client("sagemaker", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(sagemaker)
    params = {"DomainId": DOMAIN, "RetentionPolicy": {"HomeEfsFileSystem": "Retain"}}
    stub.add_response("delete_domain", {}, params)
    result = common.Pass()
    with stub:
        teardown._domain(sagemaker, DOMAIN, result)
    stub.assert_no_pending_responses()
    assert result.requested == [f"domain {DOMAIN}"]


def test_unexpected_errors_are_not_swallowed():
    clock, sm, _efs, _ec2, _iam, clients = _world()

    def denied(**_: Any) -> None:
        raise error("AccessDeniedException")

    sm.list_apps = denied  # type: ignore[assignment]
    with pytest.raises(ClientError, match="AccessDenied"):
        teardown.check_complete(EVENT, clients)
