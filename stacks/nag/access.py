"""Acknowledgements of every job access (stacks/jobs/access.py): the platform's submitter and each user's, in
whichever stack they live. Each names the access by its job-name prefix, so every reason is its own."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import IConstruct

from stacks.jobs.access import JobAccess
from stacks.nag.common import acknowledge, acknowledge_compliance, flat, imported_name


def job_accesses(app: cdk.App) -> None:
    for construct in app.node.find_all():
        if isinstance(construct, JobAccess):
            job_access(construct)


def _spelled(access: JobAccess, owner: IConstruct, value: str) -> str:
    """`value` (an attribute of `owner`) as cdk-nag shows it in the access's stack: imported from another stack."""
    if cdk.Stack.of(owner) is cdk.Stack.of(access):
        return flat(access, value)
    return imported_name(owner, value)


def job_access(access: JobAccess) -> None:
    scope = access.job_scope
    prefix = scope.job_name_prefix
    bucket = access.platform.bucket
    bucket_arn = _spelled(access, bucket, bucket.bucket_arn)
    whose = "the platform's" if scope.user is None else f"{scope.user}'s"
    job_logs = f"IAM5[Resource::{flat(access, access.job_logs_arn)}]"

    # The job role and its own policy (CDK's DefaultPolicy, a child of the role).
    acknowledge(
        access.job_role,
        f"IAM5[Resource::{bucket_arn}/{scope.job_objects}*]",
        f"{prefix}: {whose} jobs read code and inputs and write results under {scope.job_objects}<job-name>/, "
        "a name chosen per submission; the job role reaches nothing else in the bucket.",
    )
    acknowledge(
        access.job_role,
        job_logs,
        f"{prefix}: {whose} jobs write to the fixed ProcessingJobs log group (IAM form log-group:<name>:*); "
        "SageMaker names one stream per job and host inside it.",
    )
    acknowledge(
        access.job_role,
        "IAM5[Resource::*]",
        f"{prefix}: {whose} job role holds ecr:GetAuthorizationToken and cloudwatch:PutMetricData (held to the jobs' "
        "metric namespace), which have no resource type, and the VPC network-interface actions SageMaker performs "
        "on ENIs it creates on the fly (held to the platform VPC by ec2:Vpc).",
    )
    acknowledge_compliance(
        access.job_role,
        "IAMNoInlinePolicy",
        f"{prefix}: {whose} job role's own policy (job prefix, images, logs, metrics, job ENIs); it belongs to that "
        "role alone and is created and deleted with it.",
    )

    # The submitter policy.
    objects = (
        "The platform bucket exists for the users' code, inputs and results; the platform's submitter reads and "
        "writes objects of any name in it and nothing outside it."
        if not scope.submitter_objects
        else f"{scope.user} reads and writes only objects under their own job prefix ({scope.submitter_objects}*)."
    )
    acknowledge(access.policy, f"IAM5[Resource::{bucket_arn}/{scope.submitter_objects}*]", objects)
    acknowledge(
        access.policy,
        f"IAM5[Resource::{flat(access, access.jobs_arn)}]",
        f"Only jobs named {prefix}-* (the client's naming); creation is further confined by the VPC, security group, "
        f"network isolation, instance type, runtime and the {'/'.join(scope.request_tags)} request tags.",
    )
    acknowledge(
        access.policy,
        f"IAM5[Resource::{flat(access, access.log_streams_arn)}]",
        f"GetLogEvents on the log streams of {prefix}-* jobs only (SageMaker names them <job-name>/<host>-...).",
    )
    acknowledge(
        access.policy,
        job_logs,
        f"{prefix}: logs:DescribeLogStreams acts on the ProcessingJobs group (IAM form log-group:<name>:*) and "
        "returns stream names only; reading events is held to this access's own streams.",
    )
    acknowledge(
        access.policy,
        "IAM5[Resource::*]",
        f"{prefix}: sagemaker:ListProcessingJobs and ecr:GetAuthorizationToken have no resource type; the client "
        f"keeps to {prefix}- jobs and logs in only to the platform's registries.",
    )
