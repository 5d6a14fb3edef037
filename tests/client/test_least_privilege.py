"""Least privilege that works: every client path (CLI client and the SageMaker SDK path) under credentials
holding ONLY the submitter managed policy, rendered from the synthesized jobs template, with moto server's IAM
enforcement on (its INITIAL_NO_AUTH_ACTION_COUNT, set at run time through /moto-api/reset-auth after the
set-up requests). A missing permission fails the path that needs it; a permission no path uses fails
`test_the_policy_grants_nothing_the_client_does_not_use`, unless it is listed below with its reason.

What moto does not evaluate (also in the README): condition keys of service requests (VPC, isolation,
instance types, runtime, iam:PassedToService), iam:PassRole itself (an implicit permission of
CreateProcessingJob), and resource ARNs outside S3/IAM/STS/SQS (see submitter_policy.for_moto). Those
parts are asserted on the template in tests/infra/test_jobs.py.
"""

from __future__ import annotations

import contextlib
import io
import json
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest

from simulation.cli import main
from simulation.client import aws as client_aws
from simulation.client import images, results, sdk, status, submit, sweep, watch
from simulation.errors import SimulationError
from tests.client.helpers import run_local_job
from tests.client.submitter_policy import actions_of, for_moto, rendered

# Actions the client uses without a boto3 call of that name, each with why; anything else the policy grants
# must show up in the recorded requests of the paths below.
IMPLIED = {
    "iam:PassRole": "CreateProcessingJob passes the execution role (checked by IAM, not a request)",
    "sagemaker:AddTags": "CreateProcessingJob with Tags needs it (tag-on-create authorization)",
    "s3:AbortMultipartUpload": "boto3's upload_file aborts a failed multipart upload of a large code file",
    # the registry protocol of `docker/podman push` and `pull` (image build), not boto3 calls:
    "ecr:BatchCheckLayerAvailability": "docker/podman push and pull",
    "ecr:InitiateLayerUpload": "docker/podman push",
    "ecr:UploadLayerPart": "docker/podman push",
    "ecr:CompleteLayerUpload": "docker/podman push",
    "ecr:PutImage": "docker/podman push",
    "ecr:BatchGetImage": "docker/podman pull of the base image (FROM) and of a user's image",
    "ecr:GetDownloadUrlForLayer": "docker/podman pull",
}

# Requests a path makes, is denied, and gets along without: granting them would be an excess.
TOLERATED = {
    "s3:ListAllMyBuckets": "the SDK's default_bucket() looks for the bucket's creation date with ListBuckets; boto3 "
    "swallows AccessDenied there and the SDK goes on with HeadBucket (s3:ListBucket). Granting it would show "
    "every bucket of the account",
}

# What boto3 operations need from IAM where the two names differ (S3's documented action mapping).
S3_ACTIONS = {
    "ListBuckets": "s3:ListAllMyBuckets",
    "HeadBucket": "s3:ListBucket",
    "ListObjectsV2": "s3:ListBucket",
    "ListObjects": "s3:ListBucket",
    "HeadObject": "s3:GetObject",
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
}


def _iam_action(operation: str) -> str:
    service, name = operation.split(":", 1)
    if service == "s3":
        return S3_ACTIONS.get(name, f"s3:{name}")
    return operation


def _moto_auth(url: str, count: str) -> None:
    # not form-encoded: moto reads the raw body, which Flask empties for a form
    request = urllib.request.Request(
        f"{url}/moto-api/reset-auth", data=count.encode(), method="POST", headers={"Content-Type": "text/plain"}
    )
    urllib.request.urlopen(request, timeout=10).close()


@pytest.fixture(scope="module")
def submitter(synthesized) -> tuple[dict[str, Any], dict[str, Any]]:
    return rendered(synthesized)


class Enforced:
    def __init__(self, aws: Any, config: dict[str, Any], admin: boto3.session.Session) -> None:
        self.aws = aws
        self.config = config
        self.admin = admin

    def client(self, service: str) -> Any:
        """Test-side requests (seeding outputs, logs) as an administrator, under enforcement too."""
        return self.admin.client(service, endpoint_url=self.aws.url)


