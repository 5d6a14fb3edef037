"""Settings: every key's bad value fails with its exact one-line message; app.py turns it into exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from stacks.settings import DEFAULT_JOB_INSTANCE_TYPES, Settings, SettingsError
from tests.conftest import ROOT

TYPES = ", ".join(DEFAULT_JOB_INSTANCE_TYPES)

BAD_VALUES = [
    (
        "platform_name",
        "Sim_Lab",
        "context key 'platform_name': got 'Sim_Lab'; allowed: 2-20 lowercase letters and digits, starting with a "
        "letter (no '-': it separates a platform's job names from its users')",
    ),
    ("rstudio_mode", "docker", "context key 'rstudio_mode': got 'docker'; allowed: one of ec2, sagemaker, none"),
    (
        "rstudio_users",
        "alice:root",
        "context key 'rstudio_users': 'alice:root' has role 'root'; roles are admin or user (name, name:admin, "
        "name:user)",
    ),
    ("rstudio_auth", "ldap", "context key 'rstudio_auth': got 'ldap'; allowed: one of iam, sso"),
    (
        "rstudio_session_instance_type",
        "t3.medium",
        "context key 'rstudio_session_instance_type': got 't3.medium'; allowed: a SageMaker instance type such as "
        "ml.t3.medium",
    ),
    (
        "rstudio_connect_url",
        "connect.example.com",
        "context key 'rstudio_connect_url': got 'connect.example.com'; allowed: empty or an https:// URL",
    ),
    (
        "rstudio_package_manager_url",
        "http://ppm",
        "context key 'rstudio_package_manager_url': got 'http://ppm'; allowed: empty or an https:// URL",
    ),
    (
        "rstudio_license_product",
        "a/b",
        "context key 'rstudio_license_product': got 'a/b'; allowed: a License Manager product name such as "
        "RSW-SageMaker",
    ),
    ("rstudio_access", "vpn", "context key 'rstudio_access': got 'vpn'; allowed: one of cloudfront, ssm"),
    (
        "rstudio_allowed_cidrs",
        "10.0.0.1/8",
        "context key 'rstudio_allowed_cidrs': got '10.0.0.1/8'; allowed: IPv4 or IPv6 CIDRs with no host bits set, "
        "e.g. 203.0.113.0/24",
    ),
    (
        "rstudio_allowed_cidrs",
        "0.0.0.0/0",
        "context key 'rstudio_allowed_cidrs': got '0.0.0.0/0'; allowed: IPv4 networks of /8 or narrower, IPv6 of "
        "/32 or narrower (broader ones span unrelated organisations; 0.0.0.0/1 + 128.0.0.0/1 is the internet)",
    ),
    (
        # Two halves of the internet, each narrower than /0: the bound refuses the first.
        "rstudio_allowed_cidrs",
        "0.0.0.0/1,128.0.0.0/1",
        "context key 'rstudio_allowed_cidrs': got '0.0.0.0/1'; allowed: IPv4 networks of /8 or narrower, IPv6 of "
        "/32 or narrower (broader ones span unrelated organisations; 0.0.0.0/1 + 128.0.0.0/1 is the internet)",
    ),
    (
        "rstudio_allowed_cidrs",
        "2000::/3",
        "context key 'rstudio_allowed_cidrs': got '2000::/3'; allowed: IPv4 networks of /8 or narrower, IPv6 of "
        "/32 or narrower (broader ones span unrelated organisations; 0.0.0.0/1 + 128.0.0.0/1 is the internet)",
    ),
    (
        "rstudio_server_version",
        "2026.05",
        "context key 'rstudio_server_version': got '2026.05'; allowed: an RStudio Server release as Posit writes it, "
        "e.g. 2026.05.1-225 or 2026.05.1+225",
    ),
    (
        "rstudio_server_sha256",
        "ABC",
        "context key 'rstudio_server_sha256': got 'ABC'; allowed: empty or 64 lowercase hexadecimal digits "
        "(the SHA-256 Posit publishes for the .deb)",
    ),
    (
        "rstudio_domain_name",
        "RStudio_example",
        "context key 'rstudio_domain_name': got 'RStudio_example'; allowed: empty or a lowercase DNS name such as "
        "rstudio.example.org",
    ),
    (
        # A domain needs its certificate (and the certificate must be in us-east-1, CloudFront's region).
        "rstudio_certificate_arn",
        "arn:aws:acm:eu-west-1:123456789012:certificate/abc",
        "context key 'rstudio_certificate_arn': got 'arn:aws:acm:eu-west-1:123456789012:certificate/abc'; allowed: "
        "an ACM certificate ARN in us-east-1 (CloudFront's region), given together with rstudio_domain_name",
    ),
    ("budget_monthly_usd", "-5", "context key 'budget_monthly_usd': got '-5'; allowed: 0 (no budget) to 1000000"),
    (
        "budget_alert_email",
        "ops@example.org",
        "context key 'budget_alert_email': got 'ops@example.org'; allowed: an e-mail address when "
        "budget_monthly_usd is set, else empty",
    ),
    (
        "rstudio_allowed_cidrs",
        24,
        "context key 'rstudio_allowed_cidrs': got '24'; allowed: a list of strings (JSON list or comma-separated)",
    ),
    (
        "rstudio_instance_type",
        "huge",
        "context key 'rstudio_instance_type': got 'huge'; allowed: an EC2 instance type such as m6i.xlarge",
    ),
    (
        "rstudio_ami_parameter",
        "ami-0abc",
        "context key 'rstudio_ami_parameter': got 'ami-0abc'; allowed: empty (Canonical's current Ubuntu LTS) "
        "or an SSM parameter name such as /simlab/rstudio-ami",
    ),
    ("rstudio_volume_gb", "10", "context key 'rstudio_volume_gb': got '10'; allowed: an integer from 30 to 16384"),
    ("rstudio_volume_gb", "lots", "context key 'rstudio_volume_gb': got 'lots'; allowed: an integer"),
    (
        "rstudio_user",
        "root",
        "context key 'rstudio_user': got 'root'; allowed: a Linux user name (lowercase, up to 32 characters), "
        "not root, ubuntu, ssm-user, rstudio-server, nobody, daemon",
    ),
    (
        "rstudio_user",
        "nobody",
        "context key 'rstudio_user': got 'nobody'; allowed: a Linux user name (lowercase, up to 32 characters), "
        "not root, ubuntu, ssm-user, rstudio-server, nobody, daemon",
    ),
    (
        "rstudio_idle_stop_minutes",
        "20000",
        "context key 'rstudio_idle_stop_minutes': got '20000'; allowed: 0 (off) or minutes up to 10080 (a week)",
    ),
    (
        "rstudio_idle_cpu_percent",
        "100",
        "context key 'rstudio_idle_cpu_percent': got '100.0'; allowed: a percentage between 0 and 100",
    ),
    ("rstudio_idle_cpu_percent", "idle", "context key 'rstudio_idle_cpu_percent': got 'idle'; allowed: a number"),
    ("job_instance_types", "[]", "context key 'job_instance_types': got ''; allowed: a non-empty list of ml.* types"),
    (
        "job_instance_types",
        "ml.c5.xlarge,c5.2xlarge",
        "context key 'job_instance_types': got 'c5.2xlarge'; allowed: SageMaker instance types such as ml.c5.xlarge",
    ),
    (
        "job_default_instance_type",
        "ml.p3.2xlarge",
        f"context key 'job_default_instance_type': got 'ml.p3.2xlarge'; allowed: one of job_instance_types ({TYPES})",
    ),
    ("job_max_instances", "0", "context key 'job_max_instances': got '0'; allowed: an integer from 1 to 100"),
    (
        "job_max_runtime_seconds",
        "30",
        "context key 'job_max_runtime_seconds': got '30'; allowed: an integer from 60 to 432000 (SageMaker's limit)",
    ),
    (
        "vpc_cidr",
        "10.0.0.0/8",
        "context key 'vpc_cidr': got '10.0.0.0/8'; allowed: an IPv4 CIDR from /16 to /20, e.g. 10.42.0.0/16",
    ),
    ("nat_gateways", "3", "context key 'nat_gateways': got '3'; allowed: an integer from 0 to 2"),
    (
        "nat_gateways",
        "0",
        "context key 'nat_gateways': got '0'; the ec2 RStudio host needs at least 1 to install software "
        "(or set rstudio_mode=none)",
    ),
    ("delete_data_on_destroy", "yes", "context key 'delete_data_on_destroy': got 'yes'; allowed: true or false"),
    (
        "rstudio_workbench_version",
        "2022.02.2-485.pro2",
        "context key 'rstudio_workbench_version': got '2022.02.2-485.pro2'; allowed: a version AWS still supports: "
        "2026.08.2+200.pro1 (AWS lists 2022.02.2-485.pro2 as no longer supported)",
    ),
    # The landing-zone keys: more cases (the keys together, tags) in tests/landing/test_landing_settings.py.
    ("vpc_id", "vpc-1", "context key 'vpc_id': got 'vpc-1'; allowed: empty or a VPC ID such as vpc-0123456789abcdef0"),
    (
        "workspace_subnet_ids",
        "subnet-x",
        "context key 'workspace_subnet_ids': got 'subnet-x'; allowed: subnet IDs such as subnet-0123456789abcdef0",
    ),
    (
        "job_subnet_ids",
        "subnet-0123456789abcdef0",
        "context key 'vpc_id': got ''; allowed: given together with workspace_subnet_ids, job_subnet_ids and "
        "availability_zones (bring your own network: all four keys or none)",
    ),
    (
        "availability_zones",
        "west",
        "context key 'availability_zones': got 'west'; allowed: availability zone names such as eu-west-1a",
    ),
    ("interface_endpoints", "some", "context key 'interface_endpoints': got 'some'; allowed: one of all, none"),
    (
        "endpoint_azs",
        "3",
        "context key 'endpoint_azs': got '3'; allowed: 1 or 2 (availability zones that get each interface endpoint)",
    ),
    (
        "permissions_boundary_arn",
        "OrgBoundary",
        "context key 'permissions_boundary_arn': got 'OrgBoundary'; allowed: empty or an IAM managed policy ARN such "
        "as arn:aws:iam::123456789012:policy/OrgBoundary",
    ),
    (
        "iam_role_path",
        "simlab",
        "context key 'iam_role_path': got 'simlab'; allowed: empty or an IAM path that starts and ends with '/', such "
        "as /simlab/",
    ),
    (
        "tags",
        "user=alice",
        "context key 'tags': got 'user=alice'; allowed: keys other than platform and user (the platform sets those "
        "itself), not starting with aws: and each given once",
    ),
]


@pytest.mark.parametrize(("key", "value", "message"), BAD_VALUES, ids=[f"{k}={v}" for k, v, _ in BAD_VALUES])
def test_bad_value_names_key_value_and_what_is_allowed(key, value, message):
    with pytest.raises(SettingsError) as caught:
        Settings.from_context({key: value})
    assert str(caught.value) == message
    assert "\n" not in message


def test_every_settings_key_has_a_bad_value_case():
    keys = {f for f in Settings.__dataclass_fields__ if f != "overrides"}
    assert keys == {k for k, _, _ in BAD_VALUES}


def test_unknown_key_is_named():
    with pytest.raises(SettingsError, match=r"^unknown context key 'nat_gateway'; known keys: .*nat_gateways"):
        Settings.from_context({"nat_gateway": 1})


def test_cli_strings_are_coerced_and_cdk_keys_ignored():
    settings = Settings.from_context(
        {
            "nat_gateways": "2",
            "delete_data_on_destroy": "True",
            "rstudio_allowed_cidrs": "203.0.113.0/24, 2001:db8::/32",
            "job_max_runtime_seconds": 3600.0,
            "@aws-cdk/core:newStyleStackSynthesis": True,
            "aws:cdk:enable-path-metadata": True,
        }
    )
    assert settings.nat_gateways == 2
    assert settings.delete_data_on_destroy is True
    assert settings.rstudio_allowed_cidrs == ("203.0.113.0/24", "2001:db8::/32")
    assert settings.job_max_runtime_seconds == 3600


def test_settings_come_only_from_the_context_given():
    # cdk.json is the admin's (README: set rstudio_allowed_cidrs there); nothing in the tests reads its values.
    # An empty context gives the defaults written in Settings, e.g. no viewer networks and data kept on destroy.
    settings = Settings.from_context({})
    assert settings.rstudio_allowed_cidrs == ()
    assert settings.delete_data_on_destroy is False
    assert Settings.from_context({"rstudio_allowed_cidrs": ["198.51.100.0/24"]}).rstudio_allowed_cidrs == (
        "198.51.100.0/24",
    )


def test_app_prints_one_line_and_exits_2_on_a_bad_value(tmp_path):
    env = {
        **os.environ,
        "CDK_CONTEXT_JSON": json.dumps({"nat_gateways": "5"}),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "CDK_OUTDIR": str(tmp_path),
    }
    result = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: context key 'nat_gateways': got '5'; allowed: an integer from 0 to 2"
    ]
