"""Per-user IAM in the SageMaker mode: what one user's RSessions and jobs may touch, and nothing of anyone else's.

For each user:
- a profile role (the user profile's execution role; RSessions run with it): the platform's submitter
  permissions narrowed to job names `<platform>-<user>-*` and the S3 prefix `jobs/<platform>-<user>-*`, so one
  user cannot read, overwrite or stop another's work;
- a job role (the execution role the user's jobs run with): the platform's job execution permissions narrowed to
  the same prefix. SageMaker copies a job's inputs with the role it is given, so a shared job role would let a
  user name another user's prefix as an input; only this user's profile role may pass this one;
- a job config parameter `/<platform>/job-config/<profile role name>`: the platform's job config with this
  user's job role, job-name prefix and name. The client in an RSession finds it from its own role
  (sts:GetCallerIdentity), so nothing is set up by hand.
Users' names hold letters and digits only (stacks/users.py), so no user's prefix starts another's.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from simulation.job.layout import JOBS_PREFIX
from stacks.jobs.construct import SAGEMAKER_SERVICE, Jobs, job_role_statements
from stacks.users import RStudioUser

# The RSession image sets SIMLAB_JOB_CONFIG_PARAMETER to this with {role} left for the client to fill in.
ROLE_PLACEHOLDER = "{role}"


def job_name_prefix(platform_name: str, user: RStudioUser) -> str:
    return f"{platform_name}-{user.name}"


def user_config_parameter_template(platform_name: str) -> str:
    return f"/{platform_name}/job-config/{ROLE_PLACEHOLDER}"


class UserAccess(Construct):
    """Exposes `profile_role`, `job_role`, `job_config` and `prefix` (the job-name prefix without its '-')."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        platform_name: str,
        user: RStudioUser,
        jobs: Jobs,
        bucket: s3.IBucket,
        instance_types: tuple[str, ...],
        max_runtime_seconds: int,
        vpc_arn: str,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.prefix = job_name_prefix(platform_name, user)
        objects = bucket.arn_for_objects(f"{JOBS_PREFIX}{self.prefix}-*")
        jobs_arn = stack.format_arn(service="sagemaker", resource="processing-job", resource_name=f"{self.prefix}-*")
        log_streams = f"{jobs.job_log_group_arn}:log-stream:{self.prefix}-*"
        # Kept for stacks/nag/studio.py, which names these wildcards in its acknowledgements.
        self.object_pattern = f"{JOBS_PREFIX}{self.prefix}-*"
        self.jobs_arn = jobs_arn
        self.log_streams_arn = log_streams
        self.job_logs_arn = jobs.job_logs_arn

        self.job_role = iam.Role(
            self,
            "JobRole",
            assumed_by=iam.ServicePrincipal(SAGEMAKER_SERVICE),
            description=f"{platform_name}: runs {user.name}'s SageMaker Processing jobs, confined to their prefix",
        )
        for statement in job_role_statements(
            bucket=bucket, object_prefix=f"{JOBS_PREFIX}{self.prefix}-", job_logs_arn=jobs.job_logs_arn, vpc_arn=vpc_arn
        ):
            self.job_role.add_to_policy(statement)
        jobs.image.repository.grant_pull(self.job_role)
        jobs.repository.grant_pull(self.job_role)

        self.profile_role = iam.Role(
            self,
            "ProfileRole",
            assumed_by=iam.ServicePrincipal(SAGEMAKER_SERVICE),
            description=f"{platform_name}: {user.name}'s RSessions; their own jobs and S3 prefix only",
        )
        config = dict(jobs.config_fields)
        config.update(
            execution_role_arn=self.job_role.role_arn,
            job_name_prefix=self.prefix,
            user=user.name,
        )
        self.job_config = ssm.StringParameter(
            self,
            "JobConfig",
            parameter_name=f"/{platform_name}/job-config/{self.profile_role.role_name}",
            simple_name=False,
            description=f"Job configuration of {user.name} (RStudio on SageMaker; docs/contracts.md section 3)",
            string_value=stack.to_json_string(config),
        )
        subnet_ids: Any = config["subnet_ids"]
        self.policy = iam.ManagedPolicy(
            self,
            "SubmitterPolicy",
            description=f"{platform_name}: {user.name} submits, watches and stops their own jobs",
            roles=[self.profile_role],
            statements=[
                iam.PolicyStatement(
                    sid="CreateOwnConfinedJobs",
                    actions=["sagemaker:CreateProcessingJob"],
                    resources=[jobs_arn],
                    conditions={
                        "Null": {
                            "sagemaker:VpcSubnets": "false",
                            "sagemaker:VpcSecurityGroupIds": "false",
                            "sagemaker:InstanceTypes": "false",
                            "sagemaker:MaxRuntimeInSeconds": "false",
                        },
                        "ForAllValues:StringEquals": {
                            "sagemaker:VpcSubnets": subnet_ids,
                            "sagemaker:VpcSecurityGroupIds": [jobs.security_group.security_group_id],
                            "sagemaker:InstanceTypes": list(instance_types),
                        },
                        "Bool": {"sagemaker:NetworkIsolation": "true"},
                        "NumericLessThanEquals": {"sagemaker:MaxRuntimeInSeconds": str(max_runtime_seconds)},
                        # Jobs carry the submitting user (the client tags them; here nobody can tag otherwise).
                        "StringEquals": {"aws:RequestTag/user": user.name},
                    },
                ),
                iam.PolicyStatement(
                    sid="ManageOwnJobs",
                    actions=[
                        "sagemaker:DescribeProcessingJob",
                        "sagemaker:StopProcessingJob",
                        "sagemaker:AddTags",
                        # list_jobs reads the `platform` and `user` tags (a name prefix is not exact)
                        "sagemaker:ListTags",
                    ],
                    resources=[jobs_arn],
                ),
                iam.PolicyStatement(
                    sid="ListProcessingJobs", actions=["sagemaker:ListProcessingJobs"], resources=["*"]
                ),
                iam.PolicyStatement(
                    sid="PassOwnJobRole",
                    actions=["iam:PassRole"],
                    resources=[self.job_role.role_arn],
                    conditions={"StringEquals": {"iam:PassedToService": SAGEMAKER_SERVICE}},
                ),
                iam.PolicyStatement(
                    sid="ListOwnPrefix",
                    actions=["s3:ListBucket"],
                    resources=[bucket.bucket_arn],
                    conditions={"StringLike": {"s3:prefix": [f"{JOBS_PREFIX}{self.prefix}-*"]}},
                ),
                iam.PolicyStatement(
                    sid="BucketLocation", actions=["s3:GetBucketLocation"], resources=[bucket.bucket_arn]
                ),
                iam.PolicyStatement(
                    sid="ReadWriteOwnObjects",
                    actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
                    resources=[objects],
                ),
                # Listing streams is a log-group action: it shows other jobs' stream names, never their lines.
                iam.PolicyStatement(
                    sid="ListJobLogStreams", actions=["logs:DescribeLogStreams"], resources=[jobs.job_logs_arn]
                ),
                iam.PolicyStatement(sid="ReadOwnJobLogs", actions=["logs:GetLogEvents"], resources=[log_streams]),
                iam.PolicyStatement(
                    sid="ReadOwnJobConfig", actions=["ssm:GetParameter"], resources=[self.job_config.parameter_arn]
                ),
            ],
        )
