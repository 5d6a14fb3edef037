"""The R package R/simjobs, installed into a temporary library and driven by Rscript (Debian's
r-cran-reticulate, RETICULATE_PYTHON = this venv's Python) against the same moto server."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.client.helpers import rscript, run_local_job

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.r


def test_submit_from_r_status_and_results_of_a_local_job_prefix(aws, r_library, tmp_path):
    submitted = rscript(
        aws,
        r_library,
        """
job <- submit_simulation(width = 300, height = 200, people = 100, radius = 6, iterations = 2500,
                         seed = 11, instance_type = "ml.m5.4xlarge", instance_count = 2)
status <- job_status(job)
cat(job, status$status, status$output, "\\n", sep = "|")
""",
        tmp_path,
    )
    assert submitted.returncode == 0, submitted.stderr
    job, status, output, _ = submitted.stdout.split("|")
    assert status == "Completed"
    assert output == f"s3://{aws.bucket}/jobs/{job}/output/"
    described = aws.client("sagemaker").describe_processing_job(ProcessingJobName=job)
    assert described["AppSpecification"]["ContainerArguments"] == [
        "simulate",
        "--width",
        "300",
        "--height",
        "200",
        "--people",
        "100",
        "--radius",
        "6",
        "--iterations",
        "2500",
        "--seed",
        "11",
    ]
    assert described["NetworkConfig"]["EnableNetworkIsolation"] is True
    assert described["NetworkConfig"]["VpcConfig"]["Subnets"] == aws.config["subnet_ids"]
    assert described["RoleArn"] == aws.config["execution_role_arn"]

    local = tmp_path / "local"
    expected = run_local_job(local, hosts=2)["mean"]
    aws.upload_tree(local, f"jobs/{job}/output/")

    fetched = rscript(
        aws,
        r_library,
        f"""
result <- job_results("{job}", dest = "fetched")
cat(sprintf("%.17g", result$mean), length(result$hosts), file.exists("fetched/histogram.png"), "\\n")
jobs <- list_jobs()
cat(nrow(jobs), jobs$status[jobs$job == "{job}"], "\\n")
cat(stop_job("{job}")$status, "\\n")
""",
        tmp_path,
    )
    assert fetched.returncode == 0, fetched.stderr
    lines = fetched.stdout.split("\n")
    mean, hosts, plotted = lines[0].split()
    assert float(mean) == expected
    assert hosts == "2"
    assert plotted == "TRUE"
    assert lines[1].split() == ["1", "Completed"]
    assert lines[2].strip() == "Stopped"


def test_r_errors_are_one_clear_line_and_nothing_is_created(aws, r_library, tmp_path):
    failed = rscript(
        aws,
        r_library,
        """
out <- tryCatch(submit_simulation(instance_type = "ml.p4d.24xlarge"), error = function(e) conditionMessage(e))
cat(out, "\\n")
out <- tryCatch(submit_simulation(instance_count = 2.5), error = function(e) conditionMessage(e))
cat(out, "\\n")
cost <- estimate_cost("ml.c5.xlarge", instance_count = 2, hours = 1.5)
cat(cost$usd, is.na(estimate_cost("ml.unknown")$usd), "\\n")
plan <- estimate_cost("ml.c5.xlarge", people = 1000, iterations = 10000)
cat(is.numeric(plan$predicted_seconds), plan$local_faster, plan$local_seconds < plan$predicted_seconds, "\\n")
cat(is.na(estimate_cost("ml.unknown", people = 1000)$predicted_seconds), "\\n")
""",
        tmp_path,
    )
    assert failed.returncode == 0, failed.stderr
    lines = failed.stdout.splitlines()
    assert lines[0].startswith("instance type 'ml.p4d.24xlarge' is not allowed on platform simlab; choose one of")
    assert lines[1].strip() == "instance count must be a whole number, got 2.5"
    assert lines[2].split() == ["0.612", "TRUE"]
    assert lines[3].split() == ["TRUE", "TRUE", "TRUE"]  # a small workload: faster on this machine
    assert lines[4].split() == ["TRUE"]
    assert aws.client("sagemaker").list_processing_jobs()["ProcessingJobSummaries"] == []


def test_r_script_submission_ships_the_folder(aws, r_library, tmp_path):
    submitted = rscript(
        aws,
        r_library,
        f"""
job <- submit_r_script("{ROOT / "R" / "examples" / "own_script" / "main.R"}", args = c(100, 100, 50, 1e5))
cat(job)
""",
        tmp_path,
    )
    assert submitted.returncode == 0, submitted.stderr
    job = submitted.stdout.strip()
    assert aws.keys(f"jobs/{job}/code/") == [f"jobs/{job}/code/main.R"]
    described = aws.client("sagemaker").describe_processing_job(ProcessingJobName=job)
    assert described["AppSpecification"]["ContainerArguments"] == [
        "rscript",
        "--script",
        "main.R",
        "--",
        "100",
        "100",
        "50",
        "100000",  # R's as.character(1e5) would have sent "1e+05"
    ]


def test_examples_parse():
    for example in sorted((ROOT / "R" / "examples").rglob("*.R")):
        completed = subprocess.run(
            ["Rscript", "-e", f"invisible(parse('{example}'))"], capture_output=True, text=True, check=False
        )
        assert completed.returncode == 0, f"{example}: {completed.stderr}"


def test_a_sweep_from_r_comes_back_as_a_data_frame(aws, emulate, r_library, tmp_path):
    submitted = rscript(
        aws,
        r_library,
        """
sweep <- run_sweep(people = c(100, 200), radius = 6, width = 300, height = 200, iterations = 1000,
                   seed = 5, mode = "jobs")
cat(sweep$sweep, unlist(sweep$jobs), "\\n")
""",
        tmp_path,
    )
    assert submitted.returncode == 0, submitted.stderr
    sweep_id, *job_names = submitted.stdout.split()
    requests = [payload for _, name, payload in aws.recorder.calls if name == "CreateProcessingJob"]
    assert requests == []  # R ran in its own process: its requests reached moto, not this recorder
    listed = aws.client("sagemaker").list_processing_jobs()["ProcessingJobSummaries"]
    assert sorted(j["ProcessingJobName"] for j in listed) == job_names == [f"{sweep_id}-p000", f"{sweep_id}-p001"]
    for index, job in enumerate(job_names):
        described = aws.client("sagemaker").describe_processing_job(ProcessingJobName=job)
        emulate(
            aws, {**described, "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1}}}, tmp_path / str(index)
        )
    fetched = rscript(
        aws,
        r_library,
        f"""
table <- sweep_results("{sweep_id}", dest = "sweep")
write.csv(table[, c("people", "radius", "mean", "analytic_mean")], stdout(), row.names = FALSE)
""",
        tmp_path,
    )
    assert fetched.returncode == 0, fetched.stderr
    lines = fetched.stdout.strip().splitlines()
    assert lines[0] == '"people","radius","mean","analytic_mean"'
    assert [line.split(",")[:2] for line in lines[1:]] == [["100", "6"], ["200", "6"]]
    csv_rows = (tmp_path / "sweep" / "sweep.csv").read_text().splitlines()
    assert len(csv_rows) == 3
