"""moto server with what the boot rehearsal needs of AWS and moto 5.2.5 lacks, as AWS documents it.

`python -m rehearsal.boot.aws PORT` runs moto's own server after these additions (docs/rehearsal.md):

1. CloudFormation SignalResource, which moto does not implement: the stack and the logical resource must exist;
   the signal becomes a stack event "Received SUCCESS signal with UniqueId i-..." on that resource, as
   CloudFormation records it (AWS CloudFormation API reference, SignalResource; the CreationPolicy's events).
2. Resources for IAM enforcement. With enforcement on (`POST /moto-api/reset-auth 0`, moto's
   INITIAL_NO_AUTH_ACTION_COUNT), moto checks each request's action against the caller's policies, but for most
   services against the resource "*" only, so a statement naming a resource never allows anything. For the
   calls the host and its users make, the resource is the one IAM's service authorization reference names:
   the secret (Secrets Manager), the parameter (SSM), the processing job (SageMaker), the stack
   (SignalResource). S3 and STS AssumeRole already have theirs in moto.
3. Role principals match their sessions: a trust policy naming a role ARN admits that role's sessions (IAM user
   guide, "AWS JSON policy elements: Principal", role principals); moto compares the session's ARN
   (`assumed-role/NAME/SESSION`) with the role's and refuses. And EC2 delivers an instance profile's role: the
   metadata stand-in gets those keys by AssumeRole as the rehearsal's administrator (EC2_DELIVERY), which the
   trust check admits in EC2's place (moto would crash on a trust policy that names only a service).
Condition keys stay unevaluated (moto checks only StringEquals on keys it is given, and gives none).
"""

from __future__ import annotations

import sys
from typing import Any

from moto.cloudformation.models import Event, cloudformation_backends
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.common_types import TYPE_RESPONSE
from moto.iam import access_control
from moto.iam.access_control import AssumedRoleAccessKey, IAMPolicy, PermissionResult
from moto.iam.utils import format_incoming_conditional_values
from moto.sagemaker.responses import SageMakerResponse
from moto.secretsmanager.models import secretsmanager_backends
from moto.secretsmanager.responses import SecretsManagerResponse
from moto.ssm.responses import SimpleSystemManagerResponse

SIGNAL_STATUSES = ("SUCCESS", "FAILURE")
# The IAM user the rehearsal creates before enforcement; it stands in for EC2 handing out the host's role.
EC2_DELIVERY = "rehearsal-admin"


def _signal_resource(self: Any) -> TYPE_RESPONSE:
    backend = cloudformation_backends[self.current_account][self.region]
    stack = backend.get_stack(self._get_param("StackName"))
    logical_id = self._get_param("LogicalResourceId")
    unique_id = self._get_param("UniqueId")
    status = self._get_param("Status")
    known = logical_id in stack.template_dict.get("Resources", {})
    resource = stack.resource_map._parsed_resources.get(logical_id) if known else None
    if resource is None or status not in SIGNAL_STATUSES or not unique_id or len(unique_id) > 64:
        detail = f"Resource {logical_id} does not exist for stack {stack.name}" if resource is None else "bad signal"
        body = (
            '<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error>'
            f"<Type>Sender</Type><Code>ValidationError</Code><Message>{detail}</Message></Error></ErrorResponse>"
        )
        return 400, {"Content-Type": "text/xml"}, body
    event = Event(
        stack_id=stack.stack_id,
        stack_name=stack.name,
        logical_resource_id=logical_id,
        physical_resource_id=getattr(resource, "physical_resource_id", logical_id),
        resource_type=stack.template_dict["Resources"][logical_id]["Type"],
        resource_status="CREATE_IN_PROGRESS" if status == "SUCCESS" else "CREATE_FAILED",
        resource_status_reason=f"Received {status} signal with UniqueId {unique_id}",
        resource_properties=None,
    )
    stack.events.append(event)
    body = (
        '<SignalResourceResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">'
        "<ResponseMetadata><RequestId>rehearsal</RequestId></ResponseMetadata></SignalResourceResponse>"
    )
    return 200, {"Content-Type": "text/xml"}, body


def _cloudformation_resource(self: Any) -> str:
    if self._get_action() == "SignalResource":
        backend = cloudformation_backends[self.current_account][self.region]
        try:
            return str(backend.get_stack(self._get_param("StackName")).stack_id)
        except Exception:  # unknown stack: the action itself answers ValidationError
            return "*"
    return "*"


def _secret_resource(self: Any) -> str:
    secret_id = self._get_param("SecretId")
    if not secret_id:
        return "*"
    try:
        return str(secretsmanager_backends[self.current_account][self.region].describe_secret(secret_id).arn)
    except Exception:  # no such secret: the action answers ResourceNotFoundException
        return "*"


def _parameter_resource(self: Any) -> str:
    name = self._get_param("Name")
    if not name:
        return "*"
    if name.startswith("arn:"):
        return str(name)
    return f"arn:aws:ssm:{self.region}:{self.current_account}:parameter/{name.lstrip('/')}"


def _sagemaker_resource(self: Any) -> str:
    arn = self._get_param("ResourceArn")
    if arn:
        return str(arn)
    name = self._get_param("ProcessingJobName")
    if name:
        return f"arn:aws:sagemaker:{self.region}:{self.current_account}:processing-job/{name.lower()}"
    return "*"


def _check_role_trust_relationship(self: Any, role_arn: str) -> bool:
    caller = str(self._access_key.arn)
    if caller.endswith(f":user/{EC2_DELIVERY}"):
        return True
    principals = [caller]
    if isinstance(self._access_key, AssumedRoleAccessKey):
        principals.append(self.backend.get_role(self._access_key._owner_role_name).arn)
    policy = IAMPolicy(self.backend.get_role_by_arn(role_arn).assume_role_policy_document)
    conditions = format_incoming_conditional_values(self._data)

    def admits(principal: str) -> bool:
        try:
            result = policy.is_action_permitted(self._action, role_arn, principal, conditions)
        except TypeError:  # moto on a statement whose Principal names no AWS principal (a service)
            return False
        return bool(result == PermissionResult.PERMITTED)

    return any(admits(principal) for principal in principals)


def install() -> None:
    CloudFormationResponse.signal_resource = _signal_resource  # type: ignore[attr-defined]
    CloudFormationResponse._determine_resource = _cloudformation_resource  # type: ignore[attr-defined]
    SecretsManagerResponse._determine_resource = _secret_resource  # type: ignore[attr-defined]
    SimpleSystemManagerResponse._determine_resource = _parameter_resource  # type: ignore[attr-defined]
    SageMakerResponse._determine_resource = _sagemaker_resource  # type: ignore[attr-defined]
    access_control.IAMRequestBase._check_role_trust_relationship = _check_role_trust_relationship  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> None:
    from moto.server import main as moto_main

    args = sys.argv[1:] if argv is None else argv
    install()
    moto_main(["-H", "127.0.0.1", "-p", args[0]])


if __name__ == "__main__":
    main()
