"""Job access: what one identity may do with SageMaker Processing jobs, and what its jobs may touch.

Every identity that submits jobs gets one `JobAccess`: the platform's shared submitter (stacks/jobs/construct.py),
each SageMaker-mode user (stacks/studio/access.py) and each EC2-mode user. It makes
- the job role: the execution role the identity's jobs run with (S3 objects under its prefix, the job logs and
  metrics, the job network's ENIs, pulls of the bundled and user images);
- the job config: the SSM parameter the client reads (docs/contracts.md section 3), naming that job role;
- the submitter policy: a managed policy for the identity's own role, allowing exactly what a client path uses
  (tests/client/test_least_privilege.py) on the identity's own jobs, logs, objects and config.

Confinement comes from one `JobScope`: every job name starts `<job_name_prefix>-`, every object it reaches
starts with its S3 prefix, and every job carries its `request_tags`. Neither a platform name nor a user name
holds a '-' (stacks/settings.py, stacks/users.py), so no identity's prefix starts another's: `simlab-*` cannot
reach `simlabdev-...`, and user `al` (`simlab-al-*`) cannot reach user `alx` (`simlab-alx-...`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from simulation.job.layout import JOBS_PREFIX  # the job output layout's one home: IAM scopes to its prefix

SAGEMAKER_SERVICE = "sagemaker.amazonaws.com"
# Where SageMaker publishes processing instances' CPU, memory and disk metrics (same string as the log group).
JOB_METRIC_NAMESPACE = "/aws/sagemaker/ProcessingJobs"
# A name part of a job-name prefix: SageMaker job names allow letters, digits and '-', and '-' is the separator.
_NAME_PART = re.compile(r"[a-z][a-z0-9]*")


@dataclass(frozen=True)
class JobScope:
    """Which jobs, objects and tags belong to one identity: the platform's submitter or one user.

    - `job_name_prefix`: every job name is `<job_name_prefix>-...` (the client names them so);
    - `submitter_objects`: the S3 key prefix the submitter reads and writes ("" is the whole bucket);
    - `job_objects`: the S3 key prefix its jobs (the job role) read and write;
    - `request_tags`: tags every job must be created with, with these values.
    """

    job_name_prefix: str
    submitter_objects: str
    job_objects: str
    request_tags: Mapping[str, str]
    user: str | None = None

    @staticmethod
    def platform(platform_name: str) -> JobScope:
        """The platform's shared submitter: every job of the platform, the whole platform bucket."""
        _check_part("platform name", platform_name)
        return JobScope(
            job_name_prefix=platform_name,
            submitter_objects="",
            job_objects=JOBS_PREFIX,
            request_tags={"platform": platform_name},
        )

    @staticmethod
    def for_user(platform_name: str, user: str) -> JobScope:
        """One user: jobs `<platform>-<user>-*`, objects `jobs/<platform>-<user>-*`, tagged with both names."""
        _check_part("platform name", platform_name)
        _check_part("user name", user)
        prefix = f"{platform_name}-{user}"
        objects = f"{JOBS_PREFIX}{prefix}-"
        return JobScope(
            job_name_prefix=prefix,
            submitter_objects=objects,
            job_objects=objects,
            request_tags={"platform": platform_name, "user": user},
            user=user,
        )

    @property
    def job_name_pattern(self) -> str:
        """The IAM pattern of this scope's job names (and of its jobs' log stream names, which start with them)."""
        return f"{self.job_name_prefix}-*"


def _check_part(what: str, value: str) -> None:
    # Settings and users are validated at synth with one-line errors; this guards the construct's own callers.
    if not _NAME_PART.fullmatch(value):
        raise ValueError(f"{what} {value!r}: lowercase letters and digits only, starting with a letter")


