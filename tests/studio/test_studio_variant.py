"""The sagemaker workspace with the other branch of every switch: one user with SSO, data deleted on destroy, no
idle reaper, no NAT gateway, a Connect URL."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import synthesize
from tests.infra.helpers import CFN_LINT_IGNORED, cfn_lint, one, resources
from tests.studio.helpers import logical as _logical
from tests.studio.helpers import policy_statements as _policy_statements

VARIANT = {
    "rstudio_mode": "sagemaker",
    "rstudio_users": "carol",
    "delete_data_on_destroy": "true",
    "rstudio_auth": "sso",
    "rstudio_idle_stop_minutes": "0",
    "nat_gateways": "0",
    "rstudio_connect_url": "https://connect.example.com",
}


@pytest.fixture(scope="module")
def variant(tmp_path_factory):
    return synthesize(VARIANT, tmp_path_factory.mktemp("studio-variant.out"))


def test_variant_is_nag_and_lint_clean(variant):
    assert [r for r in variant.validation_report["pluginReports"] if r.get("violations")] == []
    result = cfn_lint(list(variant.template_paths.values()), ignore=CFN_LINT_IGNORED)
    assert result.returncode == 0, result.stdout + result.stderr


def test_delete_data_lets_teardown_remove_exactly_the_domains_home(variant):
    template = variant.template_json["workspace"]
    _, teardown = one(template, "Custom::DomainTeardown")
    assert teardown["Properties"]["DeleteData"] == "true"
    domain_id = _logical(template, "StudioDomain", "AWS::SageMaker::Domain")
    role = _logical(template, "TeardownCheckRole", "AWS::IAM::Role")
    (efs,) = [s for s in _policy_statements(template, role) if s.get("Sid") == "DeleteHomeFileSystem"]
    assert {"Fn::GetAtt": [domain_id, "HomeEfsFileSystemId"]} in efs["Resource"]["Fn::Join"][1]
    (groups,) = [s for s in _policy_statements(template, role) if s.get("Sid") == "DeleteNfsSecurityGroups"]
    assert list(groups["Condition"]["ArnEquals"]) == ["ec2:Vpc"]
    assert "HomeFileSystem" in template["Outputs"]
    assert "KeptOnDestroy" not in template["Outputs"]


def test_sso_profiles_name_their_identity_center_user_and_idle_zero_means_no_reaper(variant):
    template = variant.template_json["workspace"]
    _, profile = one(template, "AWS::SageMaker::UserProfile")
    assert profile["Properties"]["SingleSignOnUserIdentifier"] == "UserName"
    assert profile["Properties"]["SingleSignOnUserValue"] == "carol"
    _, domain = one(template, "AWS::SageMaker::Domain")
    assert domain["Properties"]["AuthMode"] == "SSO"
    # the Connect URL is set on the domain by the version pin (test_domain_settings_in_pin.py)
    server = domain["Properties"]["DomainSettings"]["RStudioServerProDomainSettings"]
    assert "RStudioConnectUrl" not in server
    _, pin = one(template, "Custom::WorkbenchVersion")
    assert pin["Properties"]["ConnectUrl"] == "https://connect.example.com"
    assert list(resources(template, "AWS::Events::Rule")) == [_logical(template, "Watchdog", "AWS::Events::Rule")]
    assert "presigned" not in json.dumps(template["Outputs"])


def test_the_pin_reruns_for_a_changed_connect_url_by_its_own_property_not_the_domain_digest(studio, variant):
    """The pin and the quiesce carry one digest of the domain resource (a change to it runs both). A Connect URL is
    not part of the domain resource: the pin carries it as a property of its own. (This variant's SSO is: it changes
    the digest, and CloudFormation would replace the domain.)"""
    pins = []
    for synth in (studio, variant):
        template = synth.template_json["workspace"]
        pin = one(template, "Custom::WorkbenchVersion")[1]["Properties"]
        quiesce = one(template, "Custom::DomainQuiesce")[1]["Properties"]
        assert pin["DomainDigest"] == quiesce["DomainDigest"]
        assert re.fullmatch(r"[0-9a-f]{64}", pin["DomainDigest"])
        pins.append(pin)
    assert pins[0]["DomainDigest"] != pins[1]["DomainDigest"]
    assert [pin.get("ConnectUrl") for pin in pins] == [None, "https://connect.example.com"]
