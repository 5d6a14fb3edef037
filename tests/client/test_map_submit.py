"""job_lapply() and the sagemaker future backend on the submission path, against moto over HTTP.

The created job must be network-isolated, in the job subnets, with the payload under the job's S3 prefix, and
tagged as a map job; a captured request is then run the way SageMaker would (`emulate`), and R collects the values,
which equal future_lapply's. The shell shows a map job's progress and failures (`results`) and lists it (`jobs`);
a stopped map job resumes with only its missing blocks.
"""

from __future__ import annotations

import json

import pytest

from simulation.cli import main
from simulation.client import resume_job, stop_job
from tests.client.helpers import rscript

pytestmark = pytest.mark.r

DRAW = "draw <- function(i, sd) c(i = i, z = rnorm(1, sd = sd))\n"


def submitted(aws, r_library, tmp_path, code: str) -> tuple[str, dict]:
    """The job R created, as moto describes it (plus its tags): R runs in its own process, out of the recorder's
    sight. moto's description omits ProcessingResources; `emulate` is told the host count instead."""
    done = rscript(aws, r_library, code, tmp_path)
    assert done.returncode == 0, done.stderr
    job = done.stdout.strip().splitlines()[-1]
    sagemaker = aws.client("sagemaker")
    described = sagemaker.describe_processing_job(ProcessingJobName=job)
    described["Tags"] = sagemaker.list_tags(ResourceArn=described["ProcessingJobArn"])["Tags"]
    return job, described


