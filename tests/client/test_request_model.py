"""Requests against SageMaker's own API model (botocore's), not only against moto, which accepts nearly anything.

conftest's session checks every request a test sends (`check_against_model`); these tests show that this
check bites, that each constraint family of CreateProcessingJob is enforced before anything is uploaded,
and that the requests of every kind of submission satisfy the model's name/argument/env patterns.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from simulation.cli import main
from simulation.client import Resources, run_sweep, submit_r_script, submit_simulation, values
from simulation.client import aws as client_aws
from simulation.client import request as client_request
from simulation.client import status as client_status
from simulation.client.config import parse_config
from simulation.client.resources import Resolved
from simulation.client.validation import check_request
from simulation.errors import JobFailed, SimulationError
from simulation.job.layout import CODE_DIR

SHAPES = botocore.session.get_session().get_service_model("sagemaker").shape_for("CreateProcessingJobRequest")


def _member(*path: str) -> Any:
    shape = SHAPES
    for name in path:
        shape = shape.members[name] if shape.type_name == "structure" else getattr(shape, name)
    return shape


def _sent(aws: Any) -> list[dict[str, Any]]:
    return [payload for _, name, payload in aws.recorder.calls if name == "CreateProcessingJob"]


def _a_request(aws: Any) -> dict[str, Any]:
    config = parse_config("simlab", __import__("json").dumps(aws.config))
    spec = client_request.JobSpec(
        job_name="simlab-sim-20261121-230005-beef",
        arguments=("simulate", "--people", "1000"),
        resources=Resolved(
            instance_type="ml.c5.xlarge",
            instance_count=2,
            volume_size_gb=10,
            max_runtime_seconds=3600,
            image_uri=aws.config["image_uri"],
        ),
        inputs=(("code", "s3://simlab-data-test/jobs/x/code/", CODE_DIR),),
        user="alice",
    )
    return client_request.processing_request(config, spec)


def test_every_kind_of_submission_satisfies_the_service_model(aws, tmp_path: Path):
    script = tmp_path / "sim" / "main.R"
    script.parent.mkdir()
    script.write_text("cat(commandArgs(trailingOnly = TRUE))\n")
    submit_simulation(people=1000, iterations=2000, seed=12345678901234567891, resources=Resources(instance_count=2))
    submit_r_script(str(script), args=["x" * 256, *range(95)])  # the longest argument, the most arguments
    run_sweep(people=[250, 500], radius=[3, 6], mode="job")
    run_sweep(people=[250], radius=[3, 6], mode="jobs")
    requests = _sent(aws)
    assert len(requests) == 5
    name = re.compile(_member("ProcessingJobName").metadata["pattern"])
    argument = _member("AppSpecification", "ContainerArguments", "member").metadata
    key = re.compile(_member("Environment", "key").metadata["pattern"])
    for request in requests:
        assert not ParamValidator().validate(request, SHAPES).has_errors()
        check_request("sagemaker", "CreateProcessingJob", request, enums=True)
        assert name.fullmatch(request["ProcessingJobName"])
        assert len(request["ProcessingJobName"]) <= 63
        arguments = request["AppSpecification"]["ContainerArguments"]
        assert 1 <= len(arguments) <= 100
        assert all(len(a) <= argument["max"] for a in arguments)
        assert all(key.fullmatch(k) and len(v) <= 256 for k, v in request["Environment"].items())
    assert "12345678901234567891" in requests[0]["AppSpecification"]["ContainerArguments"]  # not 1.2345678901e19


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda r: r.update(ProcessingJobName="simlab_sim"), "ProcessingJobName 'simlab_sim' does not match"),
        (lambda r: r.update(ProcessingJobName="s" * 64), "ProcessingJobName has 64 characters; at most 63"),
        (
            lambda r: r["AppSpecification"]["ContainerArguments"].append("a" * 257),
            "ContainerArguments[3] has 257 characters; at most 256",
        ),
        (
            lambda r: r["AppSpecification"].update(ContainerArguments=["a"] * 101),
            "ContainerArguments has 101 items; at most 100",
        ),
        (lambda r: r["Environment"].update({"1BAD": "x"}), "Environment key '1BAD' does not match"),
        (lambda r: r["Environment"].update(LONG="v" * 257), "Environment['LONG'] has 257 characters"),
        (lambda r: r["Tags"].append({"Key": "user", "Value": "CORP\\alice"}), "Tags[2].Value 'CORP\\\\alice'"),
        (
            lambda r: r["ProcessingResources"]["ClusterConfig"].update(VolumeSizeInGB=16385),
            "VolumeSizeInGB is 16385; the maximum is 16384",
        ),
        (lambda r: r["ProcessingResources"]["ClusterConfig"].update(InstanceCount=101), "the maximum is 100"),
        (lambda r: r["StoppingCondition"].update(MaxRuntimeInSeconds=777601), "the maximum is 777600"),
        (lambda r: r["ProcessingInputs"][0]["S3Input"].update(S3Uri="bucket/key"), "S3Uri 'bucket/key'"),
        (lambda r: r["NetworkConfig"]["VpcConfig"].update(Subnets=[]), "Subnets has 0 items; at least 1"),
        (lambda r: r.update(RoleArn="arn:aws:iam::1234:role/x"), "RoleArn 'arn:aws:iam::1234:role/x'"),
    ],
)
def test_each_constraint_of_the_model_is_enforced(aws, change, complaint):
    request = _a_request(aws)
    check_request("sagemaker", "CreateProcessingJob", request, enums=True)
    change(request)
    with pytest.raises(SimulationError, match="^SageMaker would refuse this job: ") as caught:
        check_request("sagemaker", "CreateProcessingJob", request, enums=True)
    assert complaint in str(caught.value)


def test_unknown_instance_types_are_left_to_the_allow_list_unless_enums_are_asked_for(aws):
    request = _a_request(aws)
    request["ProcessingResources"]["ClusterConfig"]["InstanceType"] = "ml.future.xlarge"
    check_request("sagemaker", "CreateProcessingJob", request)  # newer than this botocore: not ours to refuse
    with pytest.raises(SimulationError, match="InstanceType 'ml.future.xlarge' is not one of"):
        check_request("sagemaker", "CreateProcessingJob", request, enums=True)


def test_moto_does_not_get_to_accept_what_sagemaker_refuses(aws):
    """The conftest hook fails any test whose request breaks the model, even when moto would take it."""
    request = _a_request(aws)
    request["AppSpecification"]["ContainerArguments"] = ["a" * 300]
    with pytest.raises(AssertionError, match="ContainerArguments\\[0\\] has 300 characters"):
        client_aws.client("sagemaker", aws.region).create_processing_job(**request)
    assert aws.client("sagemaker").list_processing_jobs()["ProcessingJobSummaries"] == []


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["a" * 257], "ContainerArguments[4] has 257 characters; at most 256"),
        ([str(i) for i in range(97)], "ContainerArguments has 101 items; at most 100"),
    ],
)
def test_r_arguments_sagemaker_refuses_fail_before_the_folder_is_uploaded(aws, tmp_path: Path, capsys, args, complaint):
    script = tmp_path / "main.R"
    script.write_text("1\n")
    assert main(["submit", "--r-script", str(script), "--", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert complaint in err
    assert aws.recorder.operations() == ["ssm:GetParameter"]  # no upload, no job


def test_user_names_become_valid_tag_values(aws, monkeypatch):
    monkeypatch.setenv("SIMLAB_USER", "CORP\\alice#1")
    submit_simulation(iterations=10)
    (request,) = _sent(aws)
    assert {"Key": "user", "Value": "CORP-alice-1"} in request["Tags"]
    assert values.tag_value("") == "unknown"
    assert values.tag_value("é.ü@x y") == "é.ü@x y"  # letters of any script and spaces are allowed


def test_whole_numbers_are_exact_or_refused():
    assert values.as_int("12345678901234567891", "seed") == 12345678901234567891
    assert values.as_int(2.0, "count") == 2
    assert values.as_int("1e3", "iterations") == 1000
    assert values.as_int(2.0**53, "seed") == 2**53
    with pytest.raises(SimulationError, match="too large to be exact"):
        values.as_int(1e30, "seed")
    with pytest.raises(SimulationError, match="iterations must be at most 1000000000"):
        client_request.simulate_arguments(1000, 1000, 1000, 6, "1e12", 42)
    for bad in ("inf", float("nan")):
        with pytest.raises(SimulationError, match="hours must be a finite number"):
            __import__("simulation.client.cost", fromlist=["estimate"]).estimate("ml.c5.xlarge", 1, bad)


def test_a_failure_shows_the_containers_own_message_next_to_sagemakers_reason():
    status = {
        "job": "j",
        "status": "Failed",
        "failure_reason": "AlgorithmError: See job logs for more information",
        "exit_message": "people must be at least 2,\n got 1\n",
    }
    with pytest.raises(
        JobFailed,
        match=r"^job j Failed: AlgorithmError: See job logs for more information \| people must be at least 2, got 1$",
    ):
        client_status.raise_if_unsuccessful(status)
    same = {**status, "exit_message": "AlgorithmError: See job logs for more information"}
    assert client_status.failure_text(same) == "job j Failed: AlgorithmError: See job logs for more information"
