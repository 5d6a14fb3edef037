"""The domain's settings that can change after the first deploy (the Connect and Package Manager URLs, the RSessions'
default instance type) are set by the version pin, not by the AWS::SageMaker::Domain resource: CloudFormation's
update of a domain always sends its RStudio settings (aws-cloudformation-resource-providers-sagemaker,
aws-sagemaker-domain TranslatorForRequest.translateToUpdateRequest), and SageMaker refuses such an UpdateDomain while
an app runs ("Unable to update Domain ... with InService App", ValidationException), which the server app always
does. So a change of these settings must leave the domain resource identical, and the pin must apply it with AWS's
procedure (apps down, UpdateDomain, server app up again)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from stacks.studio.handlers import upgrade
from stacks.studio.handlers.upgrade import Clients
from tests.conftest import SynthesizedPlatform, synthesize
from tests.infra.helpers import one
from tests.studio.conftest import CONTEXT
from tests.studio.fakes import DOMAIN, GUARD, NEW_IMAGE, PIN_PROPS, ROLE, ROLE_ARN, SERVER, Clock, FakeIam, busy_domain

CHANGED = {
    "rstudio_session_instance_type": "ml.m5.large",
    "rstudio_connect_url": "https://connect.example.com",
    "rstudio_package_manager_url": "https://pm.example.com",
}


@pytest.fixture(scope="module")
def changed(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedPlatform:
    return synthesize({**CONTEXT, **CHANGED}, tmp_path_factory.mktemp("studio-settings.out"))


def test_changing_the_later_settings_leaves_the_domain_resource_identical(studio, changed):
    before, after = (one(s.template_json["workspace"], "AWS::SageMaker::Domain") for s in (studio, changed))
    assert before == after
    for value in CHANGED.values():
        assert value not in str(after)


def test_the_pin_carries_them_and_reruns_when_they_change(studio, changed):
    _, pin = one(changed.template_json["workspace"], "Custom::WorkbenchVersion")
    props = pin["Properties"]
    assert props["ConnectUrl"] == "https://connect.example.com"
    assert props["PackageManagerUrl"] == "https://pm.example.com"
    rsession = props["DefaultUserSettings"]["RSessionAppSettings"]
    assert rsession["DefaultResourceSpec"]["InstanceType"] == "ml.m5.large"
    assert rsession["CustomImages"] == [{"ImageName": "simlab-rsession", "AppImageConfigName": "simlab-rsession"}]
    _, default_pin = one(studio.template_json["workspace"], "Custom::WorkbenchVersion")
    assert default_pin["Properties"]["DefaultUserSettings"]["RSessionAppSettings"]["DefaultResourceSpec"][
        "InstanceType"
    ] == ("ml.t3.medium")
    assert "ConnectUrl" not in default_pin["Properties"]


def _props(instance_type: str, connect: str = "") -> dict[str, Any]:
    props: dict[str, Any] = {
        **PIN_PROPS,
        "DefaultUserSettings": {
            "ExecutionRole": "arn:aws:iam::111122223333:role/default",
            "SecurityGroups": ["sg-0domain"],
            "RSessionAppSettings": {
                "CustomImages": [{"ImageName": "simlab-rsession", "AppImageConfigName": "simlab-rsession"}],
                "DefaultResourceSpec": {
                    "InstanceType": instance_type,
                    "SageMakerImageArn": "arn:aws:sagemaker:eu-west-2:111122223333:image/simlab-rsession",
                },
            },
        },
    }
    if connect:
        props["ConnectUrl"] = connect
    return props


def _run(clients: Clients, clock: Clock, props: dict[str, Any]) -> None:
    event = {"RequestType": "Update", "ResourceProperties": props}
    upgrade.handle_event(event, clients)
    for _ in range(120):
        clock.sleep(30)
        if upgrade.check_complete(event, clients)["IsComplete"]:
            return
    raise AssertionError("never completed")


def test_a_new_instance_type_or_url_is_applied_with_the_apps_down_and_the_domain_kept():
    clock, iam = Clock(), FakeIam()
    sm = busy_domain(clock, iam, server_image=NEW_IMAGE)  # already on the version
    clients = Clients(sagemaker=sm, iam=iam, sleep=clock.sleep)
    domain = sm.domain
    _run(clients, clock, _props("ml.t3.medium"))  # the first deploy's settings
    assert sm.log.count("update_domain") == 1
    sm.log.clear()
    _run(clients, clock, _props("ml.t3.medium"))  # nothing changed: nothing happens
    assert sm.log == []
    _run(clients, clock, _props("ml.m5.large", connect="https://connect.example.com"))
    assert sm.domain is domain
    assert sm.log.count("update_domain") == 1
    assert max(i for i, e in enumerate(sm.log) if e.startswith("delete_app")) < sm.log.index("update_domain")
    described = sm.describe_domain(DomainId=DOMAIN)
    rsession = described["DefaultUserSettings"]["RSessionAppSettings"]
    assert rsession["DefaultResourceSpec"]["InstanceType"] == "ml.m5.large"
    assert described["DomainSettings"]["RStudioServerProDomainSettings"]["RStudioConnectUrl"] == (
        "https://connect.example.com"
    )
    assert sm.apps[SERVER]["Status"] == "InService"
    assert iam.attached[ROLE] == []


def test_the_update_with_user_settings_matches_the_api_model():
    creds = {"region_name": "eu-west-2", "aws_access_key_id": "x", "aws_secret_access_key": "x"}
    sagemaker, iam = boto3.client("sagemaker", **creds), boto3.client("iam", **creds)
    sm_stub, iam_stub = Stubber(sagemaker), Stubber(iam)
    props = _props("ml.m5.large")
    described = {
        "DomainId": DOMAIN,
        "Status": "InService",
        "DomainSettings": {
            "RStudioServerProDomainSettings": {
                "DomainExecutionRoleArn": ROLE_ARN,
                "DefaultResourceSpec": {"SageMakerImageArn": NEW_IMAGE, "InstanceType": "system"},
            }
        },
        "DefaultUserSettings": {"RSessionAppSettings": {"DefaultResourceSpec": {"InstanceType": "ml.t3.medium"}}},
    }
    server_key = {"DomainId": DOMAIN, "UserProfileName": "domain-shared", "AppType": "RStudioServerPro"}
    sm_stub.add_response("describe_domain", described, {"DomainId": DOMAIN})
    iam_stub.add_response(
        "list_attached_role_policies",
        {"AttachedPolicies": [{"PolicyArn": GUARD, "PolicyName": "g"}], "IsTruncated": False},
        {"RoleName": ROLE},
    )
    sm_stub.add_response("list_apps", {"Apps": []}, {"DomainIdEquals": DOMAIN})
    sm_stub.add_response("describe_app", {"Status": "Deleted"}, {**server_key, "AppName": "default"})
    sm_stub.add_response("describe_app", {"Status": "Deleted"}, {**server_key, "AppName": "default"})
    settings = {
        "DomainExecutionRoleArn": ROLE_ARN,
        "DefaultResourceSpec": {"SageMakerImageArn": NEW_IMAGE, "InstanceType": "system"},
    }
    sm_stub.add_response(
        "update_domain",
        {"DomainArn": f"arn:aws:sagemaker:eu-west-2:111122223333:domain/{DOMAIN}"},
        {
            "DomainId": DOMAIN,
            "DomainSettingsForUpdate": {"RStudioServerProDomainSettingsForUpdate": settings},
            "DefaultUserSettings": props["DefaultUserSettings"],
        },
    )
    with sm_stub, iam_stub:
        upgrade.upgrade_pass(Clients(sagemaker=sagemaker, iam=iam, sleep=lambda s: None), upgrade.Pin.of(props))
    sm_stub.assert_no_pending_responses()
