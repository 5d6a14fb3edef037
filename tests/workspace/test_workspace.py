"""RStudio Server on EC2: properties of the synthesized workspace stack in both access modes.

The default app (session fixture `synthesized`: cloudfront access, idle stop on, data kept) is checked
alongside ONE extra small app with the other variants: ssm access, idle stop off, data deleted on destroy,
a Graviton instance type.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stacks.workspace import bootstrap, posit
from stacks.workspace.access import allowlist_code
from stacks.workspace.idle import alarm_window

ANYWHERE = {"0.0.0.0/0", "::/0"}
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # AWS managed cache policy
ALL_VIEWER = "216adef6-5c7f-47e4-b989-5492eafa07d3"  # AWS managed origin request policy
SSM_CONTEXT = {
    "platform_name": "wsvariant",
    "rstudio_access": "ssm",
    "rstudio_idle_stop_minutes": 0,
    "delete_data_on_destroy": True,
    "rstudio_instance_type": "m7g.large",
    "rstudio_user": "stats",
    "rstudio_volume_gb": 64,
    "rstudio_ami_parameter": "/wsvariant/rstudio-ami",
}


# ------------------------------------------------------------------------------------------- fixtures
def _synthesize(context: dict[str, Any], outdir: Path) -> tuple[Any, dict[str, Any]]:
    import aws_cdk as cdk

    from stacks.platform import build_platform
    from stacks.settings import Settings

    settings = Settings.from_context(context)
    app = cdk.App(outdir=str(outdir), context=dict(context))
    platform = build_platform(app, settings)
    app.synth()
    return platform, json.loads((outdir / platform.workspace.template_file).read_text())


@pytest.fixture(scope="module")
def variant(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    outdir = tmp_path_factory.mktemp("cdk.out.ssm")
    platform, template = _synthesize(SSM_CONTEXT, outdir)
    return {"platform": platform, "template": template, "outdir": outdir}


@pytest.fixture(scope="module")
def default(synthesized: Any) -> dict[str, Any]:
    return {
        "platform": synthesized.platform,
        "template": synthesized.template_json["workspace"],
        "outdir": synthesized.cdk_out,
        "settings": synthesized.settings,
    }


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def only(template: dict[str, Any], kind: str) -> tuple[str, dict[str, Any]]:
    found = resources(template, kind)
    assert len(found) == 1, f"expected one {kind}, found {sorted(found)}"
    return next(iter(found.items()))


def strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)


def host_group_id(template: dict[str, Any]) -> str:
    return only(template, "AWS::EC2::Instance")[1]["Properties"]["NetworkInterfaces"][0]["GroupSet"][0]["Fn::GetAtt"][0]


def user_data_script(template: dict[str, Any]) -> str:
    """The bootstrap as the host receives it, CloudFormation tokens replaced by placeholders."""
    user_data = only(template, "AWS::EC2::Instance")[1]["Properties"]["UserData"]["Fn::Base64"]
    if isinstance(user_data, str):
        return user_data
    parts = user_data["Fn::Join"][1]
    return "".join(p if isinstance(p, str) else f"TOKEN{i}" for i, p in enumerate(parts))


# ----------------------------------------------------------------------------------------------- host
@pytest.mark.parametrize("which", ["default", "variant"])
def test_nothing_reaches_any_workspace_group_from_anywhere(which: str, request: pytest.FixtureRequest) -> None:
    template = request.getfixturevalue(which)["template"]
    for rule in [
        *resources(template, "AWS::EC2::SecurityGroupIngress").values(),
        *(
            i
            for g in resources(template, "AWS::EC2::SecurityGroup").values()
            for i in g["Properties"].get("SecurityGroupIngress", [])
        ),
    ]:
        props = rule.get("Properties", rule)
        assert props.get("CidrIp") not in ANYWHERE, props
        assert props.get("CidrIpv6") not in ANYWHERE, props


def test_cloudfront_host_admits_only_rstudio_from_the_vpc_origin_group(default: dict[str, Any]) -> None:
    template = default["template"]
    host_sg = host_group_id(template)
    assert "SecurityGroupIngress" not in template["Resources"][host_sg]["Properties"]
    rules = [
        r["Properties"]
        for r in resources(template, "AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": [host_sg, "GroupId"]}
    ]
    assert len(rules) == 1
    rule = rules[0]
    assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 8787, 8787)
    lookup, attribute = rule["SourceSecurityGroupId"]["Fn::GetAtt"]
    assert attribute == "SecurityGroups.0.GroupId"
    call = json.dumps(template["Resources"][lookup]["Properties"]["Create"])
    assert "CloudFront-VPCOrigins-Service-SG" in call
    assert "describeSecurityGroups" in call


def test_ssm_host_has_no_inbound_rule_at_all(variant: dict[str, Any]) -> None:
    template = variant["template"]
    host_sg = host_group_id(template)
    assert "SecurityGroupIngress" not in template["Resources"][host_sg]["Properties"]
    targets = [r["Properties"]["GroupId"] for r in resources(template, "AWS::EC2::SecurityGroupIngress").values()]
    assert {"Fn::GetAtt": [host_sg, "GroupId"]} not in targets
    assert not resources(template, "AWS::CloudFront::Distribution")
    assert "export SIMLAB_LISTEN_ADDRESS='127.0.0.1'" in user_data_script(template)


CANONICAL_AMD64 = "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id"


@pytest.mark.parametrize(
    ("which", "volume_gb", "arch", "ami_parameter"),
    [("default", 100, "amd64", CANONICAL_AMD64), ("variant", 64, "arm64", "/wsvariant/rstudio-ami")],
)
def test_host_is_private_keyless_imdsv2_encrypted_and_monitored(
    which: str, volume_gb: int, arch: str, ami_parameter: str, request: pytest.FixtureRequest
) -> None:
    template = request.getfixturevalue(which)["template"]
    _, instance = only(template, "AWS::EC2::Instance")
    props = instance["Properties"]
    assert "KeyName" not in props
    assert props["NetworkInterfaces"][0]["AssociatePublicIpAddress"] is False
    assert "workspace" in json.dumps(props["NetworkInterfaces"][0]["SubnetId"])
    assert props["Monitoring"] is True
    assert props["BlockDeviceMappings"] == [
        {
            "DeviceName": "/dev/sda1",
            "Ebs": {"DeleteOnTermination": True, "Encrypted": True, "VolumeSize": volume_gb, "VolumeType": "gp3"},
        }
    ]
    # IMDSv2 only, one hop: containers on the host (admins' Docker) cannot reach the metadata service; no IPv6
    # endpoint, which the host's guard (IPv4 only) would not cover.
    assert props["MetadataOptions"] == {
        "HttpEndpoint": "enabled",
        "HttpProtocolIpv6": "disabled",
        "HttpPutResponseHopLimit": 1,
        "HttpTokens": "required",
    }
    image_parameter = template["Parameters"][props["ImageId"]["Ref"]]
    assert image_parameter["Type"] == "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>"
    assert image_parameter["Default"] == ami_parameter
    assert f"export SIMLAB_ARCH='{arch}'\n" in user_data_script(template)
    assert instance["CreationPolicy"] == {"ResourceSignal": {"Count": 1, "Timeout": "PT40M"}}


def test_host_role_can_do_its_job_and_no_more(default: dict[str, Any]) -> None:
    """The host's own identity, root's only: no job submission, no images, no job config, no bucket; those are
    each user's, through their own role (tests/workspace/test_host_identity.py)."""
    template = default["template"]
    role_id, role = next(
        (k, r) for k, r in resources(template, "AWS::IAM::Role").items() if k.startswith("RStudioRole")
    )
    assert "ManagedPolicyArns" not in role["Properties"]
    policy = next(r for k, r in resources(template, "AWS::IAM::Policy").items() if k.startswith("RStudioRole"))
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    actions = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert actions == {
        "ssm:UpdateInstanceInformation",
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
        "secretsmanager:GetSecretValue",
        "secretsmanager:DescribeSecret",
        "s3:GetObject",
        "cloudformation:SignalResource",
        "elasticfilesystem:ClientMount",
        "elasticfilesystem:ClientWrite",
        "elasticfilesystem:ClientRootAccess",
        "sts:AssumeRole",
    }
    # Not AmazonSSMManagedInstanceCore: it would read every SSM parameter in the account, SecureStrings included.
    (session,) = [s for s in statements if s.get("Sid") == "SessionManager"]
    assert sorted(session["Action"]) == sorted(a for a in actions if a.startswith("ssm"))
    secret_id, _ = only(template, "AWS::SecretsManager::Secret")
    secret_reads = [s for s in statements if "secretsmanager:GetSecretValue" in json.dumps(s["Action"])]
    assert [s["Resource"] for s in secret_reads] == [{"Ref": secret_id}]
    package_reads = [s for s in statements if s["Action"] == "s3:GetObject"]
    assert len(package_reads) == 1
    assert ".zip" in json.dumps(package_reads[0]["Resource"])
    # The users' roles, each by its own ARN, and nothing else.
    (assume,) = [s for s in statements if s["Action"] == "sts:AssumeRole"]
    user_roles = [k for k in resources(template, "AWS::IAM::Role") if k.startswith("UsersRole")]
    assert user_roles
    assume_resources = assume["Resource"] if isinstance(assume["Resource"], list) else [assume["Resource"]]
    assert sorted(json.dumps(r) for r in assume_resources) == sorted(
        json.dumps({"Fn::GetAtt": [k, "Arn"]}) for k in user_roles
    )
    assert role_id not in json.dumps(statements)


