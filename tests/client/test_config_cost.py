"""Discovery of the job configuration (pure parsing + platform choice) and the cost estimate."""

from __future__ import annotations

import json

import pytest

from simulation.cli import main
from simulation.client import config as cfg
from simulation.client import cost, values
from simulation.errors import SimulationError

VALID = {
    "platform": "simlab",
    "region": "eu-west-1",
    "image_uri": "1.dkr.ecr.eu-west-1.amazonaws.com/repo@sha256:feed",
    "execution_role_arn": "arn:aws:iam::1:role/r",
    "bucket": "b",
    "subnet_ids": ["subnet-1"],
    "security_group_ids": ["sg-1"],
    "allowed_instance_types": ["ml.c5.xlarge"],
    "default_instance_type": "ml.c5.xlarge",
    "max_instances": 20.0,
    "max_runtime_seconds": 86400,
}


def test_config_parses_and_derives_the_image_tag():
    config = cfg.parse_config("simlab", json.dumps(VALID))
    assert config.max_instances == 20
    assert config.subnet_ids == ("subnet-1",)
    assert config.log_group == "/aws/sagemaker/ProcessingJobs"
    assert cfg.image_tag(config.image_uri) == "sha256:feed"
    tagged = cfg.parse_config("simlab", json.dumps({**VALID, "image_uri": "host:5000/repo:v7"}))
    assert cfg.image_tag(tagged.image_uri) == "v7"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "SSM parameter /simlab/job-config is not JSON"),
        ("[1]", "must hold a JSON object"),
        (json.dumps({k: v for k, v in VALID.items() if k not in ("bucket", "subnet_ids")}), "lacks bucket, subnet_ids"),
        (json.dumps({**VALID, "max_instances": "many"}), "has a malformed value"),
        (json.dumps({**VALID, "security_group_ids": []}), "names no subnets or security groups"),
    ],
)
def test_a_broken_config_names_the_problem_and_the_stack(text, message):
    with pytest.raises(SimulationError, match=message):
        cfg.parse_config("simlab", text)


def test_platform_comes_from_the_flag_then_the_environment_then_the_default(monkeypatch):
    monkeypatch.delenv("SIMLAB_PLATFORM", raising=False)
    assert cfg.platform_name(None) == "simlab"
    monkeypatch.setenv("SIMLAB_PLATFORM", "lab7")
    assert cfg.platform_name(None) == "lab7"
    assert cfg.platform_name("other") == "other"


def test_cost_is_instance_hours_times_the_table_and_flags_unknown_types(capsys):
    estimate = cost.estimate("ml.m5.4xlarge", 2.0, 0.5)
    # AWS's SageMaker pricing page (Processing, us-east-1, on demand, 2024): ml.m5.4xlarge $0.922 per hour;
    # 2 instances x 0.5 h = 1 instance-hour
    assert estimate["usd"] == pytest.approx(0.922)
    assert estimate["instance_hours"] == 1.0
    table = ["--region", "us-east-1", "--prices", "table"]
    assert (
        main(["cost", "--instance-type", "ml.c5.xlarge", "--instance-count", "3", "--minutes", "20", "--json", *table])
        == 0
    )
    printed = json.loads(capsys.readouterr().out)
    assert printed["usd"] == pytest.approx(0.204)
    assert printed["price_region"] == "us-east-1"
    assert printed["price_source"] == "table of 2024 (us-east-1)"
    assert main(["cost", "--instance-type", "ml.x9.huge", *table]) == 0
    assert "unknown: no price for ml.x9.huge in us-east-1" in capsys.readouterr().out
    with pytest.raises(SimulationError, match="instance count must be at least 1"):
        cost.estimate("ml.c5.xlarge", 0)


def test_cost_without_a_type_uses_the_platforms_default(aws, capsys):
    assert main(["cost", "--hours", "2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["instance_type"] == "ml.c5.xlarge"


def test_whole_numbers_from_r_are_accepted_and_fractions_refused():
    assert values.as_int(2.0, "n") == 2
    assert values.as_int("3", "n") == 3
    for bad in (2.5, True, "x", None):
        with pytest.raises(SimulationError, match="n must be a whole number"):
            values.as_int(bad, "n")


def test_submit_and_wait_over_moto_ends_with_how_to_fetch(aws, capsys):
    assert main(["submit", "--iterations", "10", "--wait", "--no-logs"]) == 0
    captured = capsys.readouterr()
    job = captured.out.strip()
    assert f"{job}: Completed" in captured.err
    assert f"fetch it with: python -m simulation results {job}" in captured.err
    assert "cost ceiling at the 7200 s limit: ~$0.41" in captured.err
