"""The SageMaker Python SDK path (sagemaker 2.x) against moto server: `script_processor(...).run(wait=False)`
uploads the code into the platform bucket and creates a job confined like the CLI's.

Expected values come from the job config fixture (JOB_CONFIG) and from the SDK's documented layout
(`s3://<default_bucket>/<default_bucket_prefix>/<job>/input/code/<file>`, outputs `.../output/<name>`),
never from the module under test.
"""

from __future__ import annotations

import pytest

from simulation.client import sdk
from simulation.errors import SimulationError

sagemaker = pytest.importorskip("sagemaker")
from sagemaker.processing import ProcessingOutput  # noqa: E402

SCRIPT = 'writeLines("0.11", file.path("/opt/ml/processing/output", "output_result_mean.txt"))\n'


def _run(processor, tmp_path):
    code = tmp_path / "Social_Distancing_Simulations.R"
    code.write_text(SCRIPT)
    processor.run(
        code=str(code),
        arguments=["--args", "1000", "1000", "1000", "10000", "0"],
        outputs=[ProcessingOutput(source="/opt/ml/processing/output")],
        wait=False,
        logs=False,
    )
    return processor.latest_job.job_name


def test_run_creates_a_confined_job_with_code_in_the_platform_bucket(aws, tmp_path):
    processor = sdk.script_processor(
        instance_type="ml.m5.4xlarge", instance_count=2, base_job_name="social-distancing-simulation"
    )
    job = _run(processor, tmp_path)

    assert job.startswith("simlab-social-distancing-simulation-")  # listed and IAM-scoped by the platform prefix
    assert len(job) <= 63
    request = aws.recorder.request("CreateProcessingJob")
    assert request["RoleArn"] == aws.config["execution_role_arn"]
    assert request["NetworkConfig"] == {
        "EnableNetworkIsolation": True,
        "EnableInterContainerTrafficEncryption": True,
        "VpcConfig": {"SecurityGroupIds": ["sg-0ccc"], "Subnets": ["subnet-0aaa", "subnet-0bbb"]},
    }
    cluster = request["ProcessingResources"]["ClusterConfig"]
    assert (cluster["InstanceType"], cluster["InstanceCount"], cluster["VolumeSizeInGB"]) == ("ml.m5.4xlarge", 2, 10)
    # no runtime given: the client's 4 h default, capped by the platform's 7200 s
    assert request["StoppingCondition"] == {"MaxRuntimeInSeconds": 7200}
    assert request["AppSpecification"]["ImageUri"] == aws.config["image_uri"]
    assert request["AppSpecification"]["ContainerEntrypoint"] == [
        "Rscript",
        "/opt/ml/processing/input/code/Social_Distancing_Simulations.R",
    ]
    assert request["AppSpecification"]["ContainerArguments"] == ["--args", "1000", "1000", "1000", "10000", "0"]
    assert request["Environment"] == {
        "SIMLAB_IMAGE_TAG": "abc123",
        "SIMLAB_PLATFORM": "simlab",
        "OUTPUT_DIR": "/opt/ml/processing/output",
    }
    assert {t["Key"]: t["Value"] for t in request["Tags"]} == {"platform": "simlab", "user": "alice"}

    (code_input,) = request["ProcessingInputs"]
    assert code_input["S3Input"]["S3Uri"] == f"s3://{aws.bucket}/jobs/{job}/input/code/Social_Distancing_Simulations.R"
    (output,) = request["ProcessingOutputConfig"]["Outputs"]
    assert output["S3Output"]["S3Uri"] == f"s3://{aws.bucket}/jobs/{job}/output/output-1"
    key = f"jobs/{job}/input/code/Social_Distancing_Simulations.R"
    assert aws.keys("") == [key]  # the code, in the platform bucket, and nothing else anywhere
    assert aws.client("s3").get_object(Bucket=aws.bucket, Key=key)["Body"].read().decode() == SCRIPT
    operations = set(aws.recorder.operations())
    assert "s3:CreateBucket" not in operations  # default_bucket() is the platform's, never created
    assert not any(op.startswith(("iam:", "sts:")) for op in operations)  # no get_execution_role()
    described = aws.client("sagemaker").describe_processing_job(ProcessingJobName=job)
    assert described["RoleArn"] == aws.config["execution_role_arn"]


def test_results_of_an_sdk_job_read_the_mean_its_output_wrote(aws, tmp_path):
    from simulation.client.results import job_results

    job = _run(sdk.script_processor(), tmp_path)
    # what the job would have uploaded from /opt/ml/processing/output (moto records jobs, it does not run them)
    key = f"jobs/{job}/output/output-1/output_result_mean.txt"
    aws.client("s3").put_object(Bucket=aws.bucket, Key=key, Body=b"0.112409\n")
    summary = job_results(job, str(tmp_path / "results"))
    assert summary["mean"] == 0.112409
    assert summary["files"] == ["output-1/output_result_mean.txt"]


def test_overrides_pass_through_within_the_caps(aws, tmp_path):
    processor = sdk.script_processor(
        volume_size_in_gb=5, max_runtime_in_seconds=3600, env={"MY_VAR": "1"}, tags={"project": "x", "user": "eve"}
    )
    _run(processor, tmp_path)
    request = aws.recorder.request("CreateProcessingJob")
    assert request["ProcessingResources"]["ClusterConfig"] == {
        "InstanceCount": 1,
        "InstanceType": "ml.c5.xlarge",  # the platform default
        "VolumeSizeInGB": 5,
    }
    assert request["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600}
    assert request["Environment"]["MY_VAR"] == "1"
    # the platform's own tags win over a caller's
    assert {t["Key"]: t["Value"] for t in request["Tags"]} == {"platform": "simlab", "user": "alice", "project": "x"}
    assert request["ProcessingJobName"].startswith("simlab-sdk-")


def test_an_image_of_the_user_repository_is_used(aws, tmp_path):
    image = aws.config["ecr_repository_uri"] + ":r-0123456789ab"
    _run(sdk.script_processor(image=image), tmp_path)
    request = aws.recorder.request("CreateProcessingJob")
    assert request["AppSpecification"]["ImageUri"] == image
    assert request["Environment"]["SIMLAB_IMAGE_TAG"] == "r-0123456789ab"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"instance_type": "ml.p4d.24xlarge"}, "instance type 'ml.p4d.24xlarge' is not allowed on platform simlab"),
        ({"instance_count": 5}, "instance count must be at most 4, got 5"),
        ({"max_runtime_in_seconds": 7201}, "max runtime (seconds) must be at most 7200, got 7201"),
        ({"image": "docker.io/library/r-base:4.4.0"}, "image docker.io/library/r-base:4.4.0 is in a foreign registry"),
    ],
)
def test_refused_before_anything_is_uploaded_or_created(aws, kwargs, message):
    with pytest.raises(SimulationError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        sdk.script_processor(**kwargs)
    assert aws.recorder.operations() == ["ssm:GetParameter"]  # only the job config was read


@pytest.mark.parametrize("key", ["role", "image_uri", "network_config", "sagemaker_session"])
def test_platform_arguments_cannot_be_overridden(aws, key):
    with pytest.raises(SimulationError, match=f"^script_processor: {key} is set by the platform"):
        sdk.script_processor(**{key: "x"})
    assert aws.recorder.operations() == []
