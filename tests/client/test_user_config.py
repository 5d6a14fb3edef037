"""RStudio on SageMaker: the client in an RSession finds its user's job config from its own IAM role
($SIMLAB_JOB_CONFIG_PARAMETER=/<platform>/job-config/{role}), then names, tags and roles its jobs for that
user. moto's STS answers GetCallerIdentity for assumed-role credentials the way AWS does."""

from __future__ import annotations

import json

import pytest

from simulation.client import aws as client_aws
from simulation.client import list_jobs, submit_simulation
from simulation.client.config import load_config, role_name
from simulation.errors import SimulationError
from tests.client.conftest import JOB_CONFIG

ROLE = "simlab-workspace-UseraliceProfileRole040D6A15-Q1W2E3R4"
ALICE_JOB_ROLE = "arn:aws:iam::123456789012:role/simlab-workspace-UseraliceJobRoleBB4BC90A-Z9"


def _as_alice(aws, monkeypatch):
    sts = aws.client("sts")
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::123456789012:role/{ROLE}", RoleSessionName="SageMaker")[
        "Credentials"
    ]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", creds["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", creds["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", creds["SessionToken"])
    monkeypatch.setenv("SIMLAB_JOB_CONFIG_PARAMETER", "/simlab/job-config/{role}")
    monkeypatch.delenv("SIMLAB_USER", raising=False)
    client_aws.reset()
    config = dict(JOB_CONFIG, execution_role_arn=ALICE_JOB_ROLE, job_name_prefix="simlab-alice", user="alice")
    aws.client("ssm").put_parameter(
        Name=f"/simlab/job-config/{ROLE}", Value=json.dumps(config), Type="String", Overwrite=True
    )


def test_role_name_of_an_assumed_role_session_only():
    assert role_name("arn:aws:sts::123456789012:assumed-role/My-Role_1/SageMaker") == "My-Role_1"
    assert role_name("arn:aws:iam::123456789012:user/alice") is None


def test_rsession_jobs_use_the_users_role_prefix_and_tag(aws, monkeypatch):
    _as_alice(aws, monkeypatch)
    config = load_config()
    assert (config.execution_role_arn, config.name_prefix, config.user) == (ALICE_JOB_ROLE, "simlab-alice", "alice")
    job = submit_simulation(iterations=1000, resources={"name": "fit"})
    assert job.startswith("simlab-alice-fit-")
    request = aws.recorder.request("CreateProcessingJob")
    assert request["RoleArn"] == ALICE_JOB_ROLE
    assert {"Key": "user", "Value": "alice"} in request["Tags"]
    output = request["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
    assert output.startswith(f"s3://{aws.bucket}/jobs/simlab-alice-fit-")


def test_listing_keeps_to_the_users_prefix(aws, monkeypatch):
    _as_alice(aws, monkeypatch)
    submit_simulation(iterations=1000, resources={"name": "mine"})
    monkeypatch.delenv("SIMLAB_JOB_CONFIG_PARAMETER")
    client_aws.reset()
    # a job of the platform-wide config (no user prefix)
    submit_simulation(iterations=1000, resources={"name": "shared"})
    _as_alice(aws, monkeypatch)
    names = [row["job"] for row in list_jobs()]
    assert len(names) == 1
    assert names[0].startswith("simlab-alice-mine-")


def test_role_placeholder_outside_a_role_session_is_one_clear_error(aws, monkeypatch):
    monkeypatch.setenv("SIMLAB_JOB_CONFIG_PARAMETER", "/simlab/job-config/{role}")
    client_aws.reset()
    with pytest.raises(SimulationError, match=r"needs an IAM role session, but this session is arn:aws:"):
        load_config()


def test_on_the_ec2_host_jobs_carry_the_linux_login_of_the_submitter(aws, monkeypatch):
    """RStudio Server runs each user's R session under their own Linux account; with no per-user config the
    client tags jobs with that login (getpass reads LOGNAME first)."""
    monkeypatch.delenv("SIMLAB_USER", raising=False)
    monkeypatch.setenv("LOGNAME", "bob")
    submit_simulation(iterations=1000, resources={"name": "ec2"})
    assert {"Key": "user", "Value": "bob"} in aws.recorder.request("CreateProcessingJob")["Tags"]
