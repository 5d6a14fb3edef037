"""Synthesized landing-zone platforms, once per session: the three modes in a given VPC with a permissions
boundary, a role path and cost tags, and two in the platform's own VPC (for the roles only an own VPC has, and
the endpoints each mode creates there)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import SynthesizedPlatform, synthesize

BOUNDARY = "arn:aws:iam::123456789012:policy/OrgBoundary"
ROLE_PATH = "/simlab/"
TAGS = {"CostCenter": "4711", "Owner": "stats-team"}
VPC = "vpc-0a1b2c3d4e5f60718"
WORKSPACE_SUBNETS = ["subnet-0aaa1111bbbb2222c", "subnet-0ddd3333eeee4444f"]
JOB_SUBNETS = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
ZONES = ["eu-west-1a", "eu-west-1b"]
GOVERNED = {
    "permissions_boundary_arn": BOUNDARY,
    "iam_role_path": ROLE_PATH,
    "tags": ",".join(f"{k}={v}" for k, v in TAGS.items()),
}
GIVEN = {
    "vpc_id": VPC,
    "workspace_subnet_ids": ",".join(WORKSPACE_SUBNETS),
    "job_subnet_ids": ",".join(JOB_SUBNETS),
    "availability_zones": ",".join(ZONES),
}
CONTEXTS: dict[str, dict[str, Any]] = {
    # The landing zone provides the endpoints (the DNS probe is synthesized); CloudFront access brings CDK's
    # AwsCustomResource singleton role.
    "given-ec2": {**GOVERNED, **GIVEN, "interface_endpoints": "none"},
    # The platform's endpoints in one zone of the given VPC, the domain's two included.
    "given-sagemaker": {
        **GOVERNED,
        **GIVEN,
        "rstudio_mode": "sagemaker",
        "rstudio_users": "alice:admin,bob",
        "endpoint_azs": "1",
    },
    # delete_data_on_destroy brings CDK's S3 auto-delete provider, whose role is a raw AWS::IAM::Role.
    "given-none": {
        **GOVERNED,
        **GIVEN,
        "rstudio_mode": "none",
        "interface_endpoints": "none",
        "delete_data_on_destroy": "true",
    },
    # Own VPC: the flow-log role and the default-security-group closer's provider role.
    "own-none": {**GOVERNED, "rstudio_mode": "none", "delete_data_on_destroy": "true"},
    "own-sagemaker": {**GOVERNED, "rstudio_mode": "sagemaker", "rstudio_users": "alice", "endpoint_azs": "1"},
}


@pytest.fixture(scope="session")
def landing(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SynthesizedPlatform]:
    return {
        name: synthesize(context, tmp_path_factory.mktemp(f"landing-{name}"), region="eu-west-1")
        for name, context in CONTEXTS.items()
    }
