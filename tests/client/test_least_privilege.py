"""Least privilege that works: every client path (CLI client and the SageMaker SDK path) under credentials
holding ONLY one submitter managed policy, rendered from the synthesized templates, with moto server's IAM
enforcement on (its INITIAL_NO_AUTH_ACTION_COUNT, set at run time through /moto-api/reset-auth after the
set-up requests). Two identities: the platform's submitter (an IAM user holding it) and a SageMaker-mode
user, alice, whose RSession runs as her profile role (the client finds her job config from that role).
A missing permission fails the path that needs it; a permission no path uses fails
`test_the_policy_grants_everything_the_client_uses_and_nothing_else`, unless it is listed below with its reason.

moto does not evaluate condition keys (VPC, isolation, instance types, runtime, request tags,
iam:PassedToService, s3:prefix), iam:PassRole itself, or resource ARNs outside S3/IAM/STS/SQS (see
submitter_policy.for_moto). So every request the paths make is also evaluated against the full policy, its
ARNs and conditions included, by tests/client/iam_eval.py, the documented rules as a small fake.
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
from tests.client.iam_eval import NEEDS_NO_PERMISSION, Request, allowed, authorizations
from tests.client.submitter_policy import ACCOUNT, REGION, Submitter, actions_of, for_moto, rendered, rendered_user

# Actions the client uses without a boto3 call of that name, each with why; anything else the policy grants
# must show up in the recorded requests of the paths below.
IMPLIED = {
    "iam:PassRole": "CreateProcessingJob passes the execution role (checked by IAM, not a request)",
    "sagemaker:AddTags": "CreateProcessingJob with Tags needs it (tag-on-create authorization; iam_eval checks it)",
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

# Requests a path makes, is denied, and gets along without: granting them would be an excess (none today: the
# SDK's bucket probe, ListBuckets and a listing of the whole jobs/ prefix, is skipped by sdk.platform_session).
TOLERATED: dict[str, str] = {}

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


@pytest.fixture(scope="module", params=["platform", "alice"])
def submitter(request, synth_of) -> Submitter:
    """The platform's submitter (the same in every mode) or SageMaker-mode user alice's."""
    if request.param == "platform":
        return rendered(synth_of("ec2"))
    return rendered_user(synth_of("sagemaker"), request.param)


class Calls:
    """Every API request the client sends, with its parameters (what IAM authorizes it as depends on them)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict[str, Any]]] = []

    def __call__(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        kept = {key: value for key, value in params.items() if key != "Body"}
        self.seen.append((model.service_model.service_name, model.name, kept))

    def denied_by(self, policy: dict[str, Any]) -> list[tuple[str, Request]]:
        """(operation, authorization) of every request `policy` does not allow as IAM evaluates it."""
        denied = []
        for service, operation, params in self.seen:
            for needed in authorizations(service, operation, params, account=ACCOUNT, region=REGION):
                if not allowed(policy, needed):
                    denied.append((f"{service}:{operation}", needed))
        return denied


class Enforced:
    def __init__(self, aws: Any, config: dict[str, Any], admin: boto3.session.Session, calls: Calls) -> None:
        self.aws = aws
        self.config = config
        self.admin = admin
        self.calls = calls

    def client(self, service: str) -> Any:
        """Test-side requests (seeding outputs, logs) as an administrator, under enforcement too."""
        return self.admin.client(service, endpoint_url=self.aws.url)


@pytest.fixture
def enforce(aws, submitter, monkeypatch) -> Iterator[Any]:
    """enforce(policy) -> the platform set up as admin, then IAM enforced with only `policy` on the caller: an IAM
    user (the platform's submitter) or the submitter's role, assumed (a SageMaker-mode user's profile role)."""
    active: list[bool] = []

    @contextmanager
    def start(policy: dict[str, Any]) -> Iterator[Enforced]:
        config = submitter.config
        aws.client("ssm").put_parameter(
            Name=submitter.parameter, Value=json.dumps(config), Type="String", Overwrite=True
        )
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
        if submitter.role is None:
            iam.attach_user_policy(UserName="alice", PolicyArn=arn)
            monkeypatch.setenv("AWS_ACCESS_KEY_ID", keys["alice"]["AccessKeyId"])
            monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", keys["alice"]["SecretAccessKey"])
            monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
            if submitter.parameter != f"/{config['platform']}/job-config":
                raise AssertionError(f"an IAM user finds only /<platform>/job-config, not {submitter.parameter}")
        else:
            trust = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/admin"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
            role = iam.create_role(RoleName=submitter.role, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
            iam.attach_role_policy(RoleName=submitter.role, PolicyArn=arn)
            session = admin.client("sts", endpoint_url=aws.url).assume_role(
                RoleArn=role["Arn"], RoleSessionName="rsession"
            )["Credentials"]
            monkeypatch.setenv("AWS_ACCESS_KEY_ID", session["AccessKeyId"])
            monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", session["SecretAccessKey"])
            monkeypatch.setenv("AWS_SESSION_TOKEN", session["SessionToken"])
            # what the RSession image sets: the client fills in its own role (sts:GetCallerIdentity)
            template = submitter.parameter.replace(submitter.role, "{role}")
            monkeypatch.setenv("SIMLAB_JOB_CONFIG_PARAMETER", template)
        calls = Calls()
        recording = client_aws.new_session

        def recording_with_parameters() -> boto3.session.Session:
            session = recording()
            session.events.register("before-parameter-build", calls)
            return session

        monkeypatch.setattr(client_aws, "new_session", recording_with_parameters)
        client_aws.reset()
        aws.recorder.clear()
        _moto_auth(aws.url, "0")  # from here on every request is authenticated and authorized
        active.append(True)
        yield Enforced(aws, config, admin, calls)

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
    with enforce(submitter.policy) as platform:
        cli_paths(platform, tmp_path)


def test_sdk_path_works_under_only_the_submitter_policy(enforce, submitter, tmp_path):
    pytest.importorskip("sagemaker")
    with enforce(submitter.policy) as platform:
        job = sdk_path(platform, tmp_path)
        bucket = platform.config["bucket"]
        keys = platform.client("s3").list_objects_v2(Bucket=bucket, Prefix=f"jobs/{job}/")["Contents"]
        assert [k["Key"] for k in keys] == [f"jobs/{job}/input/code/Social_Distancing_Simulations.R"]


def test_enforcement_is_on(enforce, submitter):
    with enforce(submitter.policy) as platform:
        own = boto3.session.Session().client("sagemaker", endpoint_url=platform.aws.url)
        with pytest.raises(own.exceptions.ClientError, match="AccessDenied"):
            own.list_training_jobs()
        s3 = boto3.session.Session().client("s3", endpoint_url=platform.aws.url)
        with pytest.raises(s3.exceptions.ClientError, match="AccessDenied"):
            s3.list_objects_v2(Bucket=platform.aws.bucket)  # another bucket of the account


@pytest.mark.parametrize(
    ("missing", "path", "message"),
    [
        ("sagemaker:CreateProcessingJob", "cli", "creating job {prefix}-sim-"),
        ("ssm:GetParameter", "cli", "reading SSM parameter {parameter}"),
        ("s3:PutObject", "sdk", "AccessDenied"),
        ("sagemaker:CreateProcessingJob", "sdk", "AccessDenied"),
    ],
)
def test_a_missing_permission_fails_the_path_that_needs_it(enforce, submitter, tmp_path, missing, path, message):
    policy = json.loads(json.dumps(submitter.policy))
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        statement["Action"] = [a for a in actions if a != missing] or ["sagemaker:DescribeDomain"]
    prefix = submitter.config.get("job_name_prefix", submitter.config["platform"])
    message = message.format(prefix=prefix, parameter=submitter.parameter)
    with enforce(policy) as platform, pytest.raises(Exception, match=message) as raised:
        cli_paths(platform, tmp_path) if path == "cli" else sdk_path(platform, tmp_path)
    if path == "cli":
        assert isinstance(raised.value, SimulationError)
        assert "\n" not in str(raised.value)


def test_the_policy_grants_everything_the_client_uses_and_nothing_else(enforce, submitter, tmp_path):
    pytest.importorskip("sagemaker")
    with enforce(submitter.policy) as platform:
        cli_paths(platform, tmp_path / "cli")
        sdk_path(platform, tmp_path / "sdk")
        used = {_iam_action(op) for op in platform.aws.recorder.operations()} - NEEDS_NO_PERMISSION
    # Every request as IAM evaluates it, conditions and ARNs included (what moto leaves out).
    assert platform.calls.seen, "no request recorded: the evaluation below would pass vacuously"
    denied = platform.calls.denied_by(submitter.policy)
    assert [(op, needed.action) for op, needed in denied if needed.action not in TOLERATED] == [], denied
    granted = actions_of(submitter.policy)
    assert used - granted == set(TOLERATED)  # anything else would have failed above under enforcement
    assert granted - used - set(IMPLIED) == set(), "granted but used by no client path: remove it or say why"
    assert set(IMPLIED) <= granted, "a reason kept for an action the policy no longer grants"