def test_the_job_is_isolated_in_the_job_subnets_with_the_payload_under_its_prefix(aws, r_library, emulate, tmp_path):
    job, sent = submitted(
        aws,
        r_library,
        tmp_path,
        DRAW + 'job <- job_lapply(1:9, draw, sd = 3, seed = 42, instance_type = "ml.m5.4xlarge", instance_count = 2,'
        " wait = FALSE)\ncat(job)\n",
    )
    assert sent["ProcessingJobName"] == job
    assert job.startswith("simlab-map-")
    assert sent["NetworkConfig"]["EnableNetworkIsolation"] is True
    assert sent["NetworkConfig"]["VpcConfig"] == {
        "SecurityGroupIds": aws.config["security_group_ids"],
        "Subnets": aws.config["subnet_ids"],
    }
    assert sent["RoleArn"] == aws.config["execution_role_arn"]
    assert sent["AppSpecification"]["ContainerArguments"] == ["map"]
    (code_input,) = sent["ProcessingInputs"]
    assert code_input["S3Input"]["S3Uri"] == f"s3://{aws.bucket}/jobs/{job}/code/"
    assert code_input["S3Input"]["LocalPath"] == "/opt/ml/processing/input/code"
    assert sent["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"] == f"s3://{aws.bucket}/jobs/{job}/output/"
    assert {t["Key"]: t["Value"] for t in sent["Tags"]} == {"platform": "simlab", "user": "alice", "kind": "map"}
    assert aws.keys(f"jobs/{job}/") == [f"jobs/{job}/code/{name}" for name in ("map.json", "map.rds", "map_host.R")]
    spec = json.loads(aws.client("s3").get_object(Bucket=aws.bucket, Key=f"jobs/{job}/code/map.json")["Body"].read())
    # 2 hosts x 16 vCPUs of ml.m5.4xlarge: 4 blocks per vCPU would be 128, so every element is its own block
    assert (spec["elements"], spec["seed"], spec["mode"], spec["block_size"]) == (9, "42", "lapply", 1)

    emulate(aws, sent, tmp_path / "hosts", hosts=2)
    done = rscript(
        aws,
        r_library,
        DRAW
        + f"""
got <- job_results("{job}")
future::plan(future::sequential)
cat(identical(got, future.apply::future_lapply(1:9, draw, sd = 3, future.seed = 42)), "\\n")
jobs <- list_jobs(); cat(jobs$kind[jobs$job == "{job}"], "\\n")
""",
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["TRUE", "map"]


def test_results_and_jobs_show_a_map_jobs_progress_and_failures(aws, r_library, emulate, tmp_path, capsys):
    job, sent = submitted(
        aws,
        r_library,
        tmp_path,
        'job <- job_lapply(1:4, function(i) if (i %% 2 == 0) stop("even: ", i) else i, seed = 1, wait = FALSE)\n'
        "cat(job)\n",
    )
    assert main(["results", job]) == 0  # InProgress (moto's jobs are Completed at once; the output is empty)
    assert (
        capsys.readouterr().out.splitlines()[0]
        == f"{job}: map of 4 elements, 0 done (0 of 4 blocks done), 0 failed, seed 1"
    )
    emulate(aws, sent, tmp_path / "hosts", hosts=1)
    assert main(["results", job]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{job}: map of 4 elements, 4 done (complete), 2 failed, seed 1",
        "  element 2: even: 2",
        "  element 4: even: 4",
    ]
    assert main(["results", job, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["failed"] == [{"element": 2, "message": "even: 2"}, {"element": 4, "message": "even: 4"}]
    assert main(["jobs"]) == 0
    (row,) = [line for line in capsys.readouterr().out.splitlines() if line.startswith(job)]
    assert "map" in row.split()
    done = rscript(aws, r_library, f'job_results("{job}")\n', tmp_path)
    assert done.returncode == 1
    assert [line for line in done.stderr.splitlines() if line.startswith("Error")] == [
        "Error: element 2 failed: even: 2 (and 1 more failed elements); the other values are kept: "
        f'job_results("{job}", errors = "keep")'
    ]


def test_a_stopped_map_job_resumes_with_its_payload_and_only_its_missing_blocks(aws, r_library, emulate, tmp_path):
    job, sent = submitted(
        aws,
        r_library,
        tmp_path,
        "job <- job_lapply(1:6, function(i) i + runif(1), seed = 7, block_size = 1, instance_count = 2,"
        ' instance_type = "ml.m5.4xlarge", wait = FALSE)\ncat(job)\n',
    )
    emulate(aws, sent, tmp_path / "old", hosts=2)
    s3 = aws.client("s3")
    for block in (0, 3, 4):  # as if the job was stopped before these
        for suffix in ("json", "rds"):
            s3.delete_object(Bucket=aws.bucket, Key=f"jobs/{job}/output/blocks/block-{block:06d}.{suffix}")
    stop_job(job)
    kept = s3.get_object(Bucket=aws.bucket, Key=f"jobs/{job}/output/blocks/block-000001.rds")["Body"].read()
    aws.recorder.clear()
    new = resume_job(job, resources={"instance_count": 1})
    again = aws.recorder.request("CreateProcessingJob")
    assert again["AppSpecification"]["ContainerArguments"] == [
        "map",
        "--resume-from",
        "/opt/ml/processing/input/resume",
    ]
    inputs = {i["InputName"]: (i["S3Input"]["S3Uri"], i["S3Input"]["LocalPath"]) for i in again["ProcessingInputs"]}
    assert inputs == {
        "resume": (f"s3://{aws.bucket}/jobs/{job}/output/", "/opt/ml/processing/input/resume"),
        "code": (f"s3://{aws.bucket}/jobs/{job}/code/", "/opt/ml/processing/input/code"),
    }
    assert {"Key": "kind", "Value": "map"} in again["Tags"]
    emulate(aws, again, tmp_path / "new")
    assert s3.get_object(Bucket=aws.bucket, Key=f"jobs/{new}/output/blocks/block-000001.rds")["Body"].read() == kept
    records = {
        b: json.loads(
            s3.get_object(Bucket=aws.bucket, Key=f"jobs/{new}/output/blocks/block-{b:06d}.json")["Body"].read()
        )
        for b in range(6)
    }
    assert {b: r["host"] for b, r in records.items()} == {
        0: "algo-1",
        1: "algo-2",
        2: "algo-1",
        3: "algo-1",
        4: "algo-1",
        5: "algo-2",
    }
    done = rscript(
        aws,
        r_library,
        f"""
future::plan(future::sequential)
cat(identical(job_results("{new}"), future.apply::future_lapply(1:6, function(i) i + runif(1), future.seed = 7)))
""",
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "TRUE"


def test_bad_resources_and_a_package_missing_from_the_image_create_and_upload_nothing(aws, r_library, tmp_path):
    for code, message in [
        (
            'job_lapply(1:3, sqrt, instance_type = "ml.p4d.24xlarge")',
            "Error: instance type 'ml.p4d.24xlarge' is not allowed on platform simlab; choose one of ml.c5.xlarge, "
            "ml.m5.4xlarge",
        ),
        (
            "job_lapply(1:3, function(i) jsonlite::toJSON(i))",
            "Error: R package 'jsonlite' is not installed in the job image; build an image that has it with "
            'build_image(r_packages = c("jsonlite")) and pass it as image =',
        ),
    ]:
        done = rscript(aws, r_library, code + "\n", tmp_path)
        assert done.returncode == 1
        assert [line for line in done.stderr.splitlines() if line.startswith("Error")] == [message]
    assert aws.keys("jobs/") == []
    assert "sagemaker:CreateProcessingJob" not in aws.recorder.operations()


def test_futures_of_one_future_lapply_are_one_job(aws, r_library, emulate, tmp_path):
    done = rscript(
        aws,
        r_library,
        """
future::plan(simjobs::sagemaker, instance_type = "ml.m5.4xlarge", instance_count = 1)
cat(future::nbrOfWorkers(), "\\n")
fs <- lapply(1:3, function(i) future::future(i * 10))
invisible(future::resolved(fs[[1]]))  # asking for a result submits the batch
cat(fs[[1]]$batch$job, "\\n")
""",
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    workers, job = done.stdout.split()
    assert workers == "16"  # one future per vCPU of one ml.m5.4xlarge
    (listed,) = aws.client("sagemaker").list_processing_jobs()["ProcessingJobSummaries"]  # three futures, one job
    assert listed["ProcessingJobName"] == job
    spec = json.loads(aws.client("s3").get_object(Bucket=aws.bucket, Key=f"jobs/{job}/code/map.json")["Body"].read())
    assert (spec["mode"], spec["elements"], spec["block_size"]) == ("future", 3, 1)