@pytest.fixture
def enforce(aws, submitter, monkeypatch) -> Iterator[Any]:
    """enforce(policy) -> the platform set up as admin, then IAM enforced with only `policy` on the caller."""
    active: list[bool] = []

    @contextmanager
    def start(policy: dict[str, Any]) -> Iterator[Enforced]:
        _, config = submitter
        aws.put_config(config)
        aws.client("s3").create_bucket(
            Bucket=config["bucket"], CreateBucketConfiguration={"LocationConstraint": aws.region}
        )
        repository = config["ecr_repository_uri"].split("/", 1)[1]
        aws.client("ecr").create_repository(repositoryName=repository, imageTagMutability="IMMUTABLE")
        iam = aws.client("iam")
        arn = iam.create_policy(PolicyName="submitter", PolicyDocument=json.dumps(for_moto(policy)))["Policy"]["Arn"]
        keys = {}
        for user in ("alice", "admin"):
            iam.create_user(UserName=user)
            keys[user] = iam.create_access_key(UserName=user)["AccessKey"]
        iam.attach_user_policy(UserName="alice", PolicyArn=arn)
        iam.put_user_policy(
            UserName="admin",
            PolicyName="all",
            PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
            ),
        )
        admin = boto3.session.Session(
            aws_access_key_id=keys["admin"]["AccessKeyId"],
            aws_secret_access_key=keys["admin"]["SecretAccessKey"],
            region_name=aws.region,
        )
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", keys["alice"]["AccessKeyId"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", keys["alice"]["SecretAccessKey"])
        monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
        client_aws.reset()
        aws.recorder.clear()
        _moto_auth(aws.url, "0")  # from here on every request is authenticated and authorized
        active.append(True)
        yield Enforced(aws, config, admin)

    try:
        yield start
    finally:
        if active:
            _moto_auth(aws.url, "inf")


def cli_paths(platform: Enforced, tmp_path: Path) -> None:
    """What `python -m simulation submit/watch/logs/results/sweep/jobs/stop` and `image build` call."""
    job = submit.submit_simulation(300, 200, 100, 6, 2500, 11, resources={"instance_count": 2})
    script = tmp_path / "own" / "main.R"
    script.parent.mkdir(parents=True)
    script.write_text('writeLines("0.5", file.path(Sys.getenv("OUTPUT_DIR"), "output_result_mean.txt"))\n')
    r_job = submit.submit_r_script(str(script), args=[1, 2])
    assert status.job_status(job)["status"] == "Completed"
    assert any(row["job"] == r_job for row in status.list_jobs())

    logs = platform.client("logs")
    group = platform.config["log_group"]
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=f"{job}/algo-1-1700000000")
    logs.put_log_events(
        logGroupName=group,
        logStreamName=f"{job}/algo-1-1700000000",
        logEvents=[{"timestamp": int(time.time() * 1000), "message": "block 0 done"}],
    )
    assert watch.job_logs(job) == 1
    watch.watch(job, logs=True, poll_seconds=0, sleep=lambda _: None)

    local = tmp_path / "local"
    expected = run_local_job(local, hosts=2)["mean"]
    s3 = platform.client("s3")
    for path in sorted(local.rglob("*")):
        if path.is_file():
            s3.upload_file(
                str(path), platform.config["bucket"], f"jobs/{job}/output/{path.relative_to(local).as_posix()}"
            )
    assert results.job_results(job, str(tmp_path / "results"))["mean"] == expected

    manifest = sweep.run_sweep([100, 200], [6], iterations=500, seed=3)
    assert manifest["sweep"]
    status.stop_job(job)

    # and through the command line's own front door
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        assert main(["jobs", "--json"]) == 0
        assert main(["submit", "--people", "100", "--iterations", "100", "--instance-type", "ml.m5.4xlarge"]) == 0
    assert r_job in printed.getvalue()

    uri = f"{platform.config['ecr_repository_uri']}:r-0123456789ab"
    assert images.already_pushed(_config(platform), uri) is False
    images.login("true", _config(platform), ["registry.invalid"])  # coreutils `true` stands in for the engine


