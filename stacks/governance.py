"""What a landing zone asks of every resource, applied once to the whole app: the organisation's permissions
boundary (and role path) on every IAM role, and the cost tags next to the platform's own `platform` tag.

The boundary is an aspect over the CloudFormation resources rather than `iam.PermissionsBoundary.of(...)`, because
it must also reach the roles CDK writes as raw `AWS::IAM::Role` resources (the singleton custom-resource providers
behind S3 auto-delete or the default-security-group closer, the provider framework's roles) and every role a
later construct adds (per-user roles): whatever the type's class, if it synthesizes to AWS::IAM::Role it is
covered. Aspects run at synth, after every construct exists.
"""

from __future__ import annotations

from collections.abc import Iterable

import aws_cdk as cdk
import jsii
from constructs import IConstruct

from stacks.settings import Settings

ROLE = "AWS::IAM::Role"
PLATFORM_TAG = "platform"


@jsii.implements(cdk.IAspect)
class RoleGovernance:
    """Sets PermissionsBoundary (and Path) on every AWS::IAM::Role."""

    def __init__(self, boundary_arn: str, path: str) -> None:
        self.boundary_arn = boundary_arn
        self.path = path

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, cdk.CfnResource) and node.cfn_resource_type == ROLE:
            if self.boundary_arn:
                node.add_property_override("PermissionsBoundary", self.boundary_arn)
            if self.path:
                node.add_property_override("Path", self.path)


@jsii.implements(cdk.IAspect)
class RawResourceTags:
    """Tags for the resources CDK writes as plain CfnResource (its singleton custom-resource providers' role and
    function), which the Tags aspect cannot see: CloudFormation accepts Tags on both types."""

    TYPES = ("AWS::IAM::Role", "AWS::Lambda::Function")

    def __init__(self, tags: dict[str, str]) -> None:
        self.tags = [{"Key": key, "Value": value} for key, value in tags.items()]

    def visit(self, node: IConstruct) -> None:
        if (
            isinstance(node, cdk.CfnResource)
            and node.cfn_resource_type in self.TYPES
            and not cdk.TagManager.is_taggable(node)
        ):
            node.add_property_override("Tags", self.tags)


def govern(stacks: Iterable[cdk.Stack], settings: Settings) -> None:
    """Tags on every stack (CDK tags each taggable resource; the stack tags reach what CDK cannot tag), and the
    boundary and path on every role, when the settings ask for them."""
    for stack in stacks:
        cdk.Tags.of(stack).add(PLATFORM_TAG, settings.platform_name)
        for key, value in settings.tag_map.items():
            cdk.Tags.of(stack).add(key, value)
        if settings.tags:
            cdk.Aspects.of(stack).add(RawResourceTags({PLATFORM_TAG: settings.platform_name, **settings.tag_map}))
        if settings.permissions_boundary_arn or settings.iam_role_path:
            cdk.Aspects.of(stack).add(RoleGovernance(settings.permissions_boundary_arn, settings.iam_role_path))
