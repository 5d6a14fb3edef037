"""Every IAM role the app synthesizes carries the permissions boundary and role path, whoever wrote it (our
constructs, CDK's raw custom-resource provider roles, the provider framework, per-user roles); every taggable
resource carries the cost tags next to `platform`."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from stacks.governance import govern
from stacks.settings import Settings
from tests.infra.helpers import resources
from tests.landing.conftest import BOUNDARY, CONTEXTS, GOVERNED, ROLE_PATH, TAGS

# Resource types and where they keep their tags (a sample across services, as each mode has them).
TAGGED = {
    "AWS::S3::Bucket": "Tags",
    "AWS::IAM::Role": "Tags",
    "AWS::EC2::SecurityGroup": "Tags",
    "AWS::Lambda::Function": "Tags",
    "AWS::Logs::LogGroup": "Tags",
    "AWS::ECR::Repository": "Tags",
    "AWS::SSM::Parameter": "Tags",
    "AWS::EC2::VPCEndpoint": "Tags",
    "AWS::EC2::VPC": "Tags",
    "AWS::EC2::Instance": "Tags",
    "AWS::EFS::FileSystem": "FileSystemTags",
    "AWS::SecretsManager::Secret": "Tags",
    "AWS::SageMaker::Domain": "Tags",
    "AWS::SageMaker::UserProfile": "Tags",
    "AWS::CloudWatch::Alarm": "Tags",
}


def roles(synthesized) -> dict[str, dict]:
    return {
        f"{component}/{logical_id}": role
        for component, template in synthesized.template_json.items()
        for logical_id, role in resources(template, "AWS::IAM::Role").items()
    }


@pytest.mark.parametrize("name", list(CONTEXTS))
def test_every_role_has_the_boundary_and_the_path(landing, name):
    found = roles(landing[name])
    assert found
    missing = [k for k, r in found.items() if r["Properties"].get("PermissionsBoundary") != BOUNDARY]
    assert missing == []
    assert {r["Properties"].get("Path") for r in found.values()} == {ROLE_PATH}


def test_the_roles_cdk_writes_raw_are_covered(landing):
    """CDK's singleton providers (S3 auto-delete, the default-security-group closer) write AWS::IAM::Role as a
    plain CfnResource, the classic gap of iam.PermissionsBoundary; the provider framework and the flow log too."""
    paths = {}
    for synthesized in (landing["own-none"], landing["given-ec2"], landing["given-sagemaker"]):
        for stack in synthesized.platform.stacks:
            template = json.loads((synthesized.cdk_out / stack.template_file).read_text())
            for construct in stack.node.find_all():
                if isinstance(construct, cdk.CfnResource) and construct.cfn_resource_type == "AWS::IAM::Role":
                    logical_id = stack.resolve(construct.logical_id)
                    paths[construct.node.path] = template["Resources"][logical_id]["Properties"]
    expected = (
        "Custom::S3AutoDeleteObjectsCustomResourceProvider/Role",
        "Custom::VpcRestrictDefaultSGCustomResourceProvider/Role",
        "Network/Vpc/FlowLog/IAMRole/Resource",
        "Network/Check/Provider/framework-onEvent/ServiceRole/Resource",
        "AWS679f53fac002430cb0da5b7982bd2287/ServiceRole/Resource",
        "Studio/ExecutionRole/Resource",
    )
    for suffix in expected:
        matching = [p for p in paths if p.endswith(suffix)]
        assert matching, suffix
        assert all(paths[p]["PermissionsBoundary"] == BOUNDARY for p in matching)


def test_a_role_added_after_assembly_is_covered_too(tmp_path):
    """The aspect runs at synth: a construct added later (say, a new per-user role) cannot slip past it."""
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Later")
    govern([stack], Settings.from_context(dict(GOVERNED)))
    iam.Role(stack, "AddedLater", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    s3.Bucket(stack, "Emptied", auto_delete_objects=True, removal_policy=cdk.RemovalPolicy.DESTROY)
    template = Template.from_stack(stack).to_json()
    found = resources(template, "AWS::IAM::Role")
    assert len(found) == 2
    assert {json.dumps(r["Properties"]["PermissionsBoundary"]) for r in found.values()} == {json.dumps(BOUNDARY)}


def test_without_the_settings_no_role_gets_a_boundary(synthesized):
    for component, template in synthesized.template_json.items():
        for logical_id, role in resources(template, "AWS::IAM::Role").items():
            assert "PermissionsBoundary" not in role["Properties"], f"{component}/{logical_id}"
            assert "Path" not in role["Properties"], f"{component}/{logical_id}"


def _tags(properties: dict, where: str) -> dict[str, str]:
    tags = properties.get(where, {})
    if isinstance(tags, dict):  # AWS::SSM::Parameter keeps a map
        return {str(k): str(v) for k, v in tags.items()}
    return {t["Key"]: t["Value"] for t in tags}


@pytest.mark.parametrize("name", list(CONTEXTS))
def test_taggable_resources_carry_the_cost_tags_and_platform(landing, name):
    seen = set()
    for template in landing[name].template_json.values():
        for kind, where in TAGGED.items():
            for logical_id, resource in resources(template, kind).items():
                tags = _tags(resource["Properties"], where)
                assert {**TAGS, "platform": "simlab"}.items() <= tags.items(), f"{kind} {logical_id}: {tags}"
                seen.add(kind)
    assert len(seen) >= 7, seen


def test_the_stacks_carry_the_tags_for_what_cdk_cannot_tag(landing):
    synthesized = landing["given-none"]
    manifest = json.loads((synthesized.cdk_out / "manifest.json").read_text())["artifacts"]
    for stack in synthesized.platform.stacks:
        assert manifest[stack.artifact_id]["properties"]["tags"] == {**TAGS, "platform": "simlab"}
