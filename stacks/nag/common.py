"""How an acknowledgement is written: one AwsSolutions finding or one compliance rule (both packs), on the
narrowest construct that carries it, and how cdk-nag spells a resource in a finding ID."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import custom_resources as cr
from constructs import IConstruct

COMPLIANCE_PACKS = ("HIPAA.Security", "NIST.800.53.R5")


def acknowledge(scope: IConstruct, finding: str, reason: str) -> None:
    """Acknowledge one AwsSolutions finding (e.g. "IAM5[Resource::*]") on `scope` and its children.

    A role's own policy (CDK's DefaultPolicy) is its child: acknowledge its findings on the role."""
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=f"AwsSolutions-{finding}", reason=reason))


def acknowledge_compliance(scope: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge one HIPAA Security / NIST 800-53 R5 rule (e.g. "IAMNoInlinePolicy") in both packs."""
    for pack in COMPLIANCE_PACKS:
        cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=f"{pack}-{rule}", reason=reason))


def flat(scope: IConstruct, value: str) -> str:
    """How cdk-nag spells `value` in a finding ID: its stack-resolved form flattened, Refs as `<Name>`,
    GetAtts as `<Id.Attr>`. Resolving here keeps IDs right whether or not the CLI fixes a region or account
    (`cdk synth` with a default region writes "us-east-1" where a bare synth writes "<AWS::Region>")."""
    return _flatten(cdk.Stack.of(scope).resolve(value))


def _flatten(node: Any) -> str:
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict) and "Fn::Join" in node:
        delimiter, items = node["Fn::Join"]
        return str(delimiter).join(_flatten(item) for item in items)
    if isinstance(node, dict) and "Fn::Sub" in node:
        return _flatten(node["Fn::Sub"])
    if isinstance(node, dict) and "Fn::GetAtt" in node:
        resource, attribute = node["Fn::GetAtt"]
        return f"<{_flatten(resource)}.{_flatten(attribute)}>"
    if isinstance(node, dict) and "Fn::ImportValue" in node:
        return _flatten(node["Fn::ImportValue"])
    if isinstance(node, dict) and "Ref" in node:
        return f"<{_flatten(node['Ref'])}>"
    raise ValueError(f"cannot spell {node!r} as a cdk-nag finding")


def imported_name(owner: IConstruct, value: str) -> str:
    """How cdk-nag shows `value`, an attribute of `owner` (e.g. a bucket ARN), in another stack.

    The consuming stack sees `Fn::ImportValue <export name>`; asking the owner's stack for the export now
    returns the name CDK gives it later when it resolves the reference (the export is created only once).
    """
    producer = cdk.Stack.of(owner)
    return str(producer.resolve(producer.export_value(value))["Fn::ImportValue"])


# The lambda CDK deploys once per stack for every AwsCustomResource (the workspace's VPC-origin SG lookup).
AWS_CUSTOM_RESOURCE_LAMBDA = "AWS679f53fac002430cb0da5b7982bd2287"
LAMBDA_BASIC = "arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


@dataclass(frozen=True)
class ProviderFramework:
    """CDK's provider framework (`custom_resources.Provider`) as cdk-nag sees it: its framework functions (onEvent;
    isComplete and onTimeout when there is a waiter), their roles, and the waiter's state machine and role. CDK
    names these children of the provider; this is the one place that knows their names."""

    functions: tuple[lambda_.Function, ...]
    roles: tuple[iam.IRole, ...]
    waiter: IConstruct | None
    waiter_role: IConstruct | None

    @staticmethod
    def of(provider: cr.Provider) -> ProviderFramework:
        functions = tuple(
            child
            for child in provider.node.children
            if child.node.id.startswith("framework-") and isinstance(child, lambda_.Function)
        )
        waiter = provider.node.try_find_child("waiter-state-machine")
        return ProviderFramework(
            functions=functions,
            roles=tuple(function.role for function in functions if function.role is not None),
            waiter=waiter,
            waiter_role=waiter.node.try_find_child("Role") if waiter is not None else None,
        )

    def function(self, name: str) -> lambda_.Function:
        """The framework function `name` ("onEvent", "isComplete", "onTimeout")."""
        (found,) = [function for function in self.functions if function.node.id == f"framework-{name}"]
        return found
