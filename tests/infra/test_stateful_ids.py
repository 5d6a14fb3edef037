"""Logical IDs of stateful resources. A change here means CloudFormation REPLACES the resource on the next
deploy (a new, empty bucket or repository). Change these only together with a migration plan."""

from __future__ import annotations

PINNED = {
    "data": {"DataBucketE6B0FAA8": "AWS::S3::Bucket", "DataAccessLogsC0C25EE4": "AWS::S3::Bucket"},
    "jobs": {"JobsUserImagesAEB95278": "AWS::ECR::Repository", "JobsJobConfigC9233F26": "AWS::SSM::Parameter"},
}


def test_stateful_logical_ids_are_pinned(synthesized):
    for component, expected in PINNED.items():
        resources = synthesized.template_json[component]["Resources"]
        actual = {k: resources[k]["Type"] for k in expected if k in resources}
        assert actual == expected, f"{component}: stateful logical IDs changed"
