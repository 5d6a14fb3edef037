"""Logical IDs of stateful resources. A change here means CloudFormation REPLACES the resource on the next
deploy (a new, empty bucket or repository). Change these only together with a migration plan."""

from __future__ import annotations

import json

PINNED = {
    "data": {"DataBucketE6B0FAA8": "AWS::S3::Bucket", "DataAccessLogsC0C25EE4": "AWS::S3::Bucket"},
    "jobs": {"JobsUserImagesAEB95278": "AWS::ECR::Repository", "JobsJobConfigC9233F26": "AWS::SSM::Parameter"},
}


def test_stateful_logical_ids_are_pinned(synthesized):
    for component, expected in PINNED.items():
        resources = synthesized.template_json[component]["Resources"]
        actual = {k: resources[k]["Type"] for k in expected if k in resources}
        assert actual == expected, f"{component}: stateful logical IDs changed"


# Properties that give a resource a fixed physical name (unique per account and region).
NAME_PROPERTIES = {"BucketName", "RepositoryName", "LogGroupName", "FileSystemName", "Name", "TableName"}


def test_kept_resources_have_no_fixed_name(synthesized):
    # A resource kept on destroy keeps its name: if that name is fixed, the next `cdk deploy` of the
    # same platform fails with "already exists".
    for component, template in synthesized.template_json.items():
        for logical_id, resource in template["Resources"].items():
            if resource.get("DeletionPolicy") == "Retain":
                # A name carrying the stack's UUID (AWS::StackId) differs per stack instance: allowed.
                props = resource.get("Properties", {})
                named = {k for k in NAME_PROPERTIES & set(props) if "AWS::StackId" not in json.dumps(props[k])}
                assert not named, f"{component}/{logical_id} is kept on destroy but named by {sorted(named)}"