# ---------------------------------------------------------------------------------------------- login
def test_password_is_generated_by_secrets_manager(default: dict[str, Any]) -> None:
    _, secret = only(default["template"], "AWS::SecretsManager::Secret")
    props = secret["Properties"]
    assert "SecretString" not in props
    assert props["GenerateSecretString"]["PasswordLength"] >= 20


def test_no_template_holds_a_password(default: dict[str, Any], variant: dict[str, Any]) -> None:
    literal = re.compile(r"(?i)(password|passwd)\s*[=:]\s*['\"]?[A-Za-z0-9]|:[^\s:'\"$]+['\"]?\s*\|\s*chpasswd")
    paths = [*default["outdir"].glob("*.template.json"), *variant["outdir"].glob("*.template.json")]
    assert len(paths) >= 8
    for path in paths:
        template = json.loads(path.read_text())
        for text in strings(template):
            assert not literal.search(text), f"{path.name}: {text[:200]!r}"
            assert text not in ("SecretString", "MasterUserPassword", "Password"), path.name


# ------------------------------------------------------------------------------------------- outputs
def test_cloudfront_outputs(default: dict[str, Any]) -> None:
    outputs = default["template"]["Outputs"]
    distribution_id, _ = only(default["template"], "AWS::CloudFront::Distribution")
    assert outputs["RStudioURL"]["Value"] == {
        "Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution_id, "DomainName"]}]]
    }
    assert outputs["RStudioUsers"]["Value"] == f"{default['settings'].rstudio_user} (user)"
    _password_command_ok(default["template"], f"{default['settings'].rstudio_user.capitalize()}2000")


