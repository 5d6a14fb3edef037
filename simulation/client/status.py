"""Where a job stands: its status as a person or a script acts on it, stopping it, and the platform's job list."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from botocore.exceptions import ClientError

from simulation.client import aws
from simulation.client.config import JobConfig, load_config
from simulation.client.values import as_int, tag_value
from simulation.errors import JobFailed, SimulationError
from simulation.job import local_map
from simulation.text import hint, r_string

TERMINAL = frozenset({"Completed", "Failed", "Stopped"})
# Every job carries these tags (request.processing_request); list_jobs matches them exactly.
PLATFORM_TAG = "platform"
USER_TAG = "user"
KIND_TAG = "kind"  # set on map jobs (R's job_lapply, futures); the job list shows it
MAX_LIST_PAGES = 10


def describe(job: str, config: JobConfig) -> dict[str, Any]:
    sagemaker = aws.client("sagemaker", config.region)
    try:
        return aws.call_with_backoff(
            lambda: sagemaker.describe_processing_job(ProcessingJobName=job),
            f"describing job {job}",
            passthrough=frozenset({"ValidationException", "ResourceNotFound"}),
        )
    except ClientError as error:
        raise SimulationError(f"no processing job named {job!r} ({aws.error_code(error)})") from None


def _seconds(start: Any, end: Any) -> float | None:
    if not isinstance(start, datetime):
        return None
    until: datetime = end if isinstance(end, datetime) else datetime.now(timezone.utc)
    return max(0.0, (until - start).total_seconds())


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None


def status_of(description: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of DescribeProcessingJob a person or a script acts on, JSON-ready."""
    cluster = description.get("ProcessingResources", {}).get("ClusterConfig", {})
    outputs = description.get("ProcessingOutputConfig", {}).get("Outputs", [])
    start = description.get("ProcessingStartTime") or description.get("CreationTime")
    status = description.get("ProcessingJobStatus", "Unknown")
    end = description.get("ProcessingEndTime") if status in TERMINAL else None
    return {
        "job": description.get("ProcessingJobName"),
        "status": status,
        "failure_reason": description.get("FailureReason"),
        "exit_message": description.get("ExitMessage"),
        "created": _iso(description.get("CreationTime")),
        "ended": _iso(description.get("ProcessingEndTime")) if status in TERMINAL else None,
        "duration_seconds": _seconds(start, end),
        "instance_type": cluster.get("InstanceType"),
        "instance_count": cluster.get("InstanceCount"),
        "arguments": description.get("AppSpecification", {}).get("ContainerArguments"),
        "output": outputs[0]["S3Output"]["S3Uri"] if outputs else None,
    }


def job_status(job: str, platform: str | None = None) -> dict[str, Any]:
    if local_map.is_local_job(job):  # R's job_lapply(local = TRUE) names its jobs by their folder
        return local_map.local_status(job)
    return status_of(describe(job, load_config(platform)))


def failure_text(status: Mapping[str, Any]) -> str:
    # A container's non-zero exit gives FailureReason "AlgorithmError: ..." while our entrypoint's own
    # one-line explanation (the first 1 KB of /opt/ml/output/message) arrives as ExitMessage: show both.
    parts: list[str] = []
    for part in (status.get("failure_reason"), status.get("exit_message")):
        text = " ".join(str(part or "").split())  # one line, whatever the container wrote
        if text and not any(text in seen for seen in parts):
            parts.append(text)
    reason = " | ".join(parts)
    if not reason:
        reason = "stopped by request or at its max runtime" if status["status"] == "Stopped" else "no reason given"
    return f"job {status['job']} {status['status']}: {reason}"


def raise_if_unsuccessful(status: Mapping[str, Any]) -> None:
    if status["status"] in ("Failed", "Stopped"):
        raise JobFailed(failure_text(status))


def check_finished(job: str, config: JobConfig) -> dict[str, Any]:
    """The status of a job whose output can be fetched; otherwise one line saying why not."""
    status = status_of(describe(job, config))
    raise_if_unsuccessful(status)
    if status["status"] != "Completed":
        raise SimulationError(
            f"job {job} is {status['status']}; its output reaches S3 when it ends "
            f"(follow it with: {hint(f'python -m simulation watch {job}', f'wait_for_job({r_string(job)})')})"
        )
    return status


def format_duration(seconds: float | None) -> str:
    seconds = int(seconds or 0)
    hours, rest = divmod(seconds, 3600)
    return f"{hours:d}:{rest // 60:02d}:{rest % 60:02d}"


def stop_job(job: str, platform: str | None = None) -> dict[str, Any]:
    config = load_config(platform)
    describe(job, config)
    sagemaker = aws.client("sagemaker", config.region)
    aws.call_with_backoff(lambda: sagemaker.stop_processing_job(ProcessingJobName=job), f"stopping job {job}")
    return status_of(describe(job, config))


def _our_tags(sagemaker: Any, arn: str, config: JobConfig) -> dict[str, str] | None:
    """The job's tags when its `platform` tag is this platform (and in per-user (SageMaker) mode its `user` tag
    this user); None for anyone else's job."""
    response = aws.call_with_backoff(lambda: sagemaker.list_tags(ResourceArn=arn), f"reading the tags of {arn}")
    tags = {t.get("Key"): t.get("Value") for t in response.get("Tags", [])}
    wanted = {PLATFORM_TAG: config.platform}
    if config.user:
        wanted[USER_TAG] = tag_value(config.user)
    return tags if all(tags.get(key) == value for key, value in wanted.items()) else None


def list_jobs(platform: str | None = None, limit: Any = 20, status: str | None = None) -> list[dict[str, Any]]:
    """The platform's most recent jobs, newest first.

    A name prefix alone is not exact: platform `simlab`'s prefix `simlab-` also starts every job of a platform
    `simlab-dev` (and user alice's `simlab-alice-` those of a user `alice-b`). So the name prefix narrows the
    listing and the tags decide.
    """
    config = load_config(platform)
    count = as_int(limit, "limit", 1, 100)
    sagemaker = aws.client("sagemaker", config.region)
    prefix = f"{config.name_prefix}-"
    kwargs: dict[str, Any] = {
        "NameContains": prefix,
        "SortBy": "CreationTime",
        "SortOrder": "Descending",
        "MaxResults": 100,
    }
    if status:
        kwargs["StatusEquals"] = status
    rows: list[dict[str, Any]] = []
    for _ in range(MAX_LIST_PAGES):
        page = aws.call_with_backoff(functools.partial(sagemaker.list_processing_jobs, **kwargs), "listing jobs")
        for summary in page.get("ProcessingJobSummaries", []):
            name = summary["ProcessingJobName"]
            tags = _our_tags(sagemaker, summary["ProcessingJobArn"], config) if name.startswith(prefix) else None
            if tags is None:
                continue
            state = summary.get("ProcessingJobStatus")
            end = summary.get("ProcessingEndTime") if state in TERMINAL else None
            rows.append(
                {
                    "job": name,
                    "status": state,
                    "created": _iso(summary.get("CreationTime")),
                    "duration_seconds": _seconds(summary.get("CreationTime"), end),
                    "failure_reason": summary.get("FailureReason") or summary.get("ExitMessage"),
                    "kind": tags.get(KIND_TAG),
                }
            )
            if len(rows) == count:
                break
        if len(rows) == count or not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    rows.sort(key=lambda row: row["created"] or "", reverse=True)
    return rows[:count]
