"""Scheduled function: gives the domain its RStudioServerPro app back when a deploy left it stopped.

The version pin, the quiesce and the teardown keep the server app down while they work, with a deny of CreateApp on
the domain execution role (common.py) that stops SageMaker relaunching it. Every failing pass detaches the deny again,
but some ends leave it attached with the app gone: CloudFormation's rollback after the domain's own update failed does
not run the pin again; a rollback after the quiesce failed runs the quiesce's take-down once more; a function killed
by its timeout detaches nothing. Users then cannot log in until the next deploy.

So, on a schedule, and only while no CloudFormation operation runs on this stack (its status does not end in
_IN_PROGRESS: the pin, quiesce and teardown hold the deny only inside one), this function detaches a deny it finds
and, when the server app is absent, Deleted or Failed, creates it, which is what SageMaker itself does whenever the
role allows it (AWS, "Create a Domain with RStudio using the AWS CLI", DomainExecution role). A domain not InService
is left alone. The schedule's event: {"stack_name", "domain_id", "execution_role_name", "relaunch_guard_arn"}.
Plain boto3.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import ClientError

from .common import (
    GONE_APP_STATES,
    LOG,
    SERVER_APP,
    SERVER_APP_NAME,
    SERVER_APP_TYPE,
    SHARED_PROFILE,
    Pass,
    code,
    describe_server_app,
    release_relaunch,
)


@dataclass(frozen=True)
class Watch:
    stack_name: str
    domain_id: str
    execution_role_name: str
    relaunch_guard_arn: str

    @classmethod
    def of(cls, event: dict[str, Any]) -> Watch:
        return cls(
            stack_name=str(event["stack_name"]),
            domain_id=str(event["domain_id"]),
            execution_role_name=str(event["execution_role_name"]),
            relaunch_guard_arn=str(event["relaunch_guard_arn"]),
        )


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    clients = (boto3.client("cloudformation"), boto3.client("sagemaker"), boto3.client("iam"))
    return {"done": watch(*clients, Watch.of(event))}


def stack_busy(cloudformation: Any, stack_name: str) -> str | None:
    """The stack's status while an operation runs on it (or the stack cannot be read), else None."""
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name).get("Stacks", [])
    except ClientError as error:
        return f"unreadable ({code(error)})"
    status = str(stacks[0].get("StackStatus", "")) if stacks else "gone"
    return status if status.endswith("_IN_PROGRESS") or status == "gone" else None


def watch(cloudformation: Any, sagemaker: Any, iam: Any, target: Watch) -> list[str]:
    """One look: what it did (detached the deny, created the server app), or nothing."""
    busy = stack_busy(cloudformation, target.stack_name)
    if busy:
        LOG.info("stack %s is %s: left alone", target.stack_name, busy)
        return []
    try:
        status = sagemaker.describe_domain(DomainId=target.domain_id).get("Status")
    except ClientError as error:
        LOG.info("domain %s unreadable (%s): left alone", target.domain_id, code(error))
        return []
    if status != "InService":
        LOG.info("domain %s is %s: left alone", target.domain_id, status)
        return []
    done = Pass()
    release_relaunch(iam, target.execution_role_name, target.relaunch_guard_arn, done)
    app = describe_server_app(sagemaker, target.domain_id)
    if app is None or app.get("Status") in GONE_APP_STATES:
        what = f"create {SERVER_APP}"
        try:
            sagemaker.create_app(
                DomainId=target.domain_id,
                UserProfileName=SHARED_PROFILE,
                AppType=SERVER_APP_TYPE,
                AppName=SERVER_APP_NAME,
            )
            done.requested.append(what)
        except ClientError as error:  # e.g. SageMaker's own relaunch came first: the next look sees it
            LOG.warning("%s: %s", what, error)
    for action in done.requested:
        LOG.warning("domain %s: %s (a deploy had left it stopped)", target.domain_id, action)
    return done.requested
