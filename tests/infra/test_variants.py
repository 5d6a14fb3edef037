"""Properties that only a non-default setting shows. ONE extra small synth (no workspace) covers them all:
delete_data_on_destroy=true, nat_gateways=0 (a jobs-only platform with no way out of the VPC), and a region
fixed the way `cdk synth` fixes it from the caller's AWS config (nag finding IDs then spell the region)."""

from __future__ import annotations

import pytest

from tests.conftest import synthesize
from tests.infra.helpers import CFN_LINT_IGNORED, cfn_lint, one, rendered_json, resources

VARIANT = {"rstudio_mode": "none", "delete_data_on_destroy": "true", "nat_gateways": "0"}
REGION = "eu-west-1"


@pytest.fixture(scope="module")
def variant(tmp_path_factory):
    return synthesize(VARIANT, tmp_path_factory.mktemp("variant.out"), region=REGION)


def test_delete_switch_empties_and_deletes_bucket_and_repository(variant):
    data = variant.template_json["data"]
    for bucket in resources(data, "AWS::S3::Bucket").values():
        assert bucket["DeletionPolicy"] == "Delete"
    emptied = {r["Properties"]["BucketName"]["Ref"] for r in resources(data, "Custom::S3AutoDeleteObjects").values()}
    assert emptied == set(resources(data, "AWS::S3::Bucket"))
    _, repo = one(variant.template_json["jobs"], "AWS::ECR::Repository")
    assert repo["DeletionPolicy"] == "Delete"
    assert repo["Properties"]["EmptyOnDelete"] is True


def test_without_nat_nothing_in_the_vpc_reaches_the_internet(variant):
    network = variant.template_json["network"]
    for kind in ("AWS::EC2::NatGateway", "AWS::EC2::InternetGateway", "AWS::EC2::Route"):
        assert not resources(network, kind), kind
    assert len(resources(network, "AWS::EC2::Subnet")) == 4  # 2 workspace + 2 jobs, all isolated
    assert "workspace" not in variant.template_json


def test_fixed_region_lands_in_the_job_config(variant):
    (param,) = [r for r in resources(variant.template_json["jobs"], "AWS::SSM::Parameter").values()]
    assert rendered_json(param["Properties"]["Value"])["region"] == REGION


def test_variant_is_nag_and_lint_clean(variant):
    assert [r for r in variant.validation_report["pluginReports"] if r.get("violations")] == []
    result = cfn_lint(list(variant.template_paths.values()), ignore=CFN_LINT_IGNORED)
    assert result.returncode == 0, result.stdout + result.stderr
