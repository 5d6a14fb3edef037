"""Custom::DomainQuiesce: before CloudFormation updates the AWS::SageMaker::Domain resource itself (a changed cost
tag, a change in how the domain is rendered), the domain's RStudio apps go down, because SageMaker refuses
CloudFormation's UpdateDomain while they run (handlers/quiesce.py says why). The domain depends on it; the version
pin, after the domain, brings the server app back. Both carry `domain_digest`, so both run exactly when the domain
resource changes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from stacks.studio.functions import polled_provider
from stacks.studio.pin import PIN_POLL, PIN_TIMEOUT


def domain_digest(domain: sagemaker.CfnDomain, tags: Mapping[str, str]) -> str:
    """SHA-256 of what CloudFormation would update on the domain: its properties as constructed and the tags the
    stack's Tags aspect adds at synthesis (`tags`: the platform tag and the `tags` setting), which are not among
    the properties yet when this runs."""
    stack = cdk.Stack.of(domain)
    rendered = {"Properties": stack.resolve(domain._cfn_properties), "Tags": dict(sorted(tags.items()))}
    return hashlib.sha256(json.dumps(rendered, sort_keys=True).encode()).hexdigest()


class DomainQuiesce(Construct):
    """Exposes `resource`, `provider` and the two handler functions (`on_event`, `is_complete`)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        domain: sagemaker.CfnDomain,
        digest: str,
        execution_role: iam.Role,
        relaunch_guard: iam.ManagedPolicy,
        pin_role: iam.Role,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        # The domain's ID from this stack only; everything else as the pin's role, which the domain ID scopes.
        polled = polled_provider(
            self,
            module="quiesce",
            starts="Stops the domain's RStudio apps before CloudFormation updates the domain",
            continues="Continues stopping the domain's RStudio apps until the server app stays deleted",
            statements=[
                iam.PolicyStatement(
                    sid="FindDomain", actions=["cloudformation:DescribeStackResource"], resources=[stack.stack_id]
                ),
                iam.PolicyStatement(sid="ActAsPin", actions=["sts:AssumeRole"], resources=[pin_role.role_arn]),
            ],
            poll=PIN_POLL,
            timeout=PIN_TIMEOUT,
        )
        self.on_event, self.is_complete, self.provider = polled.on_event, polled.is_complete, polled.provider
        for function in (self.on_event, self.is_complete):
            pin_role.assume_role_policy.add_statements(  # type: ignore[union-attr]
                iam.PolicyStatement(actions=["sts:AssumeRole"], principals=[iam.ArnPrincipal(function.role.role_arn)])
            )
        self.resource = cdk.CustomResource(
            self,
            "Resource",
            service_token=self.provider.service_token,
            resource_type="Custom::DomainQuiesce",
            properties={
                "StackName": stack.stack_name,
                "DomainLogicalId": stack.get_logical_id(domain),
                "ExecutionRoleName": execution_role.role_name,
                "RelaunchGuardArn": relaunch_guard.managed_policy_arn,
                "PinRoleArn": pin_role.role_arn,
                "DomainDigest": digest,
            },
        )
        self.resource.node.add_dependency(self.on_event.role, self.is_complete.role)
        domain.node.add_dependency(self.resource)
