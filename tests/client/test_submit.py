"""submit against moto over HTTP: the CreateProcessingJob request as sent, code in S3, and refusals."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from simulation.cli import main
from simulation.client import Resources, request, submit_r_script, submit_simulation
from simulation.client.resources import DEFAULT_VOLUME_GB
from simulation.errors import SimulationError


def test_simulation_job_request_has_the_platforms_network_role_image_and_arguments(aws):
    job = submit_simulation(
        width=1000.0,
        height=800,
        people=500.0,
        radius=6,
        iterations=2000.0,
        seed=7.0,
        resources=Resources(instance_type="ml.m5.4xlarge", instance_count=3.0),
    )
    sent = aws.recorder.request("CreateProcessingJob")
    assert sent["ProcessingJobName"] == job
    assert sent["RoleArn"] == aws.config["execution_role_arn"]
    assert sent["AppSpecification"] == {
        "ImageUri": aws.config["image_uri"],
        "ContainerEntrypoint": ["python3", "-m", "simulation.processing"],
        "ContainerArguments": [
            "simulate",
            "--width",
            "1000",
            "--height",
            "800",
            "--people",
            "500",
            "--radius",
            "6",
            "--iterations",
            "2000",
            "--seed",
            "7",
        ],
    }
    assert sent["NetworkConfig"]["EnableNetworkIsolation"] is True
    assert sent["NetworkConfig"]["VpcConfig"] == {
        "SecurityGroupIds": ["sg-0ccc"],
        "Subnets": ["subnet-0aaa", "subnet-0bbb"],
    }
    assert sent["ProcessingResources"]["ClusterConfig"] == {
        "InstanceCount": 3,
        "InstanceType": "ml.m5.4xlarge",
        "VolumeSizeInGB": DEFAULT_VOLUME_GB,
    }
    assert sent["StoppingCondition"] == {"MaxRuntimeInSeconds": 7200}  # 4 h default capped by the platform's 2 h
    assert sent["ProcessingOutputConfig"]["Outputs"][0]["S3Output"] == {
        "S3Uri": f"s3://{aws.bucket}/jobs/{job}/output/",
        "LocalPath": "/opt/ml/processing/output",
        "S3UploadMode": "Continuous",
    }
    assert sent["Environment"]["SIMLAB_IMAGE_TAG"] == "abc123"
    assert {t["Key"]: t["Value"] for t in sent["Tags"]} == {"platform": "simlab", "user": "alice"}
    assert aws.recorder.operations() == ["ssm:GetParameter", "sagemaker:CreateProcessingJob"]
    described = aws.client("sagemaker").describe_processing_job(ProcessingJobName=job)
    assert described["AppSpecification"]["ContainerArguments"][0] == "simulate"
    assert described["RoleArn"] == aws.config["execution_role_arn"]


def test_r_script_folder_lands_under_the_job_prefix_and_is_an_input(aws, tmp_path: Path):
    folder = tmp_path / "analysis"
    (folder / "data").mkdir(parents=True)
    (folder / "main.R").write_text("cat('hi')\n")
    (folder / "data" / "input.csv").write_text("a,b\n1,2\n")
    (folder / ".Rhistory").write_text("secret history\n")
    job = submit_r_script(str(folder / "main.R"), args=["--n", 2.0, "x"], resources={"instance_count": 2})
    assert aws.keys(f"jobs/{job}/") == [f"jobs/{job}/code/data/input.csv", f"jobs/{job}/code/main.R"]
    sent = aws.recorder.request("CreateProcessingJob")
    assert sent["AppSpecification"]["ContainerArguments"] == ["rscript", "--script", "main.R", "--", "--n", "2", "x"]
    assert sent["ProcessingInputs"] == [
        {
            "InputName": "code",
            "S3Input": {
                "S3Uri": f"s3://{aws.bucket}/jobs/{job}/code/",
                "LocalPath": "/opt/ml/processing/input/code",
                "S3DataType": "S3Prefix",
                "S3InputMode": "File",
                "S3DataDistributionType": "FullyReplicated",
            },
        }
    ]
    assert sent["ProcessingResources"]["ClusterConfig"]["InstanceCount"] == 2


def test_job_names_are_unique_valid_and_carry_the_platform():
    now = datetime(2026, 11, 21, 23, 0, 5, tzinfo=timezone.utc)
    assert request.make_job_name("simlab", "sim", now=now, token="beef") == "simlab-sim-20261121-230005-beef"
    long = request.make_job_name("simlab", "a" * 60, now=now)
    assert len(long) == 63
    assert re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9])*", long)
    names = {request.make_job_name("simlab", "sim") for _ in range(200)}
    assert len(names) == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--instance-type", "ml.p4d.24xlarge"], "instance type 'ml.p4d.24xlarge' is not allowed"),
        (["--instance-count", "5"], "instance count must be at most 4"),
        (["--instance-count", "0"], "instance count must be at least 1"),
        (["--instance-count", "1.5"], "instance count must be a whole number"),
        (["--name", "bad_name!"], "invalid job name 'bad_name!'"),
        (["--people", "1"], "people must be at least 2"),
        (["--max-runtime", "90000"], "max runtime (seconds) must be at most 7200"),
    ],
)
def test_bad_submissions_are_one_line_exit_2_and_create_nothing(aws, capsys, args, message):
    assert main(["submit", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert message in err
    # Reading the configuration is the only request allowed before refusing; nothing is created.
    assert set(aws.recorder.operations()) <= {"ssm:GetParameter"}
    assert aws.client("sagemaker").list_processing_jobs()["ProcessingJobSummaries"] == []


def test_name_count_and_parameter_errors_do_not_even_read_the_config(aws):
    for call in (
        lambda: submit_simulation(resources={"name": "-leading-hyphen"}),
        lambda: submit_simulation(resources={"instance_count": 0}),
        lambda: submit_simulation(iterations=2.5),
    ):
        with pytest.raises(SimulationError):
            call()
    assert aws.recorder.operations() == []


def test_missing_config_names_the_stack_to_deploy(aws, capsys, monkeypatch):
    monkeypatch.setenv("SIMLAB_PLATFORM", "otherlab")
    assert main(["submit"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "error: no job configuration at SSM parameter /otherlab/job-config: deploy the `otherlab-jobs` stack "
        "(or pick another platform with --platform / $SIMLAB_PLATFORM)\n"
    )
    assert aws.recorder.operations() == ["ssm:GetParameter"]


def test_platform_flag_selects_another_config(aws, capsys):
    aws.put_config(
        {
            **aws.config,
            "platform": "lab2",
            "allowed_instance_types": ["ml.t3.large"],
            "default_instance_type": "ml.t3.large",
        },
        platform="lab2",
    )
    assert main(["submit", "--platform", "lab2", "--iterations", "10", "--json"]) == 0
    sent = aws.recorder.request("CreateProcessingJob")
    assert sent["ProcessingJobName"].startswith("lab2-sim-")
    assert sent["ProcessingResources"]["ClusterConfig"]["InstanceType"] == "ml.t3.large"
    assert aws.region in aws.env["AWS_DEFAULT_REGION"]


def test_r_script_outside_its_folder_is_refused_before_any_call(aws, tmp_path: Path, capsys):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "main.R").write_text("1\n")
    assert main(["submit", "--r-script", str(tmp_path / "b" / "main.R"), "--folder", str(tmp_path / "a")]) == 2
    assert "is not inside the folder" in capsys.readouterr().err
    assert aws.recorder.operations() == []


def test_a_file_given_as_the_folder_is_named_as_such(aws, tmp_path: Path, capsys):
    (tmp_path / "main.R").write_text("1\n")
    assert main(["submit", "--r-script", "main.R", "--folder", str(tmp_path / "main.R")]) == 2
    assert capsys.readouterr().err == f"error: folder {tmp_path / 'main.R'} is not a folder\n"
    assert aws.recorder.operations() == []


def test_an_upload_refused_by_s3_is_one_line_and_no_job_is_created(aws, tmp_path: Path, capsys):
    aws.put_config({**aws.config, "bucket": "bucket-that-does-not-exist"})
    (tmp_path / "main.R").write_text("1\n")
    assert main(["submit", "--r-script", str(tmp_path / "main.R")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: uploading {tmp_path / 'main.R'}: ")
    assert err.count("\n") == 1
    assert "sagemaker:CreateProcessingJob" not in aws.recorder.operations()