@dataclass(frozen=True)
class JobPlatform:
    """What every `JobAccess` of one platform shares (made once by stacks/jobs/construct.py `Jobs`).

    `config` is the platform's job config with `execution_role_arn` left empty: each access fills in its own.
    """

    name: str
    bucket: s3.IBucket
    vpc_arn: str
    subnet_ids: Sequence[str]
    security_group_ids: Sequence[str]
    instance_types: tuple[str, ...]
    max_runtime_seconds: int
    job_log_group_arn: str
    job_image_repository: ecr.IRepository
    user_image_repository: ecr.IRepository
    config: Mapping[str, Any] = field(default_factory=dict)

    @property
    def job_logs_arn(self) -> str:
        # IAM matches log-group actions (DescribeLogStreams, CreateLogGroup, FilterLogEvents) against
        # "log-group:<name>:*", not the bare group ARN (CloudWatch Logs user guide, "CloudWatch Logs
        # resources and operations"); the trailing ":*" also covers the group's ":log-stream:<name>" ARNs.
        return f"{self.job_log_group_arn}:*"


class JobAccess(Construct):
    """One identity's job role, job config and submitter policy, confined to `job_scope`.

    Public attributes: `job_scope`, `platform`, `job_role` (with its own policy), `job_config`,
    `policy` (the submitter managed policy: attach it to the identity's role), and the resource patterns the
    statements use: `jobs_arn`, `log_streams_arn`, `job_logs_arn`, `objects_arn`, `job_objects_arn`.

    `job_role`: an existing role to run the jobs with (the platform keeps its `ExecutionRole`); by default a new
    role `JobRole` that SageMaker assumes.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        platform: JobPlatform,
        job_scope: JobScope,
        config_parameter_name: str,
        job_role: iam.Role | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.job_scope = job_scope
        self.platform = platform
        whose = "the platform's" if job_scope.user is None else f"{job_scope.user}'s"
        bucket = platform.bucket
        self.jobs_arn = stack.format_arn(
            service="sagemaker", resource="processing-job", resource_name=job_scope.job_name_pattern
        )
        # SageMaker names each job's log streams `<job-name>/<host>-...`.
        self.log_streams_arn = f"{platform.job_log_group_arn}:log-stream:{job_scope.job_name_pattern}"
        self.job_logs_arn = platform.job_logs_arn
        self.objects_arn = bucket.arn_for_objects(f"{job_scope.submitter_objects}*")
        self.job_objects_arn = bucket.arn_for_objects(f"{job_scope.job_objects}*")

        self.job_role = job_role or iam.Role(
            self,
            "JobRole",
            assumed_by=iam.ServicePrincipal(SAGEMAKER_SERVICE),
            description=f"{platform.name}: runs {whose} SageMaker Processing jobs, confined to their prefix",
        )
        for statement in job_role_statements(
            bucket=bucket,
            object_prefix=job_scope.job_objects,
            job_logs_arn=self.job_logs_arn,
            vpc_arn=platform.vpc_arn,
        ):
            self.job_role.add_to_policy(statement)
        platform.job_image_repository.grant_pull(self.job_role)
        platform.user_image_repository.grant_pull(self.job_role)

        config = {**platform.config, "execution_role_arn": self.job_role.role_arn}
        description = "Job configuration for the simulation client (JSON, docs/contracts.md section 3)"
        if job_scope.user is not None:
            config.update(job_name_prefix=job_scope.job_name_prefix, user=job_scope.user)
            description = f"Job configuration of {job_scope.user} (JSON, docs/contracts.md section 3)"
        self.config_fields: dict[str, Any] = config
        self.job_config = ssm.StringParameter(
            self,
            "JobConfig",
            parameter_name=config_parameter_name,
            simple_name=False,
            description=description,
            string_value=stack.to_json_string(config),
        )
        self.policy = iam.ManagedPolicy(
            self,
            "SubmitterPolicy",
            statements=self._submitter_statements(platform),
            description=(
                f"{platform.name}: submit, watch and stop confined SageMaker Processing jobs"
                if job_scope.user is None
                else f"{platform.name}: {job_scope.user} submits, watches and stops their own jobs"
            ),
        )

    def _submitter_statements(self, platform: JobPlatform) -> list[iam.PolicyStatement]:
        job_scope = self.job_scope
        bucket = platform.bucket
        own_tags = {f"aws:RequestTag/{key}": value for key, value in job_scope.request_tags.items()}
        if job_scope.submitter_objects:
            list_bucket = iam.PolicyStatement(
                sid="ListBucket",
                actions=["s3:ListBucket"],
                resources=[bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{job_scope.submitter_objects}*"]}},
            )
        else:
            list_bucket = iam.PolicyStatement(
                sid="ListBucket", actions=["s3:ListBucket"], resources=[bucket.bucket_arn]
            )
        return [
            iam.PolicyStatement(
                sid="CreateConfinedProcessingJobs",
                actions=["sagemaker:CreateProcessingJob"],
                resources=[self.jobs_arn],
                conditions={
                    # ForAllValues holds vacuously when a key is absent, so each list key must also be present.
                    "Null": {
                        "sagemaker:VpcSubnets": "false",
                        "sagemaker:VpcSecurityGroupIds": "false",
                        "sagemaker:InstanceTypes": "false",
                        "sagemaker:MaxRuntimeInSeconds": "false",
                    },
                    "ForAllValues:StringEquals": {
                        "sagemaker:VpcSubnets": list(platform.subnet_ids),
                        "sagemaker:VpcSecurityGroupIds": list(platform.security_group_ids),
                        "sagemaker:InstanceTypes": list(platform.instance_types),
                    },
                    "Bool": {"sagemaker:NetworkIsolation": "true"},
                    "NumericLessThanEquals": {"sagemaker:MaxRuntimeInSeconds": str(platform.max_runtime_seconds)},
                    # The tags list and cost a job (the platform's budget filters on `platform`): a job must be
                    # created carrying this identity's own values.
                    "StringEquals": dict(own_tags),
                },
            ),
            # Creating a job with tags is also an AddTags request (tag-on-create authorization). No client path
            # tags a job afterwards; any AddTags must carry the identity's own tag values, on its own jobs, so
            # nobody can move a job to another platform's or user's books.
            iam.PolicyStatement(
                sid="TagOwnJobsWithOwnTags",
                actions=["sagemaker:AddTags"],
                resources=[self.jobs_arn],
                conditions={"StringEquals": dict(own_tags)},
            ),
            iam.PolicyStatement(
                sid="ManageProcessingJobs",
                actions=[
                    "sagemaker:DescribeProcessingJob",
                    "sagemaker:StopProcessingJob",
                    # list_jobs reads the `platform` and `user` tags
                    "sagemaker:ListTags",
                ],
                resources=[self.jobs_arn],
            ),
            # ListProcessingJobs has no resource type; it can only be granted on "*".
            iam.PolicyStatement(sid="ListProcessingJobs", actions=["sagemaker:ListProcessingJobs"], resources=["*"]),
            iam.PolicyStatement(
                sid="PassExecutionRole",
                actions=["iam:PassRole"],
                resources=[self.job_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": SAGEMAKER_SERVICE}},
            ),
            # Only what a client path uses (tests/client/test_least_privilege.py fails on anything more): no
            # DeleteObject (nothing deletes a result), no GetBucketLocation (the client knows its region), no
            # FilterLogEvents (logs are read stream by stream).
            list_bucket,
            iam.PolicyStatement(
                sid="ReadWriteObjects",
                actions=["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
                resources=[self.objects_arn],
            ),
            # DescribeLogStreams acts on the group (stream names only); events are read per stream, and only
            # from this identity's jobs' streams.
            iam.PolicyStatement(
                sid="ListJobLogStreams", actions=["logs:DescribeLogStreams"], resources=[self.job_logs_arn]
            ),
            iam.PolicyStatement(sid="ReadJobLogs", actions=["logs:GetLogEvents"], resources=[self.log_streams_arn]),
            iam.PolicyStatement(
                sid="ReadJobConfig", actions=["ssm:GetParameter"], resources=[self.job_config.parameter_arn]
            ),
            # `image build` pushes users' own images to the platform's user-image repository and `--image` checks
            # a tag there. ECR authorizes image actions on the repository: no condition key names an image tag,
            # so a user cannot be held to their own tags within it. Tags are immutable, so nobody replaces
            # another's image, and nothing here deletes one.
            iam.PolicyStatement(sid="EcrLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"]),
            iam.PolicyStatement(
                sid="PushPullUserImages",
                actions=[
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:InitiateLayerUpload",
                    "ecr:UploadLayerPart",
                    "ecr:CompleteLayerUpload",
                    "ecr:PutImage",
                    "ecr:DescribeImages",
                ],
                resources=[platform.user_image_repository.repository_arn],
            ),
            # `image build` starts FROM the bundled job image, which lives in CDK's assets repository.
            iam.PolicyStatement(
                sid="PullBundledImage",
                actions=["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                resources=[platform.job_image_repository.repository_arn],
            ),
        ]


def job_role_statements(
    *, bucket: s3.IBucket, object_prefix: str, job_logs_arn: str, vpc_arn: str
) -> list[iam.PolicyStatement]:
    """What a job execution role needs: its jobs' S3 objects under `object_prefix`, logs, metrics and VPC ENIs."""
    return [
        iam.PolicyStatement(
            sid="JobObjects",
            actions=["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
            resources=[bucket.arn_for_objects(f"{object_prefix}*")],
        ),
        iam.PolicyStatement(
            sid="ListJobPrefix",
            actions=["s3:ListBucket"],
            resources=[bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [f"{object_prefix}*"]}},
        ),
        # Kept apart from ListJobPrefix: GetBucketLocation requests carry no s3:prefix, so that condition
        # would deny it.
        iam.PolicyStatement(
            sid="BucketLocation",
            actions=["s3:GetBucketLocation"],
            resources=[bucket.bucket_arn],
        ),
        iam.PolicyStatement(
            sid="JobLogs",
            actions=["logs:CreateLogGroup", "logs:DescribeLogStreams", "logs:CreateLogStream", "logs:PutLogEvents"],
            resources=[job_logs_arn],
        ),
        # SageMaker publishes the jobs' instance metrics (CPU, memory, disk) with the execution role
        # (SageMaker developer guide, "CreateProcessingJob API: Execution Role Permissions").
        # PutMetricData has no resource type; the namespace condition keeps it to the jobs' metrics.
        iam.PolicyStatement(
            sid="JobMetrics",
            actions=["cloudwatch:PutMetricData"],
            resources=["*"],
            conditions={"StringEquals": {"cloudwatch:namespace": JOB_METRIC_NAMESPACE}},
        ),
        # What SageMaker needs to attach a VPC job to the job subnets (SageMaker developer guide, "Give
        # SageMaker Processing Jobs Access to Resources in Your Amazon VPC"). The ENIs are created on the fly,
        # so their ARNs are unknown; ec2:Vpc (present on the network-interface, subnet and security-group
        # resources these actions touch) holds the changes to this platform's VPC.
        iam.PolicyStatement(
            sid="VpcJobNetworkInterfaces",
            actions=[
                "ec2:CreateNetworkInterface",
                "ec2:CreateNetworkInterfacePermission",
                "ec2:DeleteNetworkInterface",
                "ec2:DeleteNetworkInterfacePermission",
            ],
            resources=["*"],
            conditions={"ArnEquals": {"ec2:Vpc": vpc_arn}},
        ),
        # Describe calls have no resource-level permissions or VPC condition key.
        iam.PolicyStatement(
            sid="DescribeVpcResources",
            actions=[
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeVpcs",
                "ec2:DescribeDhcpOptions",
                "ec2:DescribeSubnets",
                "ec2:DescribeSecurityGroups",
            ],
            resources=["*"],
        ),
    ]
