"""The rendered submitter policies of the platform and of SageMaker-mode users alice and bob, evaluated as IAM
evaluates them (tests/client/iam_eval.py): each allows its own jobs, logs, objects and config, with its own tags,
and refuses the same requests aimed at anyone else's. The positive half keeps the negative half from passing
because nothing at all is allowed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.client.iam_eval import Request, allowed, authorizations
from tests.client.submitter_policy import ACCOUNT, REGION, Submitter, rendered, rendered_user

LOG_GROUP = "/aws/sagemaker/ProcessingJobs"


@pytest.fixture(scope="module")
def submitters(synth_of) -> dict[str, Submitter]:
    studio = synth_of("sagemaker")
    return {
        "platform": rendered(synth_of("ec2")),
        "alice": rendered_user(studio, "alice"),
        "bob": rendered_user(studio, "bob"),
    }


def _create(config: dict[str, Any], name: str, tags: dict[str, str], **changes: Any) -> dict[str, Any]:
    """A CreateProcessingJob request as the client builds it, within `config`'s limits unless `changes` say."""
    request: dict[str, Any] = {
        "ProcessingJobName": name,
        "RoleArn": config["execution_role_arn"],
        "ProcessingResources": {"ClusterConfig": {"InstanceType": config["default_instance_type"]}},
        "NetworkConfig": {
            "EnableNetworkIsolation": True,
            "VpcConfig": {"Subnets": config["subnet_ids"], "SecurityGroupIds": config["security_group_ids"]},
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": config["max_runtime_seconds"]},
        "Tags": [{"Key": key, "Value": value} for key, value in tags.items()],
    }
    request.update(changes)
    return request


def _verdicts(policy: dict[str, Any], service: str, operation: str, params: dict[str, Any]) -> list[bool]:
    return [allowed(policy, r) for r in authorizations(service, operation, params, account=ACCOUNT, region=REGION)]


def _ok(policy: dict[str, Any], service: str, operation: str, params: dict[str, Any]) -> bool:
    return all(_verdicts(policy, service, operation, params))


def _own_tags(submitter: Submitter) -> dict[str, str]:
    tags = {"platform": submitter.config["platform"], "user": submitter.config.get("user", "anyone")}
    return tags


def _prefix(submitter: Submitter) -> str:
    return str(submitter.config.get("job_name_prefix", submitter.config["platform"]))


@pytest.mark.parametrize("who", ["platform", "alice"])
def test_own_jobs_logs_objects_and_config_are_allowed(submitters, who):
    me = submitters[who]
    policy, config, prefix = me.policy, me.config, _prefix(me)
    job = f"{prefix}-sim-20261206-120000-0a1b2c3d"
    assert _ok(policy, "sagemaker", "CreateProcessingJob", _create(config, job, _own_tags(me)))
    for operation in ("DescribeProcessingJob", "StopProcessingJob"):
        assert _ok(policy, "sagemaker", operation, {"ProcessingJobName": job})
    stream = {"logGroupName": LOG_GROUP, "logStreamName": f"{job}/algo-1-1700000000"}
    assert _ok(policy, "logs", "GetLogEvents", stream)
    key = {"Bucket": config["bucket"], "Key": f"jobs/{job}/output/summary.json"}
    assert _ok(policy, "s3", "GetObject", key)
    assert _ok(policy, "s3", "PutObject", key)
    assert _ok(policy, "s3", "ListObjectsV2", {"Bucket": config["bucket"], "Prefix": f"jobs/{job}/"})
    assert _ok(policy, "ssm", "GetParameter", {"Name": me.parameter})
    repository = config["ecr_repository_uri"].split("/", 1)[1]
    assert _ok(policy, "ecr", "DescribeImages", {"repositoryName": repository})


def test_a_user_reaches_nothing_of_another_user(submitters):
    alice, bob = submitters["alice"], submitters["bob"]
    policy, config = alice.policy, alice.config
    bobs_job = f"{_prefix(bob)}-sim-20261206-120000-0a1b2c3d"
    refused = {
        "create a job named as bob's": (
            "sagemaker",
            "CreateProcessingJob",
            _create(config, bobs_job, _own_tags(alice)),
        ),
        "describe bob's job": ("sagemaker", "DescribeProcessingJob", {"ProcessingJobName": bobs_job}),
        "stop bob's job": ("sagemaker", "StopProcessingJob", {"ProcessingJobName": bobs_job}),
        "read bob's job log": (
            "logs",
            "GetLogEvents",
            {"logGroupName": LOG_GROUP, "logStreamName": f"{bobs_job}/algo-1-1700000000"},
        ),
        "read bob's result": ("s3", "GetObject", {"Bucket": config["bucket"], "Key": f"jobs/{bobs_job}/output/x"}),
        "overwrite bob's code": ("s3", "PutObject", {"Bucket": config["bucket"], "Key": f"jobs/{bobs_job}/code/a.R"}),
        "list bob's prefix": ("s3", "ListObjectsV2", {"Bucket": config["bucket"], "Prefix": f"jobs/{_prefix(bob)}-"}),
        "list every job": ("s3", "ListObjectsV2", {"Bucket": config["bucket"], "Prefix": "jobs/"}),
        "list the bucket": ("s3", "ListObjectsV2", {"Bucket": config["bucket"]}),
        "read bob's job config": ("ssm", "GetParameter", {"Name": bob.parameter}),
        "read the platform's job config": ("ssm", "GetParameter", {"Name": "/simlab/job-config"}),
    }
    for what, (service, operation, params) in refused.items():
        assert not _ok(policy, service, operation, params), f"alice may {what}"
    # bob's job role can only be passed by bob
    passing = Request(
        "iam:PassRole", bob.config["execution_role_arn"], {"iam:PassedToService": "sagemaker.amazonaws.com"}
    )
    assert not allowed(policy, passing)


@pytest.mark.parametrize("who", ["platform", "alice"])
def test_jobs_must_carry_the_identitys_own_tags(submitters, who):
    me = submitters[who]
    policy, config = me.policy, me.config
    job = f"{_prefix(me)}-sim-20261206-120000-0a1b2c3d"
    own = _own_tags(me)
    wrong = {
        "no tags": {},
        "no platform tag": {k: v for k, v in own.items() if k != "platform"},
        "another platform's tag": {**own, "platform": "simlabdev"},
    }
    if who != "platform":
        wrong |= {"no user tag": {"platform": own["platform"]}, "another user's tag": {**own, "user": "bob"}}
    for what, tags in wrong.items():
        assert not _ok(policy, "sagemaker", "CreateProcessingJob", _create(config, job, tags)), what
    # AddTags on its own: only the identity's own values, only on its own jobs
    own_job = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:processing-job/{job}"
    retag = {f"aws:RequestTag/{k}": v for k, v in own.items()}
    assert allowed(policy, Request("sagemaker:AddTags", own_job, retag))
    assert not allowed(policy, Request("sagemaker:AddTags", own_job, {**retag, "aws:RequestTag/platform": "other"}))
    assert not allowed(policy, Request("sagemaker:AddTags", own_job, {"aws:RequestTag/sweep": "x"}))
    elsewhere = own_job.replace(f"/{_prefix(me)}-", "/otherplatform-")
    assert not allowed(policy, Request("sagemaker:AddTags", elsewhere, retag))


@pytest.mark.parametrize("who", ["platform", "alice"])
def test_jobs_outside_the_limits_are_refused(submitters, who):
    me = submitters[who]
    config = me.config
    job = f"{_prefix(me)}-sim-20261206-120000-0a1b2c3d"
    tags = _own_tags(me)
    vpc = {"Subnets": config["subnet_ids"], "SecurityGroupIds": config["security_group_ids"]}
    outside = {
        "no network isolation": {"NetworkConfig": {"EnableNetworkIsolation": False, "VpcConfig": vpc}},
        "no VPC": {"NetworkConfig": {"EnableNetworkIsolation": True}},
        "another subnet": {
            "NetworkConfig": {"EnableNetworkIsolation": True, "VpcConfig": {**vpc, "Subnets": ["subnet-0other"]}}
        },
        "an instance type not allowed": {"ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.p4d.24xlarge"}}},
        "a longer runtime": {"StoppingCondition": {"MaxRuntimeInSeconds": config["max_runtime_seconds"] + 1}},
    }
    for what, change in outside.items():
        assert not _ok(me.policy, "sagemaker", "CreateProcessingJob", _create(config, job, tags, **change)), what


def test_the_platform_reaches_no_other_platform(submitters):
    policy = submitters["platform"].policy
    other = "simlabdev-sim-20261206-120000-0a1b2c3d"  # platform simlabdev: starts with "simlab", not "simlab-"
    assert not _ok(policy, "sagemaker", "DescribeProcessingJob", {"ProcessingJobName": other})
    assert not _ok(policy, "sagemaker", "StopProcessingJob", {"ProcessingJobName": other})
    stream = {"logGroupName": LOG_GROUP, "logStreamName": f"{other}/algo-1-1700000000"}
    assert not _ok(policy, "logs", "GetLogEvents", stream)
    assert not _ok(policy, "ssm", "GetParameter", {"Name": "/simlabdev/job-config"})
    assert not _ok(policy, "s3", "GetObject", {"Bucket": "simlabdev-data-databucket", "Key": f"jobs/{other}/x"})
