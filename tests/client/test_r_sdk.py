"""From R: the original SageMaker_Processing_SDS.R flow with simjobs::script_processor() (R/examples, run as it
is against moto server through reticulate and the pinned sagemaker 2.x), and build_image()'s input checks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.client.helpers import rscript

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "R" / "examples" / "SageMaker_Processing_SDS.R"
pytestmark = pytest.mark.r
pytest.importorskip("sagemaker")


def test_the_original_flow_runs_with_only_the_constructor_changed(aws, r_library, tmp_path):  # noqa: F811
    # the example runs from R/examples: its `code` is own_script/main.R there
    shutil.copytree(ROOT / "R" / "examples", tmp_path, dirs_exist_ok=True)
    # Run the example up to its results part, put what the job would have written where the job's output
    # goes (moto records jobs, it does not run them), then run the results part: one R session. The one
    # edit: logs = FALSE, because moto's DescribeProcessingJob omits ProcessingResources, which the SDK's log
    # tailing reads (wait = TRUE still polls the job to its end).
    text = EXAMPLE.read_text()
    assert text.count("logs = TRUE)") == 1
    (tmp_path / EXAMPLE.name).write_text(text.replace("logs = TRUE)", "logs = FALSE)"))
    done = rscript(
        aws,
        r_library,
        f"""
lines <- readLines("{EXAMPLE.name}")
cut <- grep("^# ---- results", lines)
eval(parse(text = lines[seq_len(cut - 1)]))
destination <- processor$latest_job$outputs[[1]]$destination
parts <- regmatches(destination, regexec("^s3://([^/]+)/(.*)$", destination))[[1]]
s3 <- reticulate::import("boto3")$client("s3")
s3$put_object(Bucket = parts[2], Key = paste0(parts[3], "/output_result_mean.txt"), Body = "0.112409\\n")
eval(parse(text = lines[cut:length(lines)]))
cat("\\nJOB", processor$latest_job$job_name, "\\n")
""",
        tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "0.112409" in done.stdout
    job = done.stdout.split("JOB", 1)[1].split()[0]
    assert job.startswith("simlab-social-distancing-simulation-")
    described = aws.client("sagemaker").describe_processing_job(ProcessingJobName=job)
    assert described["RoleArn"] == aws.config["execution_role_arn"]
    assert described["AppSpecification"]["ImageUri"] == aws.config["image_uri"]
    assert described["AppSpecification"]["ContainerEntrypoint"] == [
        "/usr/bin/Rscript",
        "/opt/ml/processing/input/code/main.R",
    ]
    assert described["AppSpecification"]["ContainerArguments"] == ["--args", "1000", "1000", "1000", "10000", "0"]
    assert described["NetworkConfig"]["EnableNetworkIsolation"] is True
    assert described["NetworkConfig"]["VpcConfig"] == {
        "SecurityGroupIds": ["sg-0ccc"],
        "Subnets": ["subnet-0aaa", "subnet-0bbb"],
    }
    assert described["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600}
    code = aws.client("s3").get_object(Bucket=aws.bucket, Key=f"jobs/{job}/input/code/main.R")["Body"].read()
    assert code == (ROOT / "R" / "examples" / "own_script" / "main.R").read_bytes()


def test_an_image_of_the_user_repository_from_r(aws, r_library, tmp_path):  # noqa: F811
    image = aws.config["ecr_repository_uri"] + ":r-0123456789ab"
    (tmp_path / "main.R").write_text("cat(1)\n")
    done = rscript(
        aws,
        r_library,
        f'job <- submit_r_script("main.R", args = c(1, 2), image = "{image}")\ncat(job)\n',
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    described = aws.client("sagemaker").describe_processing_job(ProcessingJobName=done.stdout.strip())
    assert described["AppSpecification"]["ImageUri"] == image


def test_bad_input_from_r_is_one_line_and_creates_nothing(aws, r_library, tmp_path):  # noqa: F811
    done = rscript(
        aws,
        r_library,
        """
say <- function(expr) cat(tryCatch(expr, error = function(e) conditionMessage(e)), "\\n", sep = "")
say(script_processor(instance_type = "ml.p4d.24xlarge"))
say(script_processor(image = "ghcr.io/someone/r:1"))
say(script_processor(role = "arn:aws:iam::123456789012:role/mine"))
say(build_image(r_packages = c("data.table", "gg plot")))
say(build_image())
say(submit_simulation(iterations = 100, image = "ghcr.io/someone/r:1"))
""",
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("instance type 'ml.p4d.24xlarge' is not allowed on platform simlab; choose one of")
    assert lines[1].startswith("image ghcr.io/someone/r:1 is in a foreign registry (ghcr.io); jobs run only")
    assert lines[2] == "script_processor: role is set by the platform; use the platform's execution role"
    assert lines[3] == "R package 'gg plot' is not a valid package name"
    assert lines[1].endswith('(build one with: build_image(r_packages = c("PKG", ...)))')  # R's way, not the shell's
    assert lines[4] == "build_image: name at least one package (r_packages and/or apt)"
    assert lines[5].startswith("image ghcr.io/someone/r:1 is in a foreign registry (ghcr.io); jobs run only")
    assert len(lines) == 6
    assert aws.client("sagemaker").list_processing_jobs()["ProcessingJobSummaries"] == []
    assert aws.keys("") == []
