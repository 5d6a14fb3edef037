"""submit --resume / resume_job against moto over HTTP: a stopped job finished by a new one that takes over its
blocks, the merged result equal to an uninterrupted run, refusals before anything is created; and `watch`'s
blocks done / total read from S3 while a job runs."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone

import pytest
from botocore.stub import Stubber

from simulation import engine
from simulation.cli import main
from simulation.client import Resources, job_results, resume, resume_job, stop_job, submit_r_script, submit_simulation
from simulation.client import aws as client_aws
from simulation.client import watch as client_watch
from simulation.client.config import parse_config
from simulation.engine import Params
from tests.client.conftest import JOB_CONFIG
from tests.client.helpers import PARAMS, run_local_job

RESUME_DIR = "/opt/ml/processing/input/resume"


def _old_job(aws, emulate, tmp_path, keep: set[int]) -> str:
    """A two-host job of the reference case (3 blocks) that was stopped with only the blocks `keep` in S3, plus
    a temporary file a continuous upload caught mid-write."""
    job = submit_simulation(**PARAMS, resources={"instance_type": "ml.m5.4xlarge", "instance_count": 2})
    emulate(aws, aws.recorder.request("CreateProcessingJob"), tmp_path / "old")
    s3 = aws.client("s3")
    prefix = f"jobs/{job}/output/"
    for k in {0, 1, 2} - keep:
        s3.delete_object(Bucket=aws.bucket, Key=f"{prefix}blocks/block-{k:06d}.json")
    s3.put_object(Bucket=aws.bucket, Key=f"{prefix}blocks/.block-000002.json.k3j1.tmp", Body=b'{"block": 2, "pair')
    stop_job(job)
    aws.recorder.clear()
    return job


def test_a_stopped_job_resumed_computes_only_missing_blocks_and_equals_an_uninterrupted_run(aws, emulate, tmp_path):
    old = _old_job(aws, emulate, tmp_path, keep={1})  # block 1 was algo-2's
    old_block = aws.client("s3").get_object(Bucket=aws.bucket, Key=f"jobs/{old}/output/blocks/block-000001.json")
    new = resume_job(old, resources={"instance_count": 1})
    sent = aws.recorder.request("CreateProcessingJob")
    assert sent["ProcessingJobName"] == new != old
    old_args = aws.client("sagemaker").describe_processing_job(ProcessingJobName=old)["AppSpecification"]
    assert sent["AppSpecification"]["ContainerArguments"] == [
        *old_args["ContainerArguments"],
        "--resume-from",
        RESUME_DIR,
    ]
    assert old_args["ContainerArguments"][-2:] == ["--seed", "11"]
    assert [(i["InputName"], i["S3Input"]["S3Uri"], i["S3Input"]["LocalPath"]) for i in sent["ProcessingInputs"]] == [
        ("resume", f"s3://{aws.bucket}/jobs/{old}/output/", RESUME_DIR)
    ]
    assert sent["ProcessingResources"]["ClusterConfig"]["InstanceCount"] == 1  # as asked; the old job had 2
    assert sent["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3UploadMode"] == "Continuous"

    emulate(aws, sent, tmp_path / "new")
    s3 = aws.client("s3")
    taken = s3.get_object(Bucket=aws.bucket, Key=f"jobs/{new}/output/blocks/block-000001.json")["Body"].read()
    assert taken == old_block["Body"].read()  # the very file, not a recomputation
    assert json.loads(taken)["host"] == "algo-2"  # the new job has one host, algo-1: block 1 was not computed again
    for k in (0, 2):
        computed = json.loads(
            s3.get_object(Bucket=aws.bucket, Key=f"jobs/{new}/output/blocks/block-{k:06d}.json")["Body"].read()
        )
        assert computed["host"] == "algo-1"

    summary = job_results(new, str(tmp_path / "fetched"))
    uninterrupted = run_local_job(tmp_path / "uninterrupted", hosts=1)
    for key in ("mean", "sd", "se", "ci95", "iterations", "seed", "blocks"):
        assert summary[key] == uninterrupted[key], key
    # and the engine itself, block by block, for the pair counts of the merged result
    params = Params(*(float(PARAMS[k]) for k in ("width", "height")), PARAMS["people"], float(PARAMS["radius"]))
    expected = engine.run(params, PARAMS["iterations"], PARAMS["seed"], workers=1)
    assert summary["mean"] == expected["mean"]


def test_resume_from_the_cli_prints_the_new_job_and_resuming_it_again_drops_the_old_flag(
    aws, emulate, tmp_path, capsys
):
    old = _old_job(aws, emulate, tmp_path, keep={0, 2})
    assert main(["submit", "--resume", old, "--json"]) == 0
    new = json.loads(capsys.readouterr().out)["job"]
    sent = aws.recorder.request("CreateProcessingJob")
    assert sent["ProcessingJobName"] == new
    stop_job(new)  # stopped before its hosts wrote anything
    aws.recorder.clear()
    assert main(["submit", "--resume", new]) == 2  # no run.json in the new job's prefix: nothing to take over
    assert "kept no run.json" in capsys.readouterr().err
    emulate(aws, {**sent, "ProcessingJobName": new}, tmp_path / "new")
    aws.recorder.clear()
    assert main(["submit", "--resume", new, "--json"]) == 0  # a resumed job, resumed again
    args = aws.recorder.request("CreateProcessingJob")["AppSpecification"]["ContainerArguments"]
    assert args.count("--resume-from") == 1


def test_the_new_job_keeps_the_old_jobs_resources_unless_told_otherwise():
    # moto does not keep a job's ProcessingResources, so this is the description SageMaker returns
    job_config = parse_config("simlab", json.dumps(JOB_CONFIG))
    old = {
        "ProcessingResources": {
            "ClusterConfig": {"InstanceCount": 3, "InstanceType": "ml.m5.4xlarge", "VolumeSizeInGB": 30}
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        "AppSpecification": {"ImageUri": JOB_CONFIG["ecr_repository_uri"] + ":mine"},
    }
    kept = resume._resources(job_config, old, Resources())
    assert kept == Resources(
        instance_type="ml.m5.4xlarge",
        instance_count=3,
        volume_size_gb=30,
        max_runtime_seconds=3600,
        image=JOB_CONFIG["ecr_repository_uri"] + ":mine",
    )
    changed = resume._resources(job_config, old, Resources(instance_count=4, max_runtime_seconds=7200))
    assert (changed.instance_count, changed.max_runtime_seconds, changed.volume_size_gb) == (4, 7200, 30)
    # an image the platform no longer allows (the bundled image of an earlier deployment): today's bundled one
    gone = {**old, "AppSpecification": {"ImageUri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/cdk-old:1"}}
    assert resume._resources(job_config, gone, Resources()).image is None


def _stub_running(aws, job: str):
    client_aws.client("ssm", None).get_parameter(Name="/simlab/job-config")
    sagemaker = client_aws.client("sagemaker", aws.region)
    stub = Stubber(sagemaker)
    stub.add_response(
        "describe_processing_job",
        {
            "ProcessingJobName": job,
            "ProcessingJobArn": f"arn:aws:sagemaker:eu-west-1:123456789012:processing-job/{job}",
            "ProcessingJobStatus": "InProgress",
            "CreationTime": datetime(2026, 11, 21, tzinfo=timezone.utc),
            "AppSpecification": {"ImageUri": "img:abc", "ContainerArguments": ["simulate"]},
            "ProcessingResources": {
                "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.c5.xlarge", "VolumeSizeInGB": 10}
            },
        },
        {"ProcessingJobName": job},
    )
    return stub


def test_refusals_are_one_line_exit_2_and_create_nothing(aws, tmp_path, capsys):
    assert main(["submit", "--resume", "simlab-nope"]) == 2
    assert capsys.readouterr().err == "error: no processing job named 'simlab-nope' (ValidationException)\n"

    with _stub_running(aws, "simlab-sim-20261121-000000-abcd"):
        assert main(["submit", "--resume", "simlab-sim-20261121-000000-abcd"]) == 2
    assert capsys.readouterr().err == (
        "error: job simlab-sim-20261121-000000-abcd is still InProgress: let it end or stop it "
        "(python -m simulation stop simlab-sim-20261121-000000-abcd), then resume it\n"
    )
    client_aws.reset()

    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "main.R").write_text('cat("hi")\n')
    script_job = submit_r_script(str(tmp_path / "s" / "main.R"))
    stop_job(script_job)
    capsys.readouterr()
    assert main(["submit", "--resume", script_job]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: job {script_job} ran an R script: it has no blocks to take over")
    assert len(err.splitlines()) == 1

    completed = submit_simulation(iterations=10, seed=1)
    capsys.readouterr()
    assert main(["submit", "--resume", completed]) == 2
    assert "completed: every block is done, nothing to resume" in capsys.readouterr().err

    stop_job(completed)
    aws.recorder.clear()
    assert main(["submit", "--resume", completed, "--people", "5"]) == 2
    assert capsys.readouterr().err == (
        "error: submit: --resume takes the old job's parameters and seed; drop --people\n"
    )
    assert main(["submit", "--resume", completed]) == 2  # stopped before it wrote anything
    assert "kept no run.json" in capsys.readouterr().err
    assert "CreateProcessingJob" not in " ".join(aws.recorder.operations())


def test_from_python_a_refusal_is_a_simulation_error(aws):
    from simulation.errors import SimulationError

    with pytest.raises(SimulationError, match="^no processing job named 'simlab-x'"):
        resume_job("simlab-x")


# --- progress ----------------------------------------------------------------------------------------------


def test_watch_shows_blocks_done_of_total_from_s3_and_ignores_temporary_names(aws):
    job = "simlab-sim-20261121-000000-abcd"
    t0 = datetime(2026, 11, 21, tzinfo=timezone.utc)
    client_aws.client("ssm", None).get_parameter(Name="/simlab/job-config")
    sagemaker = client_aws.client("sagemaker", aws.region)

    def described(status: str, **extra):
        return {
            "ProcessingJobName": job,
            "ProcessingJobArn": f"arn:aws:sagemaker:eu-west-1:123456789012:processing-job/{job}",
            "ProcessingJobStatus": status,
            "CreationTime": t0,
            "ProcessingStartTime": t0,
            "AppSpecification": {"ImageUri": "img:abc", "ContainerArguments": ["simulate", "--people", "100"]},
            "ProcessingResources": {
                "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.c5.xlarge", "VolumeSizeInGB": 10}
            },
            **extra,
        }

    s3 = aws.client("s3")
    prefix = f"jobs/{job}/output/"
    # 2,500 iterations of 100 people: blocks of min(1000, 2e6 // 100) = 1000 iterations -> 3 blocks
    run_record = {"kind": "simulate", "block_count": 3, "iterations": 2500}
    uploads = iter(
        [
            {"run.json": json.dumps(run_record)},
            {"blocks/block-000000.json": "{}", "blocks/.block-000001.json.ab12.tmp": "{"},
            {"blocks/block-000001.json": "{}", "hosts/algo-1.json": "{}", "blocks/block-000001.json.bak": "{}"},
        ]
    )

    def sleep(_: float) -> None:
        for key, body in next(uploads, {}).items():
            s3.put_object(Bucket=aws.bucket, Key=prefix + key, Body=body.encode())

    err = io.StringIO()
    with Stubber(sagemaker) as stub:
        for state in ("InProgress", "InProgress", "InProgress", "InProgress"):
            stub.add_response("describe_processing_job", described(state), {"ProcessingJobName": job})
        end = {"ProcessingEndTime": t0 + timedelta(minutes=3), "ExitMessage": "stopped by SIGTERM"}
        stub.add_response("describe_processing_job", described("Stopped", **end), {"ProcessingJobName": job})
        with pytest.raises(Exception, match="Stopped"):
            client_watch.watch(job, logs=False, poll_seconds=0, err=err, sleep=sleep)
    lines = err.getvalue().splitlines()
    bars = [line.split(": ", 1)[1] for line in lines if "blocks" in line and line.startswith("[")]
    assert bars == [
        "[........................] 0/3 blocks",  # run.json there, no block yet (the .tmp does not count)
        "[########................] 1/3 blocks",
        "[################........] 2/3 blocks",
    ]
    assert (
        lines[-1] == f"2 of 3 blocks are kept in S3; run only the rest with: python -m simulation submit --resume {job}"
    )
    assert "\r" not in err.getvalue()


def test_block_keys_are_exactly_the_layouts():
    yes = ["blocks/block-000000.json", "points/point-003/blocks/block-123456.json"]
    no = [
        "blocks/.block-000000.json.x.tmp",
        "blocks/block-0.json",
        "blocks/block-000000.json.tmp",
        "run.json",
        "points/p/blocks/block-000000.json",
        "x/blocks/block-000000.json",
        "points/point-003/x/blocks/block-000000.json",
    ]
    assert [client_watch.is_block_key(k) for k in yes] == [True, True]
    assert [client_watch.is_block_key(k) for k in no] == [False] * len(no)


def test_a_stopped_sweep_job_resumed_is_collected_by_its_sweep_id_with_the_uninterrupted_table(aws, emulate, tmp_path):
    from simulation.client import run_sweep, sweep_results

    grid = {"people": [100, 200], "radius": 6, "width": 300, "height": 200, "iterations": 2500, "seed": 4}
    manifest = run_sweep(**grid, mode="job", resources={"instance_count": 2})
    old = manifest["sweep"]
    complete = tmp_path / "complete"
    emulate(aws, aws.recorder.request("CreateProcessingJob"), complete)
    uninterrupted = sweep_results(old, str(tmp_path / "uninterrupted"))
    s3 = aws.client("s3")
    for key in ("points/point-000/blocks/block-000002.json", "points/point-001/blocks/block-000000.json"):
        s3.delete_object(Bucket=aws.bucket, Key=f"jobs/{old}/output/{key}")
    stop_job(old)
    aws.recorder.clear()

    new = resume_job(old, resources={"instance_count": 1})
    sent = aws.recorder.request("CreateProcessingJob")
    assert sent["AppSpecification"]["ContainerArguments"] == [
        "sweep",
        "--spec",
        "/opt/ml/processing/input/config/sweep.json",
        "--resume-from",
        RESUME_DIR,
    ]
    inputs = {i["InputName"]: i["S3Input"]["S3Uri"] for i in sent["ProcessingInputs"]}
    assert inputs == {  # the old job's spec, read where the old job read it
        "resume": f"s3://{aws.bucket}/jobs/{old}/output/",
        "config": f"s3://{aws.bucket}/jobs/{old}/config/",
    }
    assert {"Key": "sweep", "Value": old} in sent["Tags"]
    emulate(aws, sent, tmp_path / "new")
    stored = json.loads(s3.get_object(Bucket=aws.bucket, Key=f"jobs/{old}/sweep.json")["Body"].read())
    assert stored["jobs"] == [new]
    assert stored["resumed"] == {new: old}

    table = sweep_results(old, str(tmp_path / "collected"))
    assert [row["job"] for row in table["rows"]] == [new, new]
    for row, reference in zip(table["rows"], uninterrupted["rows"], strict=True):
        assert (row["mean"], row["se"], row["ci95_low"]) == (reference["mean"], reference["se"], reference["ci95_low"])


def test_on_a_terminal_the_bar_is_redrawn_in_place_and_the_last_count_stays(aws):
    job = "simlab-sim-20261121-000000-beef"
    t0 = datetime(2026, 11, 21, tzinfo=timezone.utc)
    client_aws.client("ssm", None).get_parameter(Name="/simlab/job-config")
    s3 = aws.client("s3")
    prefix = f"jobs/{job}/output/"
    s3.put_object(Bucket=aws.bucket, Key=prefix + "run.json", Body=b'{"kind": "simulate", "block_count": 4}')
    s3.put_object(Bucket=aws.bucket, Key=prefix + "blocks/block-000003.json", Body=b"{}")

    def described(status: str, **extra):
        return {
            "ProcessingJobName": job,
            "ProcessingJobArn": f"arn:aws:sagemaker:eu-west-1:123456789012:processing-job/{job}",
            "ProcessingJobStatus": status,
            "CreationTime": t0,
            "AppSpecification": {"ImageUri": "img:abc", "ContainerArguments": ["simulate"]},
            "ProcessingResources": {
                "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.c5.xlarge", "VolumeSizeInGB": 10}
            },
            **extra,
        }

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    def sleep(_: float) -> None:
        for k in (0, 1, 2):
            s3.put_object(Bucket=aws.bucket, Key=prefix + f"blocks/block-{k:06d}.json", Body=b"{}")

    tty = Tty()
    with Stubber(client_aws.client("sagemaker", aws.region)) as stub:
        stub.add_response("describe_processing_job", described("InProgress"), {"ProcessingJobName": job})
        done = described("Completed", ProcessingEndTime=t0 + timedelta(minutes=1))
        stub.add_response("describe_processing_job", done, {"ProcessingJobName": job})
        client_watch.watch(job, logs=False, poll_seconds=0, err=tty, sleep=sleep)
    text = tty.getvalue()
    assert "[######..................] 1/4 blocks\033[K" in text  # on the spinner's line, redrawn in place
    assert "\r\033[K[0:01:00] " + job + ": [########################] 4/4 blocks\n" in text
