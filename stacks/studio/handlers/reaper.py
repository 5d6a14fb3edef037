"""Scheduled function: deletes RSession apps that have been idle longer than the platform allows.

RStudio on SageMaker has no idle shutdown of its own, and every RSession app keeps an instance billing until it
is deleted. Idleness is judged from what SageMaker records for the app (DescribeApp): the time of the user's
last activity (`LastUserActivityTimestamp`) or, when SageMaker reports none, the app's creation time. An app
whose latest of those is older than IDLE_MINUTES is deleted. The user's files stay on the domain's home EFS;
only the R session's memory is lost (RStudio saves open editor buffers in the home directory).

Environment: DOMAIN_ID, IDLE_MINUTES. Plain boto3, no other dependency.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
from botocore.exceptions import ClientError

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)

SESSION_APP_TYPE = "RSessionGateway"


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    deleted = reap(
        boto3.client("sagemaker"),
        domain_id=os.environ["DOMAIN_ID"],
        idle=timedelta(minutes=int(os.environ["IDLE_MINUTES"])),
        now=datetime.now(timezone.utc),
    )
    return {"deleted": deleted}


def last_active(app: dict[str, Any]) -> datetime:
    """When the app was last known to be in use: the user's last activity, else its creation."""
    stamp: datetime = app.get("LastUserActivityTimestamp") or app["CreationTime"]
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)


def reap(sagemaker: Any, *, domain_id: str, idle: timedelta, now: datetime) -> list[str]:
    """Delete the domain's InService RSession apps idle for longer than `idle`; return their descriptions."""
    deleted: list[str] = []
    kwargs: dict[str, Any] = {"DomainIdEquals": domain_id}
    while True:
        page = sagemaker.list_apps(**kwargs)
        for summary in page.get("Apps", []):
            if summary.get("AppType") != SESSION_APP_TYPE or summary.get("Status") != "InService":
                continue
            owner = {"UserProfileName": summary["UserProfileName"]}
            key = {"DomainId": domain_id, "AppType": SESSION_APP_TYPE, "AppName": summary["AppName"], **owner}
            try:
                app = sagemaker.describe_app(**key)
            except ClientError as error:
                LOG.warning("cannot describe %s: %s", key, error)
                continue
            if app.get("Status") != "InService" or now - last_active(app) <= idle:
                continue
            what = f"{summary['UserProfileName']}/{summary['AppName']}"
            LOG.info("deleting idle RSession %s (last active %s)", what, last_active(app).isoformat())
            try:
                sagemaker.delete_app(**key)
                deleted.append(what)
            except ClientError as error:
                LOG.warning("cannot delete %s: %s", what, error)
        token = page.get("NextToken")
        if not token:
            return deleted
        kwargs["NextToken"] = token