def sdk_path(platform: Enforced, tmp_path: Path) -> str:
    from sagemaker.processing import ProcessingOutput

    tmp_path.mkdir(parents=True, exist_ok=True)
    code = tmp_path / "Social_Distancing_Simulations.R"
    code.write_text('writeLines("0.11", "/opt/ml/processing/output/output_result_mean.txt")\n')
    processor = sdk.script_processor(instance_type="ml.m5.4xlarge", base_job_name="social-distancing-simulation")
    processor.run(
        code=str(code),
        arguments=["--args", "1000", "1000", "1000", "10000", "0"],
        outputs=[ProcessingOutput(source="/opt/ml/processing/output")],
        wait=False,
        logs=False,
    )
    job = processor.latest_job.job_name
    assert processor.latest_job.describe()["ProcessingJobStatus"] == "Completed"
    return job


def _config(platform: Enforced) -> Any:
    from simulation.client.config import load_config

    return load_config()


def test_cli_client_works_under_only_the_submitter_policy(enforce, submitter, tmp_path):
    with enforce(submitter[0]) as platform:
        cli_paths(platform, tmp_path)


def test_sdk_path_works_under_only_the_submitter_policy(enforce, submitter, tmp_path):
    pytest.importorskip("sagemaker")
    with enforce(submitter[0]) as platform:
        job = sdk_path(platform, tmp_path)
        bucket = platform.config["bucket"]
        keys = platform.client("s3").list_objects_v2(Bucket=bucket, Prefix=f"jobs/{job}/")["Contents"]
        assert [k["Key"] for k in keys] == [f"jobs/{job}/input/code/Social_Distancing_Simulations.R"]


def test_enforcement_is_on(enforce, submitter):
    with enforce(submitter[0]) as platform:
        own = boto3.session.Session().client("sagemaker", endpoint_url=platform.aws.url)
        with pytest.raises(own.exceptions.ClientError, match="AccessDenied"):
            own.list_training_jobs()
        s3 = boto3.session.Session().client("s3", endpoint_url=platform.aws.url)
        with pytest.raises(s3.exceptions.ClientError, match="AccessDenied"):
            s3.list_objects_v2(Bucket=platform.aws.bucket)  # another bucket of the account


@pytest.mark.parametrize(
    ("missing", "path", "message"),
    [
        ("sagemaker:CreateProcessingJob", "cli", "creating job simlab-sim-"),
        ("ssm:GetParameter", "cli", "reading SSM parameter /simlab/job-config"),
        ("s3:PutObject", "sdk", "AccessDenied"),
        ("sagemaker:CreateProcessingJob", "sdk", "AccessDenied"),
    ],
)
def test_a_missing_permission_fails_the_path_that_needs_it(enforce, submitter, tmp_path, missing, path, message):
    policy = json.loads(json.dumps(submitter[0]))
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        statement["Action"] = [a for a in actions if a != missing] or ["sagemaker:DescribeDomain"]
    with enforce(policy) as platform, pytest.raises(Exception, match=message) as raised:
        cli_paths(platform, tmp_path) if path == "cli" else sdk_path(platform, tmp_path)
    if path == "cli":
        assert isinstance(raised.value, SimulationError)
        assert "\n" not in str(raised.value)


def test_the_policy_grants_nothing_the_client_does_not_use(enforce, submitter, tmp_path):
    pytest.importorskip("sagemaker")
    with enforce(submitter[0]) as platform:
        cli_paths(platform, tmp_path / "cli")
        sdk_path(platform, tmp_path / "sdk")
        used = {_iam_action(op) for op in platform.aws.recorder.operations()}
    granted = actions_of(submitter[0])
    assert used - granted == set(TOLERATED)  # anything else would have failed above under enforcement
    assert granted - used - set(IMPLIED) == set(), "granted but used by no client path: remove it or say why"
    assert set(IMPLIED) <= granted, "a reason kept for an action the policy no longer grants"