def test_ssm_outputs(variant: dict[str, Any]) -> None:
    template = variant["template"]
    outputs = template["Outputs"]
    instance_id, _ = only(template, "AWS::EC2::Instance")
    assert outputs["RStudioURL"]["Value"] == "http://localhost:8787"
    assert outputs["RStudioUsers"]["Value"] == "stats (user)"
    command = outputs["RStudioPortForwardCommand"]["Value"]["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else "<>" for p in command)
    assert text == (
        "aws ssm start-session --region <> --target <> --document-name AWS-StartPortForwardingSession "
        '--parameters \'{"portNumber":["8787"],"localPortNumber":["8787"]}\''
    )
    assert {"Ref": instance_id} in command
    _password_command_ok(template, "Stats2000")


def _password_command_ok(template: dict[str, Any], user_id: str) -> None:
    secret_id, _ = only(template, "AWS::SecretsManager::Secret")
    parts = template["Outputs"][f"RStudioPasswordCommand{user_id}"]["Value"]["Fn::Join"][1]
    assert parts[0] == "aws secretsmanager get-secret-value --region "
    assert parts[2:] == [" --secret-id ", {"Ref": secret_id}, " --query SecretString --output text"]


# ---------------------------------------------------------------------------------------- cloudfront
def test_distribution_passes_rstudio_through_uncached(default: dict[str, Any]) -> None:
    template = default["template"]
    _, distribution = only(template, "AWS::CloudFront::Distribution")
    config = distribution["Properties"]["DistributionConfig"]
    behavior = config["DefaultCacheBehavior"]
    assert behavior["CachePolicyId"] == CACHING_DISABLED
    assert behavior["OriginRequestPolicyId"] == ALL_VIEWER
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert {"GET", "POST", "PUT", "DELETE"} <= set(behavior["AllowedMethods"])
    function_id, _ = only(template, "AWS::CloudFront::Function")
    assert behavior["FunctionAssociations"] == [
        {"EventType": "viewer-request", "FunctionARN": {"Fn::GetAtt": [function_id, "FunctionARN"]}}
    ]
    origin = config["Origins"][0]["VpcOriginConfig"]
    assert (origin["OriginReadTimeout"], origin["OriginKeepaliveTimeout"]) == (60, 60)
    vpc_origin_id, vpc_origin = only(template, "AWS::CloudFront::VpcOrigin")
    endpoint = vpc_origin["Properties"]["VpcOriginEndpointConfig"]
    assert (endpoint["HTTPPort"], endpoint["OriginProtocolPolicy"]) == (8787, "http-only")
    instance_id, _ = only(template, "AWS::EC2::Instance")
    assert instance_id in json.dumps(endpoint["Arn"])


def test_function_in_template_holds_the_configured_networks(default: dict[str, Any]) -> None:
    _, function = only(default["template"], "AWS::CloudFront::Function")
    assert function["Properties"]["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    assert function["Properties"]["FunctionCode"] == allowlist_code(default["settings"].rstudio_allowed_cidrs)


NETWORKS = ("203.0.113.0/24", "2001:db8::/32", "10.0.0.8/29", "2001:db8:ffff:1::/64")


def run_function(code: str, ips: list[str]) -> list[dict[str, Any]]:
    node = shutil.which("node")
    assert node, "node (the CDK CLI's runtime) is needed to run the CloudFront Function"
    harness = (
        code + "\nconsole.log(JSON.stringify(" + json.dumps(ips) + ".map(function (ip) {"
        " return handler({viewer: {ip: ip}, request: {uri: '/', headers: {}}}); })));\n"
    )
    result = subprocess.run([node, "-e", harness], capture_output=True, text=True, timeout=30, check=True)
    return json.loads(result.stdout)


def test_function_code_names_every_allowed_network() -> None:
    code = allowlist_code(NETWORKS)
    for cidr in NETWORKS:
        assert cidr in code
    assert '{"v":4,"b":24,"w":[51968,28928,0,0,0,0,0,0]}' in code  # 203.0.113.0 = 0xCB00 0x7100


@pytest.mark.parametrize(
    ("ip", "allowed"),
    [
        ("203.0.113.77", True),
        ("203.0.113.0", True),
        ("203.0.112.255", False),
        ("203.0.114.1", False),
        ("10.0.0.8", True),
        ("10.0.0.15", True),
        ("10.0.0.16", False),
        ("10.0.0.7", False),
        ("2001:db8::1", True),
        ("2001:db8:abcd:12::5", True),
        ("2001:db9::1", False),
        ("::1", False),
        ("2001:0db8:ffff:0001:0000:0000:0000:0001", True),
        ("::ffff:203.0.113.5", False),
        ("not-an-ip", False),
        ("1.2.3", False),
    ],
)
def test_function_admits_exactly_the_allowed_networks(ip: str, allowed: bool) -> None:
    (response,) = run_function(allowlist_code(NETWORKS), [ip])
    if allowed:
        assert response == {"uri": "/", "headers": {}}
    else:
        assert response["statusCode"] == 403
        assert f"your address {ip} is not in" in response["body"]["data"]


def test_function_with_no_networks_denies_everyone_with_instructions() -> None:
    responses = run_function(allowlist_code(()), ["203.0.113.7", "2001:db8::1", "127.0.0.1"])
    assert [r["statusCode"] for r in responses] == [403, 403, 403]
    assert "rstudio_allowed_cidrs" in responses[0]["body"]["data"]
    assert "Your address is 203.0.113.7." in responses[0]["body"]["data"]


def test_function_refuses_to_outgrow_cloudfronts_limit() -> None:
    many = tuple(f"10.{i // 256}.{i % 256}.0/24" for i in range(400))
    with pytest.raises(ValueError, match="larger than 10 KB"):
        allowlist_code(many)


# ---------------------------------------------------------------------------------------- home (EFS)
def test_home_file_system_is_encrypted_backed_up_and_kept(default: dict[str, Any]) -> None:
    template = default["template"]
    # Pinned: a refactor that changes this logical ID would replace the file system and lose every home.
    fs_id, fs = only(template, "AWS::EFS::FileSystem")
    assert fs_id == "HomeFileSystem6935CA98"
    assert fs["Properties"]["Encrypted"] is True
    assert fs["Properties"]["BackupPolicy"] == {"Status": "ENABLED"}
    assert (fs["DeletionPolicy"], fs["UpdateReplacePolicy"]) == ("Retain", "Retain")


def test_home_file_system_admits_nfs_from_the_host_only(default: dict[str, Any]) -> None:
    template = default["template"]
    host_sg = host_group_id(template)
    _, target = next(iter(resources(template, "AWS::EFS::MountTarget").items()))
    efs_sg = target["Properties"]["SecurityGroups"][0]["Fn::GetAtt"][0]
    rules = [
        r["Properties"]
        for r in resources(template, "AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": [efs_sg, "GroupId"]}
    ]
    assert rules == [
        {
            "Description": "NFS from the RStudio host",
            "FromPort": 2049,
            "ToPort": 2049,
            "IpProtocol": "tcp",
            "GroupId": {"Fn::GetAtt": [efs_sg, "GroupId"]},
            "SourceSecurityGroupId": {"Fn::GetAtt": [host_sg, "GroupId"]},
        }
    ]
    assert "SecurityGroupIngress" not in template["Resources"][efs_sg]["Properties"]


def test_home_file_system_goes_with_the_delete_data_switch(variant: dict[str, Any]) -> None:
    _, fs = only(variant["template"], "AWS::EFS::FileSystem")
    assert fs["DeletionPolicy"] == "Delete"


def test_host_waits_for_the_mount_targets(default: dict[str, Any]) -> None:
    template = default["template"]
    _, instance = only(template, "AWS::EC2::Instance")
    assert set(resources(template, "AWS::EFS::MountTarget")) <= set(instance["DependsOn"])


# ---------------------------------------------------------------------------------------------- idle
def test_idle_alarm_stops_the_host(default: dict[str, Any]) -> None:
    template = default["template"]
    settings = default["settings"]
    instance_id, _ = only(template, "AWS::EC2::Instance")
    _, alarm = only(template, "AWS::CloudWatch::Alarm")
    props = alarm["Properties"]
    assert props["AlarmActions"] == [
        {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":automate:", {"Ref": "AWS::Region"}, ":ec2:stop"]]}
    ]
    assert (props["Namespace"], props["MetricName"]) == ("AWS/EC2", "CPUUtilization")
    assert props["Dimensions"] == [{"Name": "InstanceId", "Value": {"Ref": instance_id}}]
    assert props["ComparisonOperator"] == "LessThanThreshold"
    assert props["Threshold"] == settings.rstudio_idle_cpu_percent
    assert props["EvaluationPeriods"] == props["DatapointsToAlarm"]
    assert props["Period"] * props["EvaluationPeriods"] == settings.rstudio_idle_stop_minutes * 60
    assert props["TreatMissingData"] == "missing"


