"""`cost --platform`: the fixed monthly bill of the settings cdk deploy would use, line by line. Expected figures
are worked out here by hand from the checked-in us-east-1 table (NAT $0.045/h, interface endpoint $0.01 per
AZ-hour, m6i.xlarge $0.192/h, gp3 $0.08/GB-month, EFS $0.30/GB-month, secret $0.40, alarm $0.10; 730 h)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from simulation.client import platform_cost, pricing
from stacks.settings import Settings
from tests.conftest import ROOT

LANDING = {
    "vpc_id": "vpc-0a1b2c3d4e5f60718",
    "workspace_subnet_ids": "subnet-0aaa1111bbbb2222c,subnet-0ddd3333eeee4444f",
    "job_subnet_ids": "subnet-0123456789abcdef0,subnet-0fedcba9876543210",
    "availability_zones": "us-east-1a,us-east-1b",
}


def bill(**context: object) -> dict:
    settings = Settings.from_context(context)
    prices = pricing.table("us-east-1", platform_cost.price_keys(settings))
    return platform_cost.platform_bill(settings, prices)


def amounts(result: dict) -> dict[str, float]:
    return {item["name"].split(":")[0]: item["monthly_usd"] for item in result["items"]}


def test_ec2_defaults_line_by_line():
    result = bill()
    assert amounts(result) == {
        "NAT gateways": 32.85,  # 1 x 730 h x 0.045
        "Interface endpoints": 131.40,  # 9 x 2 AZs x 730 h x 0.01
        "RStudio host m6i.xlarge": 42.24,  # 22 workdays x (8 h + 2 h idle wait) = 220 h x 0.192
        "RStudio host volume": 8.00,  # 100 GB x 0.08
        "Login secrets": 0.40,
        "Idle-stop alarm": 0.10,
        "EFS home directories": 3.00,  # 10 GB x 1 user x 0.30
    }
    assert result["monthly_usd"] == 217.99
    assert result["monthly_usd"] == pytest.approx(sum(i["monthly_usd"] for i in result["items"]))


def test_without_idle_stop_the_host_runs_all_month():
    assert amounts(bill(rstudio_idle_stop_minutes="0"))["RStudio host m6i.xlarge"] == 140.16  # 730 x 0.192


def test_the_jobs_only_mode_needs_no_interface_endpoint_and_is_told_about_its_idle_nat():
    result = bill(rstudio_mode="none")
    assert amounts(result) == {"NAT gateways": 32.85, "Interface endpoints": 0.0}
    assert "nat_gateways=0" in result["notes"][-1]
    assert bill(rstudio_mode="none", nat_gateways="0")["monthly_usd"] == 0.0


def test_sagemaker_mode_counts_its_eight_endpoints_and_the_free_server_app():
    result = bill(rstudio_mode="sagemaker", rstudio_users="alice,bob", endpoint_azs="1")
    assert amounts(result) == {
        "NAT gateways": 32.85,
        "Interface endpoints": 58.40,  # (6 + License Manager + SageMaker runtime) x 1 AZ x 730 h x 0.01
        "EFS home directories": 6.00,  # 2 users x 10 GB x 0.30
        "RStudioServerPro app on the 'system' instance": 0.0,
    }
    assert {u["name"]: u["usd"] for u in result["per_use"]}["RSession (ml.t3.medium)"] == 0.05


def test_a_landing_zone_pays_no_nat_and_no_endpoints_it_provides():
    result = bill(
        rstudio_mode="none",
        interface_endpoints="none",
        budget_monthly_usd="100",
        budget_alert_email="ops@example.org",
        **LANDING,
    )
    assert amounts(result) == {
        "NAT gateways": 0.0,
        "Interface endpoints": 0.0,
        "AWS Budget (free if among the account's first two budgets)": 0.61,
    }


def test_job_prices_cover_the_allowed_types():
    result = bill(job_instance_types="ml.c5.xlarge,ml.m5.4xlarge", job_default_instance_type="ml.c5.xlarge")
    assert [(j["instance_type"], j["usd_per_hour"]) for j in result["job_prices"]] == [
        ("ml.c5.xlarge", 0.204),
        ("ml.m5.4xlarge", 0.922),
    ]


def cli(*args: str, cwd=ROOT) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), "AWS_EC2_METADATA_DISABLED": "true"}
    return subprocess.run(
        [sys.executable, "-m", "simulation", "cost", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_command_reads_cdk_json_then_the_overrides(tmp_path):
    (tmp_path / "cdk.json").write_text(json.dumps({"app": "x", "context": {"rstudio_mode": "none", "nat_gateways": 2}}))
    result = cli(
        "--platform",
        "--json",
        "--prices",
        "table",
        "--region",
        "us-east-1",
        "-c",
        "nat_gateways=1",
        "--cdk-json",
        str(tmp_path / "cdk.json"),
    )
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["monthly_usd"] == 32.85  # one NAT gateway (the override), no endpoints (cdk.json's mode)
    assert [set(i) >= {"name", "monthly_usd"} for i in printed["items"]] == [True, True]
    text = cli("--platform", "--prices", "table", "--region", "eu-west-1", cwd=tmp_path).stdout
    # From another folder: that folder's cdk.json (2 NAT gateways), eu-west-1's table price: 2 x 730 x 0.048.
    assert "$    70.08  NAT gateways: 2 x 730 h" in text


def test_a_bad_setting_is_one_line_and_exit_2():
    result = cli("--platform", "-c", "endpoint_azs=3")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: context key 'endpoint_azs': got '3'; allowed: 1 or 2 (availability zones that get each interface "
        "endpoint)"
    ]
