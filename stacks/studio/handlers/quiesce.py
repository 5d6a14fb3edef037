"""Custom resource that takes the domain's RStudio apps down before CloudFormation updates the domain resource itself.

CloudFormation's update of an AWS::SageMaker::Domain always sends the domain's RStudio settings (AWS's resource
provider, aws-sagemaker-domain UpdateHandler and TranslatorForRequest.translateToUpdateRequest), and SageMaker
refuses that UpdateDomain while an app runs ("Unable to update Domain ... with InService App"); the domain's server
app always runs. So any change to the domain resource, a new cost tag from `tags` above all, would fail the deploy.
The domain depends on this resource, which carries a digest of the domain's properties and tags (stacks/studio/
quiesce.py): when they change, CloudFormation updates this resource first, and its update runs the take-down of AWS's
upgrade procedure (the same steps as upgrade.py: hold SageMaker's relaunch, delete the RSessions, delete the server
app until it stays deleted). The version pin carries the same digest, so CloudFormation updates it right after the
domain, and the pin lets SageMaker relaunch the server app again and starts it (upgrade.py).

The domain is found by its logical ID in this stack (cloudformation:DescribeStackResource): it depends on this
resource, so its ID cannot be a property here. The SageMaker and IAM calls are made as the pin's role
(sts:AssumeRole), which the domain ID already scopes; this function's own role holds only those two calls.

Create and Delete do nothing (a new domain has no apps to stop; the teardown resource empties a deleted one), nor does
an Update whose digest did not change. A pass that fails detaches the deny first, as the pin does. Plain boto3.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import ClientError

from .common import (
    LOG,
    NOT_FOUND,
    WAIT_DOMAIN_STATES,
    Pass,
    code,
    relaunch_released_on_failure,
    take_down,
)


class QuiesceFailed(RuntimeError):
    """The domain is in a state no update can start from; the message is what CloudFormation shows."""


@dataclass
class Clients:
    cloudformation: Any
    sagemaker: Any
    iam: Any
    sleep: Callable[[float], None] = time.sleep

    @classmethod
    def default(cls, props: dict[str, Any]) -> Clients:
        """This function's own client for its stack, and the pin's role for SageMaker and IAM."""
        role = boto3.client("sts").assume_role(RoleArn=props["PinRoleArn"], RoleSessionName="domain-quiesce")
        keys = role["Credentials"]
        session = boto3.Session(
            aws_access_key_id=keys["AccessKeyId"],
            aws_secret_access_key=keys["SecretAccessKey"],
            aws_session_token=keys["SessionToken"],
        )
        return cls(
            cloudformation=boto3.client("cloudformation"),
            sagemaker=session.client("sagemaker"),
            iam=session.client("iam"),
        )


@dataclass(frozen=True)
class Quiesce:
    """ResourceProperties of Custom::DomainQuiesce."""

    stack_name: str
    domain_logical_id: str
    execution_role_name: str
    relaunch_guard_arn: str
    digest: str

    @classmethod
    def of(cls, props: dict[str, Any]) -> Quiesce:
        return cls(
            stack_name=str(props["StackName"]),
            domain_logical_id=str(props["DomainLogicalId"]),
            execution_role_name=str(props["ExecutionRoleName"]),
            relaunch_guard_arn=str(props["RelaunchGuardArn"]),
            digest=str(props["DomainDigest"]),
        )


def _needed(event: dict[str, Any]) -> bool:
    """Only an update that changes the domain resource (its digest) needs the apps down."""
    if event["RequestType"] != "Update":
        return False
    return bool(event["ResourceProperties"].get("DomainDigest") != event["OldResourceProperties"].get("DomainDigest"))


def on_event(event: dict[str, Any], context: Any) -> dict[str, Any]:
    clients = Clients.default(event["ResourceProperties"]) if _needed(event) else None
    return handle_event(event, clients)


def is_complete(event: dict[str, Any], context: Any) -> dict[str, Any]:
    clients = Clients.default(event["ResourceProperties"]) if _needed(event) else None
    return check_complete(event, clients)


def handle_event(event: dict[str, Any], clients: Clients | None) -> dict[str, Any]:
    quiesce = Quiesce.of(event["ResourceProperties"])
    LOG.info("%s: domain %s of %s", event["RequestType"], quiesce.domain_logical_id, quiesce.stack_name)
    if _needed(event):
        assert clients is not None
        quiesce_pass(clients, quiesce)
    return {"PhysicalResourceId": f"quiesce-{quiesce.stack_name}-{quiesce.domain_logical_id}"}


def check_complete(event: dict[str, Any], clients: Clients | None) -> dict[str, Any]:
    if not _needed(event):
        return {"IsComplete": True}
    assert clients is not None
    result = quiesce_pass(clients, Quiesce.of(event["ResourceProperties"]))
    LOG.info("requested: %s; remaining: %s", result.requested, result.remaining)
    return {"IsComplete": result.done}


def domain_id(cloudformation: Any, quiesce: Quiesce) -> str | None:
    """The domain's ID from this stack's record of it; None when the stack has none (yet)."""
    try:
        resource = cloudformation.describe_stack_resource(
            StackName=quiesce.stack_name, LogicalResourceId=quiesce.domain_logical_id
        )["StackResourceDetail"]
    except ClientError as error:
        if code(error) == "ValidationError":  # "Resource ... does not exist for stack ..."
            return None
        raise
    physical = resource.get("PhysicalResourceId")
    return str(physical) if physical else None


def quiesce_pass(clients: Clients, quiesce: Quiesce) -> Pass:
    """One pass of the take-down; a pass that fails lets SageMaker relaunch the server app again first."""
    with relaunch_released_on_failure(clients.iam, quiesce.execution_role_name, quiesce.relaunch_guard_arn):
        return _quiesce_pass(clients, quiesce)


def _quiesce_pass(clients: Clients, quiesce: Quiesce) -> Pass:
    result = Pass()
    found = domain_id(clients.cloudformation, quiesce)
    if found is None:
        return result
    try:
        domain = clients.sagemaker.describe_domain(DomainId=found)
    except ClientError as error:
        if code(error) in NOT_FOUND:
            return result
        raise
    status = domain.get("Status")
    if status in WAIT_DOMAIN_STATES:
        result.remaining.append(f"domain {found} ({status})")
        return result
    if status != "InService":
        raise QuiesceFailed(
            f"domain {found} is {status} ({domain.get('FailureReason', 'no reason given')}): CloudFormation cannot "
            "update it; fix it in the console or with update-domain, then deploy again"
        )
    take_down(
        clients.sagemaker,
        clients.iam,
        found,
        quiesce.execution_role_name,
        quiesce.relaunch_guard_arn,
        result,
        clients.sleep,
    )
    return result
