"""A moto server over HTTP on 127.0.0.1, seeded with the platform's job config, plus request recording.

The client's boto3 session comes from `simulation.client.aws.new_session`; the `aws` fixture replaces it
with one whose `before-call` hook records every request (service, operation, parameters), so a test can
show both what was sent and that nothing was sent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.validate import ParamValidator

from rehearsal.emulator import moto_server
from simulation.client import aws as client_aws
from simulation.client.validation import check_request
from simulation.errors import SimulationError

REGION = "eu-west-1"
BUCKET = "simlab-data-test"
PLATFORM = "simlab"
ROOT = Path(__file__).resolve().parents[2]

JOB_CONFIG: dict[str, Any] = {
    "platform": PLATFORM,
    "region": REGION,
    "image_uri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/cdk-hnb659fds-container-assets:abc123",
    "execution_role_arn": "arn:aws:iam::123456789012:role/simlab-job-execution",
    "bucket": BUCKET,
    "subnet_ids": ["subnet-0aaa", "subnet-0bbb"],
    "security_group_ids": ["sg-0ccc"],
    "allowed_instance_types": ["ml.c5.xlarge", "ml.m5.4xlarge"],
    "default_instance_type": "ml.c5.xlarge",
    "max_instances": 4,
    "max_runtime_seconds": 7200,
    "ecr_repository_uri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/simlab-user-images",
    "log_group": "/aws/sagemaker/ProcessingJobs",
}


@pytest.fixture(scope="session")
def moto_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One moto server for the session (rehearsal/emulator.py starts it, as for the deploy rehearsal)."""
    with moto_server(tmp_path_factory.mktemp("moto")) as emulator:
        yield emulator.url


def aws_environment(moto_url: str, home: Path) -> dict[str, str]:
    """What a process needs to talk to moto only: endpoint, dummy credentials, no user config files."""
    return {
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(home / "aws-config-absent"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws-credentials-absent"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "SIMLAB_USER": "alice",
    }


@dataclass
class Recorder:
    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        service = model.service_model.service_name
        body = params.get("body")
        payload: dict[str, Any] = {}
        if isinstance(body, (bytes, str)) and body[:1] in (b"{", "{"):
            payload = json.loads(body)
        self.calls.append((service, model.name, payload))

    def operations(self) -> list[str]:
        return [f"{service}:{name}" for service, name, _ in self.calls]

    def request(self, operation: str) -> dict[str, Any]:
        matches = [payload for _, name, payload in self.calls if name == operation]
        assert len(matches) == 1, f"expected one {operation}, saw {self.operations()}"
        return matches[0]

    def clear(self) -> None:
        self.calls.clear()


def check_against_model(params: dict[str, Any], model: Any, **_: Any) -> None:
    """moto accepts requests the real service refuses: every request a test sends must pass botocore's own
    validator and every min/max/pattern/enum of the service model, or the test fails right there."""
    report = ParamValidator().validate(params, model.input_shape)
    assert not report.has_errors(), report.generate_report()
    service = model.service_model.service_name
    try:
        check_request(service, model.name, params, enums=True)
    except SimulationError as error:
        raise AssertionError(f"{service}:{model.name}: {error}") from None


@dataclass
class Aws:
    url: str
    env: dict[str, str]
    recorder: Recorder
    config: dict[str, Any] = field(default_factory=lambda: dict(JOB_CONFIG))
    bucket: str = BUCKET
    region: str = REGION

    def client(self, service: str) -> Any:
        return boto3.session.Session(region_name=REGION).client(service, endpoint_url=self.url)

    def put_config(self, config: dict[str, Any] | None = None, platform: str = PLATFORM) -> None:
        self.client("ssm").put_parameter(
            Name=f"/{platform}/job-config", Value=json.dumps(config or JOB_CONFIG), Type="String", Overwrite=True
        )

    def keys(self, prefix: str) -> list[str]:
        page = self.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=prefix)
        return sorted(item["Key"] for item in page.get("Contents", []))

    def upload_tree(self, directory: Path, prefix: str) -> None:
        s3 = self.client("s3")
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                s3.upload_file(str(path), BUCKET, prefix + path.relative_to(directory).as_posix())


@pytest.fixture
def aws(moto_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    """A clean moto (reset through its API), the job config and bucket in place, requests recorded."""
    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST"), timeout=10).close()
    env = aws_environment(moto_url, tmp_path)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("SIMLAB_PLATFORM", raising=False)
    monkeypatch.chdir(tmp_path)
    recorder = Recorder()

    def recording_session() -> boto3.session.Session:
        session = boto3.session.Session()
        session.events.register("before-parameter-build", check_against_model)
        session.events.register("before-call", recorder)
        return session

    monkeypatch.setattr(client_aws, "new_session", recording_session)
    client_aws.reset()
    fixture = Aws(moto_url, env, recorder)
    fixture.put_config()
    fixture.client("s3").create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    yield fixture
    client_aws.reset()


def emulate_job(fixture: Aws, request: dict[str, Any], work: Path, hosts: int | None = None) -> None:
    """Run a captured CreateProcessingJob request the way SageMaker would, on this machine.

    Each host gets an /opt/ml tree (OPT_ML_ROOT) with its resourceconfig.json and the request's inputs
    downloaded from S3, runs the request's entrypoint and arguments, and uploads its output folder to the
    request's S3 output prefix. moto only records jobs; this makes their outputs real.
    """
    count = hosts or request["ProcessingResources"]["ClusterConfig"]["InstanceCount"]
    names = [f"algo-{i}" for i in range(1, count + 1)]
    s3 = fixture.client("s3")
    output = request["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]
    assert output["LocalPath"] == "/opt/ml/processing/output"
    out_bucket, out_prefix = output["S3Uri"][len("s3://") :].split("/", 1)
    entry = request["AppSpecification"]["ContainerEntrypoint"]
    assert entry[:3] == ["python3", "-m", "simulation.processing"]
    for host in names:
        tree = work / host
        (tree / "config").mkdir(parents=True)
        (tree / "config" / "resourceconfig.json").write_text(json.dumps({"current_host": host, "hosts": names}))
        (tree / "processing" / "output").mkdir(parents=True)
        for item in request.get("ProcessingInputs", []):
            source = item["S3Input"]
            local = tree / Path(source["LocalPath"]).relative_to("/opt/ml")
            bucket, prefix = source["S3Uri"][len("s3://") :].split("/", 1)
            for entry_ in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []):
                target = local / entry_["Key"][len(prefix) :]
                target.parent.mkdir(parents=True, exist_ok=True)
                s3.download_file(bucket, entry_["Key"], str(target))
        args = [str(a).replace("/opt/ml", str(tree)) for a in request["AppSpecification"]["ContainerArguments"]]
        env = {**os.environ, **request.get("Environment", {}), "OPT_ML_ROOT": str(tree)}
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "simulation.processing",
                *args,
                *(["--workers", "1"] if args[0] != "rscript" else []),
            ],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr
        for path in sorted((tree / "processing" / "output").rglob("*")):
            if path.is_file():
                relative = path.relative_to(tree / "processing" / "output").as_posix()
                s3.upload_file(str(path), out_bucket, out_prefix + relative)


@pytest.fixture
def emulate() -> Any:
    return emulate_job


@pytest.fixture(scope="session")
def r_library(tmp_path_factory) -> Path:
    """The simjobs R package installed once per session into a temporary library."""
    library = tmp_path_factory.mktemp("rlib")
    completed = subprocess.run(
        ["R", "CMD", "INSTALL", "--no-test-load", "-l", str(library), str(ROOT / "R" / "simjobs")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return library
