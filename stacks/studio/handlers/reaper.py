"""Scheduled function: deletes RSession apps whose log has been silent for longer than the platform allows.

RStudio on SageMaker has no idle shutdown of its own (RSessionAppSettings has no lifecycle settings), and every
RSessionGateway app keeps an instance billing until it is deleted. The first line of defence is Workbench's own
idle timeout, baked into the RSession image (rsession.conf: session-timeout-minutes, session-timeout-suspend=0),
which ends an idle R session from inside; this function removes the app around it.

The signal: DescribeApp's `LastUserActivityTimestamp` cannot be used, because SageMaker's health checks refresh
it ("set to the same value as LastHealthCheckTimestamp", DescribeApp API reference). Instead, the time of the
last event in the app's own CloudWatch log stream, which health checks do not write: group /aws/sagemaker/studio,
stream <domain>/<user>/RSession/<app> (AWS, "Custom RStudio image specifications"). An InService app whose
last event, or its creation when later, is older than IDLE_MINUTES is deleted. An app without such a stream is
left alone and reported: the stream layout is AWS's documented one, not one this project has seen.

The user's files stay on the domain's home EFS; only the R session's memory is lost.
The schedule's event: {"domain_id": ..., "idle_minutes": ...}. Plain boto3, no other dependency.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
from botocore.exceptions import ClientError

from .common import LOG, SESSION_APP_TYPE, pages

LOG_GROUP = "/aws/sagemaker/studio"


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    deleted, unjudged = reap(
        boto3.client("sagemaker"),
        boto3.client("logs"),
        domain_id=str(event["domain_id"]),
        idle=timedelta(minutes=int(event["idle_minutes"])),
        now=datetime.now(timezone.utc),
    )
    return {"deleted": deleted, "no_log_stream": unjudged}


def log_stream(domain_id: str, user: str, app_name: str) -> str:
    return f"{domain_id}/{user}/RSession/{app_name}"


def last_log_event(logs: Any, stream: str) -> datetime | None:
    """Time of the newest event in `stream`, None if there is no such stream or it holds no event."""
    try:
        events = logs.get_log_events(logGroupName=LOG_GROUP, logStreamName=stream, limit=1, startFromHead=False)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return None
        raise
    stamps = [event["timestamp"] for event in events.get("events", [])]
    return datetime.fromtimestamp(max(stamps) / 1000, tz=timezone.utc) if stamps else None


def _utc(stamp: datetime) -> datetime:
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)


def reap(sagemaker: Any, logs: Any, *, domain_id: str, idle: timedelta, now: datetime) -> tuple[list[str], list[str]]:
    """Delete the domain's InService RSessions silent for longer than `idle`. Returns (deleted, without a log)."""
    deleted: list[str] = []
    unjudged: list[str] = []
    for summary in pages(sagemaker.list_apps, "Apps", DomainIdEquals=domain_id):
        if summary.get("AppType") != SESSION_APP_TYPE or summary.get("Status") != "InService":
            continue
        user, name = summary["UserProfileName"], summary["AppName"]
        what = f"{user}/{name}"
        last = last_log_event(logs, log_stream(domain_id, user, name))
        if last is None:
            LOG.warning("RSession %s has no log events in %s: not judged", what, LOG_GROUP)
            unjudged.append(what)
            continue
        created = summary.get("CreationTime")
        active = max(last, _utc(created)) if created else last
        if now - active <= idle:
            continue
        LOG.info("deleting RSession %s: nothing logged since %s", what, active.isoformat())
        key = {"DomainId": domain_id, "UserProfileName": user, "AppType": SESSION_APP_TYPE, "AppName": name}
        try:
            sagemaker.delete_app(**key)
            deleted.append(what)
        except ClientError as error:
            LOG.warning("cannot delete %s: %s", what, error)
    return deleted, unjudged
