"""From R (real Rscript, the simjobs package, moto over HTTP): fresh-entropy seeds that come back exactly, the
one set of run defaults, resume_job, and wait_for_job's blocks done / total."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simulation import defaults, engine
from simulation.engine import Params
from tests.client.helpers import rscript

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.r


def _arguments(aws, job: str) -> dict[str, str]:
    args = aws.client("sagemaker").describe_processing_job(ProcessingJobName=job)["AppSpecification"]
    values = args["ContainerArguments"]
    return dict(zip(values[1::2], values[2::2], strict=False))


def _emulate(aws, emulate, job: str, work: Path) -> None:
    described = aws.client("sagemaker").describe_processing_job(ProcessingJobName=job)
    # moto keeps no ProcessingResources: one host, as the job asked
    emulate(aws, {**described, "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1}}}, work)


def test_defaults_fresh_seed_resume_and_progress_from_r(aws, emulate, r_library, tmp_path):
    submitted = rscript(aws, r_library, "cat(submit_simulation(width = 300, height = 200, people = 100))", tmp_path)
    assert submitted.returncode == 0, submitted.stderr
    job = submitted.stdout.strip()
    sent = _arguments(aws, job)
    assert sent["--iterations"] == str(defaults.ITERATIONS) == "10000"  # the one default, not submit's old 1000
    assert sent["--radius"] == "6"
    seed = int(sent["--seed"])
    assert seed > 2**32  # 128 bits of entropy (a 1 in 2^96 chance of failing by bad luck), not 42
    # the first line, before the plan, in R's terms
    assert submitted.stderr.splitlines()[0] == f'seed {seed} (pass seed = "{seed}" to reproduce this sample)'

    _emulate(aws, emulate, job, tmp_path / "old")
    s3 = aws.client("s3")
    for k in (3, 7):  # 10 blocks of 1000; as if the job had been stopped before these two
        s3.delete_object(Bucket=aws.bucket, Key=f"jobs/{job}/output/blocks/block-{k:06d}.json")
    s3.delete_object(Bucket=aws.bucket, Key=f"jobs/{job}/output/summary.json")
    aws.client("sagemaker").stop_processing_job(ProcessingJobName=job)

    resumed = rscript(
        aws,
        r_library,
        f"""
cat(tryCatch(resume_job("simlab-nope"), error = function(e) conditionMessage(e)), "\\n")
cat(resume_job("{job}", instance_count = 1), "\\n")
""",
        tmp_path,
    )
    assert resumed.returncode == 0, resumed.stderr
    refusal, new = resumed.stdout.splitlines()
    assert refusal.strip() == "no processing job named 'simlab-nope' (ValidationException)"
    new = new.strip()
    assert _arguments(aws, new)["--seed"] == str(seed)
    assert f"resumes {job}" in resumed.stderr
    _emulate(aws, emulate, new, tmp_path / "new")

    fetched = rscript(
        aws,
        r_library,
        f"""
wait_for_job("{new}", logs = FALSE)
result <- job_results("{new}", dest = "fetched")
cat(class(result$seed), result$seed, sprintf("%.17g", result$mean), "\\n")
""",
        tmp_path,
    )
    assert fetched.returncode == 0, fetched.stderr
    kind, text_seed, mean = fetched.stdout.split()
    assert (kind, text_seed) == ("character", str(seed))  # exactly, though R's numbers cannot hold it
    expected = engine.run(Params(300.0, 200.0, 100, 6.0), defaults.ITERATIONS, seed, workers=1)
    assert float(mean) == expected["mean"]
    assert "[########################] 10/10 blocks" in fetched.stderr


def test_a_sweep_from_r_gets_one_fresh_seed_for_every_point_back_exactly(aws, r_library, tmp_path):
    submitted = rscript(
        aws,
        r_library,
        """
sweep <- run_sweep(people = c(100, 200), radius = 6, iterations = 1000, mode = "jobs")
cat(sweep$sweep, sweep$seed, class(sweep$seed), "\\n")
""",
        tmp_path,
    )
    assert submitted.returncode == 0, submitted.stderr
    sweep_id, seed, kind = submitted.stdout.split()
    manifest = json.loads(
        aws.client("s3").get_object(Bucket=aws.bucket, Key=f"jobs/{sweep_id}/sweep.json")["Body"].read()
    )
    assert manifest["seed"] == int(seed)
    assert kind == "character"
    assert [p["width"] for p in manifest["points"]] == [defaults.WIDTH, defaults.WIDTH]
    for job in manifest["jobs"]:  # common random numbers: every point's job has the sweep's seed
        assert _arguments(aws, job)["--seed"] == seed
