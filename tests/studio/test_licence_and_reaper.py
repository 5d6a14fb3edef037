"""The licence preflight and the idle-RSession reaper against botocore's Stubber (moto has no License Manager
and no SageMaker apps); Stubber also checks every request against the real API model."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.stub import Stubber

from stacks.studio.handlers import licence, reaper

REGION = "eu-west-1"
PRODUCT = "RSW-SageMaker"


def _client(service: str):
    return boto3.client(service, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")


def _licence(product: str, status: str, received: str, arn: str = "arn:aws:license-manager::1:license:l-1"):
    return {
        "LicenseArn": arn,
        "ProductName": product,
        "Status": status,
        "ReceivedMetadata": {"ReceivedStatus": received},
    }


def _preflight(*pages, product: str = PRODUCT):
    client = _client("license-manager")
    stub = Stubber(client)
    for index, page in enumerate(pages):
        body = {"Licenses": page}
        if index < len(pages) - 1:
            body["NextToken"] = f"t{index}"
        stub.add_response("list_received_licenses", body, {"NextToken": f"t{index - 1}"} if index else {})
    event = {"RequestType": "Create", "ResourceProperties": {"ProductName": product}}
    with stub:
        result = licence.handle_event(event, client)
    stub.assert_no_pending_responses()
    return result


def test_an_accepted_available_licence_passes_even_on_a_later_page():
    other = _licence("Other-Product", "AVAILABLE", "ACTIVE", arn="arn:aws:license-manager::1:license:l-0")
    good = _licence(PRODUCT, "AVAILABLE", "ACTIVE", arn="arn:aws:license-manager::1:license:l-9")
    result = _preflight([other], [good])
    assert result["Data"]["LicenseArn"].endswith("l-9")
    assert result["PhysicalResourceId"] == f"licence-preflight-{PRODUCT}"


@pytest.mark.parametrize(
    ("licences", "says"),
    [
        ([], "no 'RSW-SageMaker' licence has been granted to this account in eu-west-1"),
        ([_licence("Other", "AVAILABLE", "ACTIVE")], "no 'RSW-SageMaker' licence has been granted"),
        ([_licence(PRODUCT, "AVAILABLE", "PENDING_ACCEPT")], "granted but not yet accepted"),
        ([_licence(PRODUCT, "AVAILABLE", "DISABLED")], "is disabled or not available"),
        ([_licence(PRODUCT, "DEACTIVATED", "ACTIVE")], "is disabled or not available"),
    ],
)
def test_a_missing_licence_fails_with_one_message_saying_what_is_missing(licences, says):
    with pytest.raises(licence.LicenceMissing) as caught:
        _preflight(licences)
    message = str(caught.value)
    assert says in message
    assert "\n" not in message
    assert "License Manager" in message


def test_the_product_name_is_configurable_and_delete_never_calls_aws():
    assert _preflight([_licence("Acme-RSW", "AVAILABLE", "ACTIVE")], product="Acme-RSW")["Data"]["LicenseArn"]
    client = _client("license-manager")
    with Stubber(client):  # no responses queued: any call would raise
        out = licence.handle_event(
            {"RequestType": "Delete", "PhysicalResourceId": "p", "ResourceProperties": {}}, client
        )
    assert out == {"PhysicalResourceId": "p"}


NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
DOMAIN = "d-abc123"


def _app(user: str, name: str, created: datetime, kind: str = "RSessionGateway", status: str = "InService"):
    return {
        "DomainId": DOMAIN,
        "UserProfileName": user,
        "AppType": kind,
        "AppName": name,
        "Status": status,
        "CreationTime": created,
    }


def _ms(stamp: datetime) -> int:
    return int(stamp.timestamp() * 1000)


def test_reaper_judges_sessions_by_their_own_log_not_by_health_checks():
    """Limit 120 min at NOW=12:00. By hand: alice last logged 10:30 (90 min) stays; bob 09:00 (180) goes; carol
    09:59 (121) goes; dave has no log stream, so is not judged; frank's stream ends 08:00 but his app was created
    11:00 (a reused name), so 60 min, stays; the RStudioServerPro app and a Deleting session are never touched.
    DescribeApp (whose LastUserActivityTimestamp health checks refresh) is never called: Stubber would refuse."""
    sagemaker, logs = _client("sagemaker"), _client("logs")
    sm_stub, logs_stub = Stubber(sagemaker), Stubber(logs)
    day = NOW - timedelta(days=1)
    apps = [
        _app("alice", "a", day),
        _app("bob", "b", day),
        _app("domain-shared", "default", day, kind="RStudioServerPro"),
        _app("carol", "c", NOW - timedelta(minutes=125)),
        _app("erin", "e", day, status="Deleting"),
        _app("dave", "d", day),
        _app("frank", "f", NOW - timedelta(minutes=60)),
    ]
    last = {
        "a": NOW - timedelta(minutes=90),
        "b": NOW - timedelta(minutes=180),
        "c": NOW - timedelta(minutes=121),
        "f": NOW - timedelta(hours=4),
    }
    sm_stub.add_response("list_apps", {"Apps": apps[:3], "NextToken": "n"}, {"DomainIdEquals": DOMAIN})
    sm_stub.add_response("list_apps", {"Apps": apps[3:]}, {"DomainIdEquals": DOMAIN, "NextToken": "n"})
    for app in apps:
        if app["AppType"] != "RSessionGateway" or app["Status"] != "InService":
            continue
        name = app["AppName"]
        query = {
            "logGroupName": "/aws/sagemaker/studio",
            "logStreamName": f"{DOMAIN}/{app['UserProfileName']}/RSession/{name}",
            "limit": 1,
            "startFromHead": False,
        }
        if name == "d":
            logs_stub.add_client_error("get_log_events", "ResourceNotFoundException", expected_params=query)
            continue
        logs_stub.add_response("get_log_events", {"events": [{"timestamp": _ms(last[name]), "message": "x"}]}, query)
        if name in ("b", "c"):
            key = {k: app[k] for k in ("DomainId", "UserProfileName", "AppType", "AppName")}
            sm_stub.add_response("delete_app", {}, key)
    with sm_stub, logs_stub:
        deleted, unjudged = reaper.reap(sagemaker, logs, domain_id=DOMAIN, idle=timedelta(minutes=120), now=NOW)
    sm_stub.assert_no_pending_responses()
    logs_stub.assert_no_pending_responses()
    assert deleted == ["bob/b", "carol/c"]
    assert unjudged == ["dave/d"]
