"""watch / logs / stop / jobs: status transitions, every host's log, failure reasons, throttling, Ctrl-C.

moto completes a job the moment it is created and cannot be told to fail one over HTTP, so the running and
failed states come from botocore's Stubber on the client's own sagemaker client (the configuration still
comes from moto's SSM); stopping, listing and logs run against moto itself.
"""

from __future__ import annotations

import functools
import io
import json
from datetime import datetime, timedelta, timezone

import pytest
from botocore.stub import Stubber

from simulation.cli import main
from simulation.client import aws as client_aws
from simulation.client import list_jobs, submit_simulation
from simulation.client import status as client_status
from simulation.client import watch as client_watch
from simulation.errors import JobFailed

JOB = "simlab-sim-20261121-230000-abcd"
T0 = datetime(2026, 11, 21, 23, 0, 0, tzinfo=timezone.utc)


def described(status: str, **extra):
    return {
        "ProcessingJobName": JOB,
        "ProcessingJobArn": f"arn:aws:sagemaker:eu-west-1:123456789012:processing-job/{JOB}",
        "ProcessingJobStatus": status,
        "CreationTime": T0,
        "ProcessingStartTime": T0 + timedelta(seconds=30),
        "ProcessingResources": {
            "ClusterConfig": {"InstanceCount": 2, "InstanceType": "ml.c5.xlarge", "VolumeSizeInGB": 10}
        },
        "AppSpecification": {"ImageUri": "img:abc123"},
        **extra,
    }


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def stubbed(aws, *responses):
    """The client's cached sagemaker client, answering DescribeProcessingJob with `responses` in order."""
    client_aws.client("ssm", None).get_parameter(Name="/simlab/job-config")  # warm the SSM client outside the stub
    sagemaker = client_aws.client("sagemaker", aws.region)
    stub = Stubber(sagemaker)
    for response in responses:
        if isinstance(response, str):
            stub.add_client_error("describe_processing_job", service_error_code=response, http_status_code=400)
        else:
            stub.add_response("describe_processing_job", response, {"ProcessingJobName": JOB})
    return stub


def test_failed_job_prints_transitions_and_its_failure_reason_and_exits_1(aws, capsys):
    reason = "AlgorithmError: Rscript exited with status 1: object 'x' not found"
    end = T0 + timedelta(minutes=5, seconds=30)
    with stubbed(
        aws,
        described("InProgress"),
        described("InProgress"),
        described("Failed", FailureReason=reason, ProcessingEndTime=end),
    ) as stub:
        assert main(["watch", JOB, "--no-logs", "--poll", "0"]) == 1
        stub.assert_no_pending_responses()
    err = capsys.readouterr().err.splitlines()
    assert err[0].endswith(f"{JOB}: InProgress")
    assert err[1] == f"[0:05:00] {JOB}: Failed"  # elapsed from ProcessingStartTime to ProcessingEndTime
    assert err[-1] == f"error: job {JOB} Failed: {reason}"
    assert "\r" not in "\n".join(err)  # piped: no progress display


def test_stopped_job_reports_its_exit_message(aws):
    with stubbed(aws, described("Stopped", ExitMessage="stopped by alice", ProcessingEndTime=T0)):
        status = client_status.job_status(JOB)
    assert status["status"] == "Stopped"
    assert status["instance_count"] == 2
    with pytest.raises(JobFailed, match=f"^job {JOB} Stopped: stopped by alice$"):
        client_status.raise_if_unsuccessful(status)


def test_progress_display_only_on_a_terminal(aws):
    tty, pipe = Tty(), io.StringIO()
    for err in (tty, pipe):
        with stubbed(aws, described("InProgress"), described("Completed", ProcessingEndTime=T0 + timedelta(hours=1))):
            status = client_watch.watch(JOB, logs=False, poll_seconds=0, err=err, sleep=lambda _: None)
        assert status["status"] == "Completed"
    assert "\r| InProgress" in tty.getvalue() or "\r/ InProgress" in tty.getvalue()
    assert "\r" not in pipe.getvalue()
    assert f"[0:59:30] {JOB}: Completed" in pipe.getvalue()


def test_throttling_is_retried_with_growing_backoff(aws):
    pauses: list[float] = []
    with stubbed(aws, "ThrottlingException", "ThrottlingException", described("Completed", ProcessingEndTime=T0)):
        sagemaker = client_aws.client("sagemaker", aws.region)
        result = client_aws.call_with_backoff(
            lambda: sagemaker.describe_processing_job(ProcessingJobName=JOB), "describing", sleep=pauses.append
        )
    assert result["ProcessingJobStatus"] == "Completed"
    assert len(pauses) == 2
    assert 0 <= pauses[0] <= 2.0
    assert 0 <= pauses[1] <= 4.0


