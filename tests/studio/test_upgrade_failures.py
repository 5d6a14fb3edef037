"""The version pin when things go wrong, on the stateful fake (fakes.py): SageMaker refusing UpdateDomain or CreateApp
(ValidationException, AWS's message), a server app failing on the new version, and CloudFormation's rollback, which
runs the pin again with the old version's properties. What must hold: the deploy fails at once with AWS's reason
(not after the provider's hour), the deny-CreateApp policy is never left on the execution role by a failure, and
the rollback ends with the old version's server app running on the same domain."""

from __future__ import annotations

from typing import Any

import pytest

from stacks.studio.handlers import upgrade
from stacks.studio.handlers.upgrade import Clients, UpgradeFailed
from tests.infra.helpers import one
from tests.studio.fakes import (
    DOMAIN,
    GUARD,
    NEW_IMAGE,
    OLD_IMAGE,
    PIN_PROPS,
    ROLE,
    SERVER,
    Clock,
    FakeIam,
    FakeSageMaker,
    busy_domain,
    error,
)

POLL_SECONDS = 30


def _props(image: str, version: str) -> dict[str, Any]:
    return {**PIN_PROPS, "WorkbenchVersion": version, "ServerImageArn": image}


NEW = _props(NEW_IMAGE, "2026.08.2+200.pro1")
OLD = _props(OLD_IMAGE, "2025.05.1+513.pro3")


def _world(**kw: Any) -> tuple[Clock, FakeSageMaker, FakeIam, Clients]:
    clock, iam = Clock(), FakeIam()
    sm = busy_domain(clock, iam, server_image=OLD_IMAGE, **kw)
    return clock, sm, iam, Clients(sagemaker=sm, iam=iam, sleep=clock.sleep)


def _run(clients: Clients, clock: Clock, props: dict[str, Any], limit: int = 120) -> int:
    """The provider: on_event, then is_complete every POLL_SECONDS (120 polls = the pin's 1 h total timeout)."""
    event = {"RequestType": "Update", "ResourceProperties": props}
    upgrade.handle_event(event, clients)
    for passes in range(1, limit + 1):
        clock.sleep(POLL_SECONDS)
        if upgrade.check_complete(event, clients)["IsComplete"]:
            return passes
    raise AssertionError("the provider's hour ran out")


