"""The sagemaker workspace as synthesized: one synth (two users, an admin and a user) for every item of the
SageMaker mode, nag- and cfn-lint-clean. Access is checked by matching each policy's resources
the way IAM does (`*` any run of characters, `?` one), against ARNs written by hand."""

from __future__ import annotations

import fnmatch
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import MODE_CONTEXTS, synthesize
from tests.infra.helpers import CFN_LINT_IGNORED, as_list, cfn_lint, one, render_join, resources, statements

CONTEXT = {"rstudio_mode": "sagemaker", "rstudio_users": "alice:admin,bob"}
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def studio(synth_of):
    assert MODE_CONTEXTS["sagemaker"] == CONTEXT  # the session's sagemaker synth is this one
    return synth_of("sagemaker")


@pytest.fixture(scope="module")
def template(studio) -> dict[str, Any]:
    return studio.template_json["workspace"]


def _logical(template: dict[str, Any], prefix: str, cfn_type: str) -> str:
    return one(template, cfn_type, prefix)[0]


def _policy_statements(template: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    """Every statement of every policy in the template attached to `role_id`."""
    found = []
    for res in template["Resources"].values():
        props = res.get("Properties", {})
        if res["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            if {"Ref": role_id} in props.get("Roles", []):
                found += statements(props["PolicyDocument"])
    return found


def _allows(stmts: list[dict[str, Any]], action: str, resource: str) -> bool:
    for st in stmts:
        if st["Effect"] != "Allow" or action not in as_list(st["Action"]):
            continue
        for pattern in as_list(st["Resource"]):
            text = render_join(pattern, "*")  # account, region, partition, imported bucket ARN
            text = re.sub(r"\$\{[^}]+\}", "*", text)
            if fnmatch.fnmatchcase(resource, text):
                return True
    return False


def test_domain_is_vpc_only_with_service_managed_groups_in_private_subnets(template):
    _, domain = one(template, "AWS::SageMaker::Domain")
    props = domain["Properties"]
    assert props["AppNetworkAccessType"] == "VpcOnly"
    assert props["AppSecurityGroupManagement"] == "Service"
    assert props["AuthMode"] == "IAM"
    subnets = [s["Fn::ImportValue"] for s in props["SubnetIds"]]
    assert len(subnets) == 2
    assert all("workspaceSubnet" in s for s in subnets)
    server = props["DomainSettings"]["RStudioServerProDomainSettings"]
    role_id = server["DomainExecutionRoleArn"]["Fn::GetAtt"][0]
    actions = {a for st in _policy_statements(template, role_id) for a in as_list(st["Action"])}
    # The RStudio on SageMaker docs' domain execution role: License Manager, log delivery, CreateApp.
    assert "sagemaker:CreateApp" in actions
    assert "license-manager:CheckoutLicense" in actions
    assert {a.split(":")[0] for a in actions} == {"license-manager", "logs", "sagemaker"}
    assert not any(r["Type"] == "AWS::SageMaker::App" for r in template["Resources"].values())


def test_only_two_security_groups_and_endpoints_admit_https_from_the_domain_group(template):
    groups = resources(template, "AWS::EC2::SecurityGroup")
    assert len(groups) == 2
    endpoint_sg = _logical(template, "NetworkEndpointSecurityGroup", "AWS::EC2::SecurityGroup")
    domain_sg = _logical(template, "NetworkDomainSecurityGroup", "AWS::EC2::SecurityGroup")
    ingress = [
        r["Properties"]
        for r in resources(template, "AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": [endpoint_sg, "GroupId"]}
    ]
    assert ingress == [
        {
            "Description": "HTTPS from the RStudio apps",
            "FromPort": 443,
            "GroupId": {"Fn::GetAtt": [endpoint_sg, "GroupId"]},
            "IpProtocol": "tcp",
            "SourceSecurityGroupId": {"Fn::GetAtt": [domain_sg, "GroupId"]},
            "ToPort": 443,
        }
    ]
    assert "SecurityGroupIngress" not in groups[endpoint_sg]["Properties"]
    services = sorted(
        render_join(e["Properties"]["ServiceName"]) for e in resources(template, "AWS::EC2::VPCEndpoint").values()
    )
    assert [s.rsplit(".", 1)[-1] for s in services] == ["license-manager", "runtime"]


def test_network_stack_gets_no_studio_endpoint(studio):
    network = studio.template_json["network"]
    names = json.dumps([e["Properties"]["ServiceName"] for e in resources(network, "AWS::EC2::VPCEndpoint").values()])
    assert "license-manager" not in names
    assert "sagemaker.runtime" not in names


def test_one_profile_per_user_with_its_own_role_and_group(template):
    profiles = {
        p["Properties"]["UserProfileName"]: p["Properties"]
        for p in resources(template, "AWS::SageMaker::UserProfile").values()
    }
    assert set(profiles) == {"alice", "bob"}
    for name, group in (("alice", "R_STUDIO_ADMIN"), ("bob", "R_STUDIO_USER")):
        settings = profiles[name]["UserSettings"]
        assert settings["RStudioServerProAppSettings"] == {"AccessStatus": "ENABLED", "UserGroup": group}
        assert settings["ExecutionRole"]["Fn::GetAtt"][0].startswith(f"User{name}ProfileRole")


ALICE_OBJECT = "arn:aws:s3:::IMPORTED/jobs/simlab-alice-fit-20261201-120000-0a1b2c3d/output/summary.json"


@pytest.mark.parametrize(
    ("action", "resource", "alice", "bob"),
    [
        ("s3:GetObject", ALICE_OBJECT.replace("arn:aws:s3:::", ""), True, False),
        ("s3:PutObject", "IMPORTED/jobs/simlab-bob-x-20261201-120000-0a1b2c3d/code/main.R", False, True),
        ("s3:GetObject", "IMPORTED/jobs/simlab-alicex-1-20261201-120000-0a1b2c3d/output/a", False, False),
        ("s3:GetObject", "IMPORTED/jobs/simlab-x-20261201-120000-0a1b2c3d/output/a", False, False),
        ("sagemaker:StopProcessingJob", "arn:aws:sagemaker:X:X:processing-job/simlab-alice-fit-1", True, False),
        ("sagemaker:CreateProcessingJob", "arn:aws:sagemaker:X:X:processing-job/simlab-bob-fit-1", False, True),
        ("sagemaker:DescribeProcessingJob", "arn:aws:sagemaker:X:X:processing-job/simlab-fit-1", False, False),
        (
            "logs:GetLogEvents",
            "arn:aws:logs:X:X:log-group:/aws/sagemaker/ProcessingJobs:log-stream:simlab-bob-a/algo-1",
            False,
            True,
        ),
    ],
)
def test_each_profile_role_reaches_its_own_prefix_only(template, action, resource, alice, bob):
    for name, expected in (("alice", alice), ("bob", bob)):
        role = _logical(template, f"User{name}ProfileRole", "AWS::IAM::Role")
        assert _allows(_policy_statements(template, role), action, resource) is expected, (name, action, resource)


def test_job_roles_are_scoped_and_passable_only_by_their_own_profile_role(template):
    roles = {n: _logical(template, f"User{n}JobRole", "AWS::IAM::Role") for n in ("alice", "bob")}
    for name, role in roles.items():
        stmts = _policy_statements(template, role)
        assert _allows(stmts, "s3:GetObject", f"IMPORTED/jobs/simlab-{name}-a-1/code/x.R")
        other = "bob" if name == "alice" else "alice"
        assert not _allows(stmts, "s3:GetObject", f"IMPORTED/jobs/simlab-{other}-a-1/code/x.R")
    # Who may pass alice's job role: exactly one policy in the whole app, attached to alice's profile role.
    passers = []
    for res in template["Resources"].values():
        if res["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for st in statements(res["Properties"]["PolicyDocument"]):
                if "iam:PassRole" in as_list(st["Action"]) and {"Fn::GetAtt": [roles["alice"], "Arn"]} in as_list(
                    st["Resource"]
                ):
                    passers.append(res["Properties"]["Roles"])
    assert passers == [[{"Ref": _logical(template, "UseraliceProfileRole", "AWS::IAM::Role")}]]


def test_jobs_must_carry_the_submitting_user_tag(template):
    role = _logical(template, "UserbobProfileRole", "AWS::IAM::Role")
    (create,) = [s for s in _policy_statements(template, role) if s.get("Sid") == "CreateConfinedProcessingJobs"]
    assert create["Condition"]["StringEquals"] == {"aws:RequestTag/platform": "simlab", "aws:RequestTag/user": "bob"}
    assert create["Condition"]["Bool"] == {"sagemaker:NetworkIsolation": "true"}


def test_each_user_has_a_job_config_named_after_their_profile_role(template):
    param = resources(template, "AWS::SSM::Parameter")[_logical(template, "UseraliceJobConfig", "AWS::SSM::Parameter")]
    role = _logical(template, "UseraliceProfileRole", "AWS::IAM::Role")
    assert param["Properties"]["Name"] == {"Fn::Join": ["", ["/simlab/job-config/", {"Ref": role}]]}
    config = json.loads(render_join(param["Properties"]["Value"], "T"))
    assert config["job_name_prefix"] == "simlab-alice"
    assert config["user"] == "alice"
    parts = param["Properties"]["Value"]["Fn::Join"][1]
    assert {"Fn::GetAtt": [_logical(template, "UseraliceJobRole", "AWS::IAM::Role"), "Arn"]} in parts


def test_rsession_image_is_a_cdk_asset_attached_as_the_default(studio, template):
    assets = json.loads((studio.cdk_out / "simlab-workspace.assets.json").read_text())["dockerImages"]
    (image,) = [a for a in assets.values() if a["source"].get("dockerFile") == "stacks/studio/image/Dockerfile"]
    assert image["source"]["dockerBuildArgs"]["SIMLAB_PLATFORM"] == "simlab"
    _, version = one(template, "AWS::SageMaker::ImageVersion")
    assert next(iter(image["destinations"].values()))["imageTag"] in json.dumps(version["Properties"]["BaseImage"])
    _, domain = one(template, "AWS::SageMaker::Domain")
    rsession = domain["Properties"]["DefaultUserSettings"]["RSessionAppSettings"]
    assert rsession["CustomImages"] == [{"AppImageConfigName": "simlab-rsession", "ImageName": "simlab-rsession"}]
    assert rsession["DefaultResourceSpec"]["InstanceType"] == "ml.t3.medium"


def test_rsession_dockerfile_lints_clean_and_sets_the_role_parameter():
    dockerfile = ROOT / "stacks/studio/image/Dockerfile"
    result = subprocess.run(
        [str(Path(sys.executable).parent / "hadolint"), str(dockerfile)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    text = dockerfile.read_text()
    assert "SIMLAB_JOB_CONFIG_PARAMETER=/${SIMLAB_PLATFORM}/job-config/{role}" in text
    assert "R/simjobs" in text
    assert "RSTUDIO_CONNECT_URL" in text
    assert "RSTUDIO_PACKAGE_MANAGER_URL" in text


def test_licence_preflight_comes_before_the_domain(template):
    licence = _logical(template, "Licence", "Custom::PositLicence")
    assert resources(template, "Custom::PositLicence")[licence]["Properties"]["ProductName"] == "RSW-SageMaker"
    _, domain = one(template, "AWS::SageMaker::Domain")
    assert licence in domain["DependsOn"]


def test_teardown_is_deleted_before_the_domain_and_profiles_and_waits_up_to_two_hours(template):
    logical, teardown = one(template, "Custom::DomainTeardown")
    domain_id = _logical(template, "StudioDomain", "AWS::SageMaker::Domain")
    profiles = set(resources(template, "AWS::SageMaker::UserProfile"))
    assert set(teardown["DependsOn"]) >= {domain_id, *profiles}
    assert teardown["Properties"]["DomainId"] == {"Fn::GetAtt": [domain_id, "DomainId"]}
    assert teardown["Properties"]["DeleteData"] == "false"
    handlers = {f["Properties"]["Handler"] for f in resources(template, "AWS::Lambda::Function").values()}
    assert {"teardown.on_event", "teardown.is_complete", "licence.on_event", "reaper.handler"} <= handlers
    _, waiter = one(template, "AWS::StepFunctions::StateMachine")
    definition = render_join(waiter["Properties"]["DefinitionString"])
    # 2 hours at one check every 30 s = 240 attempts.
    assert '"IntervalSeconds":30,"MaxAttempts":240' in definition


def test_idle_reaper_runs_on_a_schedule_with_the_idle_setting(template):
    (function,) = [
        f
        for f in resources(template, "AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == "reaper.handler"
    ]
    assert function["Properties"]["Environment"]["Variables"]["IDLE_MINUTES"] == "120"
    _, rule = one(template, "AWS::Events::Rule")
    assert rule["Properties"]["ScheduleExpression"] == "rate(30 minutes)"  # 120 / 4


def test_outputs_name_the_domain_and_print_each_users_login_url(template):
    outputs = template["Outputs"]
    assert {"DomainId", "DomainConsoleUrl", "LoginUrlCommandalice", "LoginUrlCommandbob", "KeptOnDestroy"} <= set(
        outputs
    )
    command = render_join(outputs["LoginUrlCommandbob"]["Value"], "D")
    assert command.startswith("aws sagemaker create-presigned-domain-url ")
    assert "--domain-id D --user-profile-name bob" in command
    assert "security-group-for-inbound-nfs-" in render_join(outputs["KeptOnDestroy"]["Value"])


def test_sagemaker_mode_is_nag_and_lint_clean(studio):
    assert [r for r in studio.validation_report["pluginReports"] if r.get("violations")] == []
    result = cfn_lint(list(studio.template_paths.values()), ignore=CFN_LINT_IGNORED)
    assert result.returncode == 0, result.stdout + result.stderr


# ------------------------------------------------------------------ the other branch of every switch
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
    server = domain["Properties"]["DomainSettings"]["RStudioServerProDomainSettings"]
    assert server["RStudioConnectUrl"] == "https://connect.example.com"
    assert not resources(template, "AWS::Events::Rule")
    assert "presigned" not in json.dumps(template["Outputs"])
