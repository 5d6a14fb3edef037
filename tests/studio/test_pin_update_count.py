"""The pin when SageMaker reads a value back otherwise than UpdateDomain set it (a normalised URL, say): without a
bound, the domain would never look current and the pin would take it down and update it again until the provider's
hour ran out. Each UpdateDomain the pin makes is counted in a tag on the domain, per CloudFormation request; after
MAX_UPDATES that did not stick the deploy fails at once, naming what was set and what SageMaker reads. Run on the
stateful fake (fakes.py), and the tag requests against botocore's API model."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from stacks.studio.handlers import upgrade
from stacks.studio.handlers.upgrade import ATTEMPTS_TAG, MAX_UPDATES, Clients, UpgradeFailed
from tests.studio.fakes import (
    DOMAIN,
    DOMAIN_ARN,
    OLD_IMAGE,
    PIN_PROPS,
    ROLE,
    SERVER,
    Clock,
    FakeIam,
    FakeSageMaker,
    busy_domain,
)

POLL_SECONDS = 30
CONNECT = "https://connect.example.com"
PROPS = {**PIN_PROPS, "DomainArn": DOMAIN_ARN, "ConnectUrl": CONNECT}


def _world(**kw: Any) -> tuple[Clock, FakeSageMaker, FakeIam, Clients]:
    clock, iam = Clock(), FakeIam()
    sm = busy_domain(clock, iam, server_image=OLD_IMAGE, **kw)
    return clock, sm, iam, Clients(sagemaker=sm, iam=iam, sleep=clock.sleep)


def _run(clients: Clients, clock: Clock, request_id: str, limit: int = 120) -> int:
    """The provider: on_event, then is_complete every POLL_SECONDS (120 polls = the pin's hour); each call carries
    CloudFormation's RequestId, as the provider framework passes it on."""
    event = {"RequestType": "Update", "RequestId": request_id, "ResourceProperties": PROPS}
    upgrade.handle_event(event, clients)
    for passes in range(1, limit + 1):
        clock.sleep(POLL_SECONDS)
        if upgrade.check_complete(event, clients)["IsComplete"]:
            return passes
    raise AssertionError("the provider's hour ran out")


def test_an_upgrade_makes_one_counted_update():
    clock, sm, iam, clients = _world()
    _run(clients, clock, "req-1")
    assert sm.log.count("update_domain") == 1
    assert sm.tags == {ATTEMPTS_TAG: "req-1 1"}
    assert sm.apps[SERVER]["Status"] == "InService"


def test_a_value_sagemaker_does_not_keep_fails_the_deploy_at_once_naming_it():
    clock, sm, iam, clients = _world(normalises_urls=True)
    with pytest.raises(UpgradeFailed) as failed:
        _run(clients, clock, "req-1")
    message = str(failed.value)
    assert (
        f"domain {DOMAIN} does not keep what the pin sets ({MAX_UPDATES} UpdateDomain calls in this deploy)" in message
    )
    assert f"RStudioConnectUrl: set {CONNECT}, reads {CONNECT}/" in message
    assert "server image" not in message  # the image did stick
    assert sm.log.count("update_domain") == MAX_UPDATES
    assert clock.now < 3600 / 2  # well inside the provider's hour
    assert iam.attached[ROLE] == []  # SageMaker may relaunch the server app again


def test_each_cloudformation_request_counts_afresh():
    """A later deploy (or the rollback, another request) is not refused for an earlier request's updates."""
    clock, sm, iam, clients = _world()
    sm.tags[ATTEMPTS_TAG] = f"req-0 {MAX_UPDATES}"
    _run(clients, clock, "req-1")
    assert sm.tags == {ATTEMPTS_TAG: "req-1 1"}


def test_without_access_to_the_tags_the_pin_still_converges():
    """A tag it cannot read or write (say an organisation's policy) only turns the count off."""
    clock, sm, iam, clients = _world(tag_access=False)
    _run(clients, clock, "req-1")
    assert sm.log.count("update_domain") == 1
    assert sm.apps[SERVER]["Status"] == "InService"


def test_the_tag_requests_match_the_api_model():
    sagemaker = boto3.client("sagemaker", region_name="eu-west-2")
    stub = Stubber(sagemaker)
    stub.add_response("list_tags", {"Tags": [{"Key": ATTEMPTS_TAG, "Value": "req-1 1"}]}, {"ResourceArn": DOMAIN_ARN})
    stub.add_response(
        "add_tags",
        {"Tags": [{"Key": ATTEMPTS_TAG, "Value": "req-1 2"}]},
        {"ResourceArn": DOMAIN_ARN, "Tags": [{"Key": ATTEMPTS_TAG, "Value": "req-1 2"}]},
    )
    pin = upgrade.Pin.of(PROPS, "req-1")
    with stub:
        assert upgrade._updates_made(sagemaker, pin) == 1
        upgrade._count_update(sagemaker, pin, 2)
    stub.assert_no_pending_responses()