def _settle(clock: Clock, sm: FakeSageMaker, seconds: int = 600) -> None:
    """Let SageMaker (the fake) do what it does on its own for a while."""
    for _ in range(seconds // POLL_SECONDS):
        clock.sleep(POLL_SECONDS)
        sm.describe_domain(DomainId=DOMAIN)


def test_an_update_domain_sagemaker_refuses_fails_at_once_with_its_reason_and_lets_the_server_relaunch():
    clock, sm, iam, clients = _world(in_flight=0, known_images={OLD_IMAGE})
    started = clock.now
    with pytest.raises(UpgradeFailed, match=r"refused: ValidationException: Image .*2026\.08-sagemaker-1\.0 does not"):
        _run(clients, clock, NEW)
    assert clock.now - started < 15 * 60  # minutes (the take-down), not the provider's hour
    assert iam.attached[ROLE] == []  # the deny went with the failure
    _settle(clock, sm)
    assert sm.apps[SERVER]["Status"] == "InService"  # SageMaker relaunched it, on the version the domain kept
    assert sm.apps[SERVER]["image"] == OLD_IMAGE


def test_a_create_app_sagemaker_refuses_fails_with_its_reason_and_releases_the_deny():
    clock, sm, iam, clients = _world(in_flight=0)

    def refused(**kw: Any) -> None:
        raise error("ValidationException", "RStudio license not found")

    sm.create_app = refused  # type: ignore[method-assign]
    iam.may_create_apps = lambda: False  # type: ignore[method-assign]  # no relaunch by SageMaker either
    with pytest.raises(UpgradeFailed, match="refused: ValidationException: RStudio license not found"):
        _run(clients, clock, NEW)
    assert iam.attached[ROLE] == []


def test_a_failed_new_version_then_the_rollback_leave_the_old_server_running_on_the_same_domain():
    clock, sm, iam, clients = _world(in_flight=0, failing_images={NEW_IMAGE: "no licence for this version"})
    domain = sm.domain
    with pytest.raises(UpgradeFailed, match="failed on Workbench 2026.08.2\\+200.pro1: no licence for this version"):
        _run(clients, clock, NEW)
    assert iam.attached[ROLE] == []
    # CloudFormation's rollback: the same resource, updated back to the old version's properties.
    _run(clients, clock, OLD)
    assert sm.domain is domain
    assert sm.domain is not None
    assert sm.domain["spec"] == OLD_IMAGE
    assert sm.apps[SERVER]["Status"] == "InService"
    assert sm.apps[SERVER]["image"] == OLD_IMAGE
    assert iam.attached[ROLE] == []
    assert sm.profiles == {"alice": "InService", "bob": "InService"}


def test_an_rsession_opened_after_the_take_down_is_deleted_and_the_update_asked_again():
    clock, sm, iam, clients = _world(in_flight=0)
    original = sm.update_domain
    opened: list[str] = []

    def user_opens_a_session_first(**kw: Any) -> None:
        if not opened:  # a user starts an RSession just before the first UpdateDomain
            sm.apps[("alice", "RSessionGateway", "late")] = {
                "Status": "InService",
                "until": 0.0,
                "created": clock.now,
                "image": OLD_IMAGE,
            }
            opened.append("late")
        original(**kw)

    sm.update_domain = user_opens_a_session_first  # type: ignore[method-assign]
    _run(clients, clock, NEW)
    assert "delete_app alice RSessionGateway" in sm.log[sm.log.index("update_domain") - 3 :]
    assert sm.apps[("alice", "RSessionGateway", "late")]["Status"] == "Deleted"
    assert sm.apps[SERVER]["Status"] == "InService"
    assert sm.apps[SERVER]["image"] == NEW_IMAGE
    assert iam.attached[ROLE] == []


def test_apps_the_upgrade_does_not_stop_fail_it_by_name_when_sagemaker_refuses_because_of_them():
    """SageMaker's refusal speaks of all InService apps; AWS's upgrade page deletes only RStudio's. If a space's
    JupyterLab app blocks the update, say so, instead of polling for an hour."""
    clock, sm, iam, clients = _world(in_flight=0, any_app_blocks_update=True)
    with pytest.raises(UpgradeFailed, match=r"these apps run, which the upgrade does not stop: JupyterLab/default of "):
        _run(clients, clock, NEW)
    assert iam.attached[ROLE] == []
    assert sm.apps[("space:shared", "JupyterLab", "default")]["Status"] == "InService"


def test_a_domain_whose_update_fails_releases_the_deny_before_the_deploy_fails():
    """The failure comes while the deny is held (between the take-down and the server app's return)."""
    clock, sm, iam, clients = _world(in_flight=0)
    original = sm.update_domain

    def update_then_fail(**kw: Any) -> None:
        original(**kw)
        assert sm.domain is not None
        sm.domain.update(Status="Update_Failed", until=float("inf"))

    sm.update_domain = update_then_fail  # type: ignore[method-assign]
    with pytest.raises(UpgradeFailed, match="is Update_Failed"):
        _run(clients, clock, NEW)
    assert GUARD not in iam.attached[ROLE]


def test_the_teardown_exists_before_the_pin_runs(template):
    """A first deploy whose pin fails rolls back: CloudFormation deletes what it created, and only the teardown can
    empty a domain whose server app runs. So the teardown is created before the pin (and deleted after it; the pin's
    delete does nothing)."""
    teardown_id, teardown = one(template, "Custom::DomainTeardown")
    pin_id, pin = one(template, "Custom::WorkbenchVersion")
    assert teardown_id in pin["DependsOn"]
    assert pin_id not in teardown.get("DependsOn", [])
