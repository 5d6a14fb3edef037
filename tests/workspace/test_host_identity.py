"""One identity per user on the ec2 host, as synthesized: each user's role (named, trusted by the host role alone,
holding that user's JobAccess policy and nothing else), the user data naming the roles by pattern, and in ssm access
the port-forwarding-only policy. The behaviour on a host is the boot rehearsal's (tests/rehearsal/test_boot.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stacks.workspace import bootstrap
from tests.conftest import synthesize
from tests.infra.helpers import render_join, resources

CONTEXT = {"platform_name": "lab", "rstudio_users": "alice:admin,bob", "rstudio_access": "ssm"}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return synthesize(CONTEXT, tmp_path_factory.mktemp("identity.out")).template_json["workspace"]


def _host_role(template: dict[str, Any]) -> str:
    (role_id,) = [k for k in resources(template, "AWS::IAM::Role") if k.startswith("RStudioRole")]
    return role_id


def _user_roles(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        role["Properties"]["RoleName"]: {"id": key, **role}
        for key, role in resources(template, "AWS::IAM::Role").items()
        if key.startswith("UsersRole")
    }


def test_each_user_has_a_named_role_only_the_host_role_may_assume(workspace: dict[str, Any]) -> None:
    roles = _user_roles(workspace)
    assert sorted(roles) == ["lab-alice-rstudio", "lab-bob-rstudio"]
    host = _host_role(workspace)
    for role in roles.values():
        (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Action"] == "sts:AssumeRole"
        assert statement["Principal"] == {"AWS": {"Fn::GetAtt": [host, "Arn"]}}
        assert role["Properties"]["MaxSessionDuration"] == 3600
        assert "ManagedPolicyArns" not in role["Properties"]
        assert "Policies" not in role["Properties"]


def test_each_role_holds_its_own_users_job_access_and_nothing_else(workspace: dict[str, Any]) -> None:
    roles = _user_roles(workspace)
    policies = resources(workspace, "AWS::IAM::ManagedPolicy")
    for name, role in roles.items():
        user = name.split("-")[1]
        attached = [p for p in policies.values() if {"Ref": role["id"]} in p["Properties"].get("Roles", [])]
        assert len(attached) == 1, name
        text = json.dumps(attached[0]["Properties"]["PolicyDocument"])
        assert f"processing-job/lab-{user}-*" in text
        assert f"/jobs/lab-{user}-*" in text
        other = "bob" if user == "alice" else "alice"
        assert f"lab-{other}" not in text
        # and the user's job config is published under the role's name, as the client looks it up
        configs = [
            p["Properties"]["Name"]
            for p in resources(workspace, "AWS::SSM::Parameter").values()
            if p["Properties"]["Name"] == f"/lab/job-config/{name}"
        ]
        assert configs == [f"/lab/job-config/{name}"]
    # no inline policy on a user's role (CDK would name it <role>DefaultPolicy)
    inline = resources(workspace, "AWS::IAM::Policy")
    assert not [
        p for p in inline.values() if any(r["id"] in json.dumps(p["Properties"]["Roles"]) for r in roles.values())
    ]


def test_the_user_data_names_the_roles_by_pattern_and_the_config_by_role(workspace: dict[str, Any]) -> None:
    (instance,) = resources(workspace, "AWS::EC2::Instance").values()
    script = render_join(instance["Properties"]["UserData"]["Fn::Base64"], "TOKEN")
    assert "export SIMLAB_USER_ROLE_ARN='arn:TOKEN:iam::TOKEN:role/lab-{user}-rstudio'\n" in script
    assert "export SIMLAB_JOB_CONFIG_PARAMETER='/lab/job-config/{role}'\n" in script


def test_ssm_access_publishes_a_policy_for_port_forwarding_and_no_shell(workspace: dict[str, Any]) -> None:
    (policy,) = [
        p for k, p in resources(workspace, "AWS::IAM::ManagedPolicy").items() if k.startswith("PortForwarding")
    ]
    start, own, channels = policy["Properties"]["PolicyDocument"]["Statement"]
    assert start["Action"] == "ssm:StartSession"
    assert start["Condition"] == {"BoolIfExists": {"ssm:SessionDocumentAccessCheck": "true"}}
    documents = [json.dumps(r) for r in start["Resource"] if "document/" in json.dumps(r)]
    assert len(documents) == 1
    assert "document/AWS-StartPortForwardingSession" in documents[0]
    assert "RemoteHost" not in json.dumps(start)
    (instance_id,) = resources(workspace, "AWS::EC2::Instance")
    assert any(json.dumps({"Ref": instance_id}) in json.dumps(r) for r in start["Resource"])
    assert sorted(own["Action"]) == ["ssm:ResumeSession", "ssm:TerminateSession"]
    assert "session/${aws:username}-*" in json.dumps(own["Resource"])
    # the caller's own sessions' data channels, as Session Manager's sample end-user policies grant them
    assert channels["Action"] == "ssmmessages:OpenDataChannel"
    assert json.dumps(channels["Resource"]).endswith(':session/${aws:userid}-*"]]}')
    assert "RStudioPortForwardingPolicyArn" in workspace["Outputs"]


def test_user_data_stays_under_ec2s_limit_with_the_most_users(tmp_path_factory: pytest.TempPathFactory) -> None:
    """50 users (the ec2 maximum): every token counted at 200 bytes except the secrets' ARNs (about 110:
    arn:aws:secretsmanager:<region>:<account>:secret:<generated name>-<6>), against EC2's 16 KB."""
    names = ",".join(f"u{i:02d}" for i in range(50))
    template = synthesize(
        {"platform_name": "lab", "rstudio_users": names, "rstudio_access": "ssm"}, tmp_path_factory.mktemp("fifty")
    ).template_json["workspace"]
    (instance,) = resources(template, "AWS::EC2::Instance").values()
    parts = instance["Properties"]["UserData"]["Fn::Base64"]["Fn::Join"][1]
    secrets = set(resources(template, "AWS::SecretsManager::Secret"))
    size = sum(len(p.encode()) if isinstance(p, str) else (110 if p.get("Ref") in secrets else 200) for p in parts)
    assert size < bootstrap.USER_DATA_LIMIT, size


def test_the_pattern_carries_the_roles_iam_path(tmp_path_factory: pytest.TempPathFactory) -> None:
    """iam_role_path puts every role under a path (stacks/governance.py), which is part of its ARN."""
    context = {**CONTEXT, "iam_role_path": "/teams/lab/"}
    template = synthesize(context, tmp_path_factory.mktemp("path.out")).template_json["workspace"]
    roles = _user_roles(template)
    assert {role["Properties"]["Path"] for role in roles.values()} == {"/teams/lab/"}
    (instance,) = resources(template, "AWS::EC2::Instance").values()
    script = render_join(instance["Properties"]["UserData"]["Fn::Base64"], "TOKEN")
    assert "export SIMLAB_USER_ROLE_ARN='arn:TOKEN:iam::TOKEN:role/teams/lab/lab-{user}-rstudio'\n" in script