def test_idle_stop_off_means_no_alarm(variant: dict[str, Any]) -> None:
    assert not resources(variant["template"], "AWS::CloudWatch::Alarm")


@pytest.mark.parametrize(
    ("minutes", "window"),
    [
        (1, (1, 1)),
        (45, (1, 45)),
        (60, (1, 60)),
        (61, (5, 13)),
        (120, (5, 24)),
        (1440, (5, 288)),
        (1441, (60, 25)),
        (10_080, (60, 168)),
    ],
)
def test_alarm_window_covers_the_idle_time_within_cloudwatch_limits(minutes: int, window: tuple[int, int]) -> None:
    period, periods = alarm_window(minutes)
    assert (period, periods) == window
    assert period * periods >= minutes
    assert period * periods <= (24 * 60 if period < 60 else 7 * 24 * 60)


def test_alarm_window_rejects_impossible_periods() -> None:
    with pytest.raises(ValueError, match="positive"):
        alarm_window(0)
    with pytest.raises(ValueError, match="7 days"):
        alarm_window(10_081)


# ------------------------------------------------------------------------------------------ bootstrap
def test_bootstrap_in_user_data_passes_shellcheck(default: dict[str, Any], variant: dict[str, Any]) -> None:
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck (Debian package) is needed: make system-deps"
    for which in (default, variant):
        script = user_data_script(which["template"])
        assert script.startswith("#!/bin/bash\n")
        result = subprocess.run(
            [shellcheck, "--shell=bash", "--severity=style", "-"],
            input=script,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stdout
        syntax = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True, timeout=30)
        assert syntax.returncode == 0, syntax.stderr