def test_throttling_that_never_ends_becomes_one_line(aws):
    with stubbed(aws, *["ThrottlingException"] * 3):
        sagemaker = client_aws.client("sagemaker", aws.region)
        with pytest.raises(Exception, match="describing: ThrottlingException"):
            client_aws.call_with_backoff(
                lambda: sagemaker.describe_processing_job(ProcessingJobName=JOB),
                "describing",
                attempts=3,
                sleep=lambda _: None,
            )


def test_ctrl_c_leaves_the_job_running_and_says_how_to_stop_it(aws):
    err = io.StringIO()

    def interrupted(_: float) -> None:
        raise KeyboardInterrupt

    with stubbed(aws, described("InProgress")) as stub:
        with pytest.raises(KeyboardInterrupt):
            client_watch.watch(JOB, logs=False, err=err, sleep=interrupted)
        stub.assert_no_pending_responses()  # and no StopProcessingJob: the stub would have refused it
    assert f"{JOB} keeps running. Stop it with: python -m simulation stop {JOB}" in err.getvalue()


def test_ctrl_c_in_the_cli_is_one_line_and_exit_130(aws, capsys, monkeypatch):
    def interrupted(_: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(client_watch, "watch", functools.partial(client_watch.watch, sleep=interrupted))
    with stubbed(aws, described("InProgress")):
        assert main(["watch", JOB, "--no-logs", "--poll", "0"]) == 130
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2  # the status line, then one line about Ctrl-C: no "interrupted", no traceback
    assert err[0].endswith(f"{JOB}: InProgress")
    assert err[1] == f"stopped watching; {JOB} keeps running. Stop it with: python -m simulation stop {JOB}"


def test_a_negative_poll_interval_is_one_line(aws, capsys):
    assert main(["watch", JOB, "--poll", "-5"]) == 2
    assert capsys.readouterr().err == "error: poll seconds must not be negative, got -5\n"
    assert aws.recorder.operations() == []


def test_logs_of_every_host_are_printed_with_their_host(aws, capsys):
    job = submit_simulation(iterations=10)
    logs = aws.client("logs")
    group = "/aws/sagemaker/ProcessingJobs"
    logs.create_log_group(logGroupName=group)
    now = int(datetime.now(timezone.utc).timestamp() * 1000)
    for host, lines in {"algo-1": ["block 0 done", "host done"], "algo-2": ["block 1 done"]}.items():
        stream = f"{job}/{host}-1763766000"
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        logs.put_log_events(
            logGroupName=group,
            logStreamName=stream,
            logEvents=[{"timestamp": now + i, "message": line} for i, line in enumerate(lines)],
        )
    capsys.readouterr()
    assert main(["watch", job, "--poll", "0"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert sorted(out) == ["[algo-1] block 0 done", "[algo-1] host done", "[algo-2] block 1 done"]
    assert out.index("[algo-1] block 0 done") < out.index("[algo-1] host done")
    assert main(["logs", job]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3


def test_stop_then_list_shows_the_stopped_job(aws, capsys):
    first = submit_simulation(iterations=10)
    second = submit_simulation(iterations=20, resources={"name": "second"})
    capsys.readouterr()
    assert main(["stop", second, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "Stopped"
    assert aws.recorder.request("StopProcessingJob") == {"ProcessingJobName": second}
    assert main(["jobs", "--json"]) == 0
    rows = {row["job"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows[first]["status"] == "Completed"
    assert rows[second]["status"] == "Stopped"
    assert all(row["duration_seconds"] is not None and row["duration_seconds"] >= 0 for row in rows.values())
    assert main(["watch", second, "--no-logs"]) == 1
    assert f"error: job {second} Stopped" in capsys.readouterr().err


def test_unknown_job_is_one_line(aws, capsys):
    assert main(["watch", "simlab-nope"]) == 2
    assert capsys.readouterr().err == "error: no processing job named 'simlab-nope' (ValidationException)\n"


def test_jobs_lists_exactly_this_platforms_jobs_not_a_platform_whose_name_extends_it(aws, capsys):
    # Platform "simlab-dev" names its jobs "simlab-dev-...", which also start with "simlab-": the name prefix
    # alone would list them under "simlab" too. Expected sets: the names each submission returned.
    aws.put_config({**aws.config, "platform": "simlab-dev"}, platform="simlab-dev")
    dev = submit_simulation(iterations=10, platform="simlab-dev")
    ours = submit_simulation(iterations=10)
    assert dev.startswith("simlab-")
    assert {row["job"] for row in list_jobs()} == {ours}
    assert {row["job"] for row in list_jobs(platform="simlab-dev")} == {dev}
