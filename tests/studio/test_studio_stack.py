"""The sagemaker workspace as synthesized: one synth (two users, an admin and a user; tests/studio/conftest.py)
for every part of the SageMaker mode, nag- and cfn-lint-clean. Access is checked by matching each policy's resources
the way IAM does (`*` any run of characters, `?` one), against ARNs written by hand."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.infra.helpers import CFN_LINT_IGNORED, as_list, cfn_lint, one, render_join, resources, statements
from tests.studio.helpers import allows as _allows
from tests.studio.helpers import logical as _logical
from tests.studio.helpers import policy_statements as _policy_statements

ROOT = Path(__file__).resolve().parents[2]


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
    # The version is not the domain's property (see test_workbench_version.py); the instance is the free one.
    assert server["DefaultResourceSpec"] == {"InstanceType": "system"}
    role_id = server["DomainExecutionRoleArn"]["Fn::GetAtt"][0]
    stmts = _policy_statements(template, role_id)
    assert len(stmts) == 1
    assert stmts[0]["Effect"] == "Allow"
    assert stmts[0]["Resource"] == "*"
    assert sorted(as_list(stmts[0]["Action"])) == sorted(DOMAIN_EXECUTION_POLICY)
    assert not any(r["Type"] == "AWS::SageMaker::App" for r in template["Resources"].values())


# AWS, "Create an Amazon SageMaker Domain with RStudio using the AWS CLI", domain-setting-policy.json, copied by hand.
DOMAIN_EXECUTION_POLICY = """
license-manager:ExtendLicenseConsumption license-manager:ListReceivedLicenses license-manager:GetLicense
license-manager:CheckoutLicense license-manager:CheckInLicense logs:CreateLogDelivery logs:CreateLogGroup
logs:CreateLogStream logs:DeleteLogDelivery logs:Describe* logs:GetLogDelivery logs:GetLogEvents
logs:ListLogDeliveries logs:PutLogEvents logs:PutResourcePolicy logs:UpdateLogDelivery sagemaker:CreateApp
""".split()


def test_the_relaunch_guard_denies_create_app_and_only_the_lifecycle_functions_may_attach_it(template):
    guard_id = _logical(template, "StudioRelaunchGuard", "AWS::IAM::ManagedPolicy")
    guard = resources(template, "AWS::IAM::ManagedPolicy")[guard_id]["Properties"]
    assert statements(guard["PolicyDocument"]) == [
        {"Action": "sagemaker:CreateApp", "Effect": "Deny", "Resource": "*", "Sid": "NoServerRelaunch"}
    ]
    assert not {"Roles", "Users", "Groups"} & set(guard)  # attached only while the server app must stay down
    role_id = _logical(template, "StudioExecutionRole", "AWS::IAM::Role")
    attachers = []
    for logical, res in resources(template, "AWS::IAM::Policy").items():
        for st in statements(res["Properties"]["PolicyDocument"]):
            if "iam:AttachRolePolicy" in as_list(st["Action"]):
                assert st["Resource"] == {"Fn::GetAtt": [role_id, "Arn"]}
                assert st["Condition"] == {"ArnEquals": {"iam:PolicyARN": {"Ref": guard_id}}}
                attachers.append(logical)
    assert sorted(a[: a.index("Role")] for a in attachers) == sorted(
        ["TeardownStart", "TeardownCheck", "WorkbenchStart", "WorkbenchCheck"]
    )


def test_only_two_security_groups_the_domains_allows_all_outbound_and_endpoints_admit_it(template):
    groups = resources(template, "AWS::EC2::SecurityGroup")
    assert len(groups) == 2
    endpoint_sg = _logical(template, "NetworkEndpointSecurityGroup", "AWS::EC2::SecurityGroup")
    domain_sg = _logical(template, "NetworkDomainSecurityGroup", "AWS::EC2::SecurityGroup")
    # AWS: the domain's group "must allow all outbound access".
    egress = groups[domain_sg]["Properties"]["SecurityGroupEgress"]
    assert egress == [
        {"CidrIp": "0.0.0.0/0", "Description": "Allow all outbound traffic by default", "IpProtocol": "-1"}
    ]
    assert not [
        r
        for r in resources(template, "AWS::EC2::SecurityGroupEgress").values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": [domain_sg, "GroupId"]}
    ]
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


def test_rsession_image_is_built_for_the_domains_version_and_attached_as_the_default(studio, template):
    assets = json.loads((studio.cdk_out / "simlab-workspace.assets.json").read_text())["dockerImages"]
    (image,) = [a for a in assets.values() if a["source"].get("dockerFile") == "stacks/studio/image/Dockerfile"]
    args = image["source"]["dockerBuildArgs"]
    assert args["SIMLAB_PLATFORM"] == "simlab"
    assert args["RSW_VERSION"] == "2026.08.2+200.pro1"
    assert args["RSESSION_TIMEOUT_MINUTES"] == "120"
    assert args["SAGEMAKER_REQUIREMENT"].startswith("sagemaker[local]==2.")
    _, version = one(template, "AWS::SageMaker::ImageVersion")
    assert next(iter(image["destinations"].values()))["imageTag"] in json.dumps(version["Properties"]["BaseImage"])
    _, domain = one(template, "AWS::SageMaker::Domain")
    rsession = domain["Properties"]["DefaultUserSettings"]["RSessionAppSettings"]
    assert rsession["CustomImages"] == [{"AppImageConfigName": "simlab-rsession", "ImageName": "simlab-rsession"}]
    # The image, not a version of it: a rebuilt image changes nothing on the domain.
    image_id = _logical(template, "SessionImage", "AWS::SageMaker::Image")
    # No instance type: a setting that can change lives on the version pin (test_domain_settings_in_pin.py).
    assert rsession["DefaultResourceSpec"] == {"SageMakerImageArn": {"Fn::GetAtt": [image_id, "ImageArn"]}}


def test_rsession_dockerfile_lints_clean_and_sets_the_role_parameter():
    dockerfile = ROOT / "stacks/studio/image/Dockerfile"
    result = subprocess.run(
        [str(Path(sys.executable).parent / "hadolint"), str(dockerfile)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    text = dockerfile.read_text()
    assert 'ENV RSTUDIO_FORCE_NON_ZERO_EXIT_CODE="1"' in text
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
    props = teardown["Properties"]
    assert props["DomainId"] == {"Fn::GetAtt": [domain_id, "DomainId"]}
    assert props["HomeFileSystemId"] == {"Fn::GetAtt": [domain_id, "HomeEfsFileSystemId"]}
    assert props["ExecutionRoleName"] == {"Ref": _logical(template, "StudioExecutionRole", "AWS::IAM::Role")}
    assert props["RelaunchGuardArn"] == {"Ref": _logical(template, "StudioRelaunchGuard", "AWS::IAM::ManagedPolicy")}
    assert props["DeleteData"] == "false"
    handlers = {f["Properties"]["Handler"] for f in resources(template, "AWS::Lambda::Function").values()}
    assert {
        "handlers.teardown.on_event",
        "handlers.teardown.is_complete",
        "handlers.upgrade.on_event",
        "handlers.upgrade.is_complete",
        "handlers.licence.on_event",
        "handlers.reaper.handler",
    } <= handlers
    waiters = [
        render_join(w["Properties"]["DefinitionString"])
        for w in resources(template, "AWS::StepFunctions::StateMachine").values()
    ]
    # Teardown: 2 hours at one check every 30 s = 240 attempts; the version pin and the quiesce: 1 hour = 120.
    assert sorted(re.findall(r'"IntervalSeconds":30,"MaxAttempts":(\d+)', "".join(waiters))) == ["120", "120", "240"]


def test_lambda_code_is_the_handlers_package_only(studio):
    assets = json.loads((studio.cdk_out / "simlab-workspace.assets.json").read_text())["files"]
    staged = [studio.cdk_out / a["source"]["path"] for a in assets.values() if a["source"].get("packaging") == "zip"]
    ours = {
        tuple(sorted(str(p.relative_to(d)) for p in d.rglob("*") if p.is_file()))
        for d in staged
        if (d / "handlers").is_dir()
    }
    # One asset for every function of the domain, holding the package and nothing else of the repository.
    assert ours == {
        tuple(
            sorted(
                f"handlers/{m}.py"
                for m in ("__init__", "common", "licence", "quiesce", "reaper", "teardown", "upgrade", "watchdog")
            )
        )
    }


def test_idle_reaper_runs_on_a_schedule_with_the_idle_setting_in_its_event(template):
    _, rule = one(template, "AWS::Events::Rule", "IdleReaper")
    assert rule["Properties"]["ScheduleExpression"] == "rate(30 minutes)"  # 120 / 4
    (target,) = rule["Properties"]["Targets"]
    domain_id = _logical(template, "StudioDomain", "AWS::SageMaker::Domain")
    assert json.loads(render_join(target["Input"], "D")) == {"domain_id": "D", "idle_minutes": 120}
    assert {"Fn::GetAtt": [domain_id, "DomainId"]} in target["Input"]["Fn::Join"][1]
    (function,) = [
        f
        for f in resources(template, "AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == "handlers.reaper.handler"
    ]
    assert "Environment" not in function["Properties"]


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