def test_user_data_carries_this_deployments_values(default: dict[str, Any]) -> None:
    template = default["template"]
    instance_id, instance = only(template, "AWS::EC2::Instance")
    script = user_data_script(template)
    assert f"export SIMLAB_LOGICAL_ID='{instance_id}'\n" in script
    assert "export SIMLAB_STACK_NAME='simlab-workspace'\n" in script
    assert f"export SIMLAB_RSTUDIO_VERSION='{posit.RSTUDIO_VERSION}'\n" in script
    assert f"export SIMLAB_RSTUDIO_KEY_FINGERPRINT='{posit.SIGNING_KEY_FINGERPRINT}'\n" in script
    assert (
        "export SIMLAB_RSTUDIO_DEB_URL='https://download2.rstudio.org/server/noble/amd64/"
        f"rstudio-server-{posit.RSTUDIO_VERSION}-amd64.deb'\n"
    ) in script
    assert "export SIMLAB_SECURE_COOKIES='1'\n" in script
    assert "\nset -euo pipefail\n" in script
    parts = instance["Properties"]["UserData"]["Fn::Base64"]["Fn::Join"][1]
    secret_id, _ = only(template, "AWS::SecretsManager::Secret")
    fs_id, _ = only(template, "AWS::EFS::FileSystem")
    assert {"Ref": secret_id} in parts
    assert {"Ref": fs_id} in parts


def test_the_hosts_pip_installs_are_pinned_to_the_tested_versions(default: dict[str, Any]) -> None:
    # Expected pins read from the files the test suite itself installs (requirements.txt) and the host's
    # two extras (requirements-host.txt), not from the code that renders them.
    root = Path(__file__).resolve().parents[2]
    tested = {
        line.split("==")[0]: line
        for line in (root / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    script = user_data_script(default["template"])
    exported = re.search(r"^export SIMLAB_PIP_CONSTRAINTS='([^']*)'$", script, re.M)
    assert exported is not None
    pins = set(exported.group(1).split())
    assert {tested[name] for name in ("boto3", "numpy", "numba", "matplotlib")} <= pins
    assert {"awscli==1.46.3", "sagemaker==2.257.7"} <= pins
    assert all(re.fullmatch(r"[a-z0-9_.-]+==[0-9][0-9a-z.]*", pin) for pin in pins), pins
    # and the script installs with them as constraints, never an unpinned `pip install`
    installs = [
        line
        for path in (bootstrap.SCRIPT, bootstrap.SETUP)
        for line in path.read_text().splitlines()
        if 'bin/pip" install' in line
    ]
    assert len(installs) == 3
    assert all('-c "$SIMLAB_HOME/constraints.txt"' in line for line in installs if "--upgrade pip" not in line)


def test_bootstrap_file_in_the_repository_passes_shellcheck() -> None:
    result = subprocess.run(
        ["shellcheck", "--severity=style", str(bootstrap.SCRIPT)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout


def test_render_refuses_values_that_could_break_out_of_quotes() -> None:
    assert bootstrap.render({"SIMLAB_A": "x"}, "#!/bin/bash\necho hi\n") == (
        "#!/bin/bash\n# Values of this deployment (written by stacks/workspace/bootstrap.py).\n"
        "export SIMLAB_A='x'\necho hi\n"
    )
    with pytest.raises(ValueError, match="quote"):
        bootstrap.render({"SIMLAB_A": "it's"}, "#!/bin/bash\n")
    with pytest.raises(ValueError, match="SIMLAB_NAME"):
        bootstrap.render({"PATH": "/tmp"}, "#!/bin/bash\n")


@pytest.mark.parametrize(
    ("instance_type", "arch"),
    [
        ("m6i.xlarge", "amd64"),
        ("m7g.large", "arm64"),
        ("c6gn.xlarge", "arm64"),
        ("t4g.medium", "arm64"),
        ("r8gd.2xlarge", "arm64"),
        ("g5.xlarge", "amd64"),
        ("m5zn.large", "amd64"),
    ],
)
def test_architecture_follows_the_instance_family(instance_type: str, arch: str) -> None:
    assert bootstrap.architecture(instance_type) == arch


def test_package_asset_holds_the_project_and_nothing_else(default: dict[str, Any]) -> None:
    asset = default["outdir"] / default["platform"].workspace.host.package.asset_path
    files = {p.relative_to(asset).as_posix() for p in asset.rglob("*") if p.is_file()}
    host_files = {
        "stacks/workspace/host-setup.sh",
        "stacks/workspace/verify-deb.sh",
        "stacks/workspace/credential_service.py",
        "stacks/workspace/welcome.R",
    }
    assert {"pyproject.toml", "simulation/__init__.py", "simulation/engine/montecarlo.py", *host_files} <= files
    # No CDK code: of stacks/, only the files the host itself runs.
    assert {f for f in files if f.startswith("stacks/")} == host_files
    assert not {
        f
        for f in files
        if f.startswith((".", "tests/", "node_modules/", "cdk.out/", "container/")) or "/." in f or "__pycache__" in f
    }


# -------------------------------------------------------------------------------------- nag, cfn-lint
def test_cdk_nag_reports_nothing_unacknowledged(default: dict[str, Any], variant: dict[str, Any]) -> None:
    for which in (default, variant):
        report = json.loads((which["outdir"] / "validation-report.json").read_text())
        assert report["pluginReports"] == []


# CDK's AwsCustomResource function states a DependsOn on its role that its GetAtt already implies.
CDK_CUSTOM_RESOURCE_W3005 = re.compile(r"^AWS679f53fac002430cb0da5b7982bd2287")


def test_cfn_lint_is_clean_on_the_workspace_templates(default: dict[str, Any], variant: dict[str, Any]) -> None:
    cfn_lint = shutil.which("cfn-lint") or str(Path(__file__).resolve().parents[2] / ".venv/bin/cfn-lint")
    paths = [str(w["outdir"] / w["platform"].workspace.template_file) for w in (default, variant)]
    result = subprocess.run([cfn_lint, "--format", "json", *paths], capture_output=True, text=True, timeout=300)
    findings = json.loads(result.stdout or "[]")
    unexplained = [
        f
        for f in findings
        if not (
            f["Rule"]["Id"] == "W3005"
            and f["Location"]["Path"][0] == "Resources"
            and CDK_CUSTOM_RESOURCE_W3005.match(f["Location"]["Path"][1])
        )
    ]
    assert unexplained == [], json.dumps(unexplained, indent=1)[:3000]
    assert result.returncode in (0, 4), result.stderr


def test_canonical_parameter_follows_the_architecture() -> None:
    from stacks.workspace.host import ubuntu_ami_parameter

    assert ubuntu_ami_parameter("arm64") == CANONICAL_AMD64.replace("amd64", "arm64")


def test_ami_parameter_setting_names_the_key_when_wrong() -> None:
    from stacks.settings import Settings, SettingsError

    with pytest.raises(SettingsError, match=r"^context key 'rstudio_ami_parameter': got 'ami-0abc'; allowed: empty"):
        Settings.from_context({"rstudio_ami_parameter": "ami-0abc"})
    assert Settings.from_context({"rstudio_ami_parameter": "/simlab/rstudio-ami"}).rstudio_ami_parameter == (
        "/simlab/rstudio-ami"
    )


def test_user_data_fits_ec2s_limit(default: dict[str, Any]) -> None:
    # EC2 refuses user data over 16 KB; tokens become IDs and ARNs of at most ~200 characters.
    parts = only(default["template"], "AWS::EC2::Instance")[1]["Properties"]["UserData"]["Fn::Base64"]["Fn::Join"][1]
    size = sum(len(p.encode()) if isinstance(p, str) else 200 for p in parts)
    assert size < 16 * 1024


@pytest.mark.parametrize(
    ("dpkg_version", "current"),
    [("2024.12.1+563", True), ("2024.12.1-563", True), ("2024.09.0+375", False), ("", False)],
)
def test_rstudio_counts_as_installed_in_dpkgs_spelling_of_the_version(
    tmp_path: Path, dpkg_version: str, current: bool
) -> None:
    # dpkg records Posit's "2024.12.1-563" as "2024.12.1+563"; comparing only the dash form made every
    # re-run download and reinstall RStudio Server.
    script = bootstrap.SETUP.read_text()
    function = re.search(r"^rstudio_is_current\(\) \{\n.*?^\}\n", script, re.M | re.S)
    assert function is not None
    stub = tmp_path / "dpkg-query"
    stub.write_text(f"#!/bin/sh\nprintf '%s' '{dpkg_version}'\n" if dpkg_version else "#!/bin/sh\nexit 1\n")
    stub.chmod(0o755)
    result = subprocess.run(
        ["bash", "-c", function.group(0) + "rstudio_is_current"],
        env={"PATH": f"{tmp_path}:/usr/bin:/bin", "SIMLAB_RSTUDIO_VERSION": "2024.12.1-563"},
        check=False,
    )
    assert (result.returncode == 0) is current
