"""What a SageMaker Processing job needs, what a user may do with it, and the published job config."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from simulation.job.layout import JOBS_PREFIX  # the job output layout's one home: IAM scopes to its prefix
from stacks.removal import removal_policy

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = "container/Dockerfile"
JOB_LOG_GROUP = "/aws/sagemaker/ProcessingJobs"
# Where SageMaker publishes processing instances' CPU, memory and disk metrics (same string, other service).
JOB_METRIC_NAMESPACE = "/aws/sagemaker/ProcessingJobs"
SAGEMAKER_SERVICE = "sagemaker.amazonaws.com"
KEEP_USER_IMAGES = 30
UNTAGGED_IMAGE_DAYS = 14


@dataclass(frozen=True)
class JobLimits:
    platform_name: str
    instance_types: tuple[str, ...]
    default_instance_type: str
    max_instances: int
    max_runtime_seconds: int
    config_parameter_name: str
    delete_on_destroy: bool


class Jobs(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        limits: JobLimits,
        vpc: ec2.IVpc,
        job_subnets: ec2.SubnetSelection,
        bucket: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.bucket = bucket
        self.job_log_group_arn = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name=JOB_LOG_GROUP,
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        # IAM matches log-group actions (DescribeLogStreams, CreateLogGroup, FilterLogEvents) against
        # "log-group:<name>:*", not the bare group ARN (CloudWatch Logs user guide, "CloudWatch Logs
        # resources and operations"); the trailing ":*" also covers the group's ":log-stream:<name>" ARNs.
        self.job_logs_arn = f"{self.job_log_group_arn}:*"
        # The client names every job `<platform>-...` (simulation/client/jobs.py make_job_name), and SageMaker
        # names each job's log streams `<job-name>/<host>-...`: the prefix is what scopes users to this
        # platform's jobs and logs in an account shared with others.
        self.processing_jobs_arn = stack.format_arn(
            service="sagemaker", resource="processing-job", resource_name=f"{limits.platform_name}-*"
        )
        self.job_log_streams_arn = f"{self.job_log_group_arn}:log-stream:{limits.platform_name}-*"
        self.repository = self._user_repository(limits)
        # Built by `cdk deploy` (synth only stages the context); the .dockerignore at the root keeps the
        # context to pyproject.toml, simulation/ and container/.
        self.image = ecr_assets.DockerImageAsset(
            self,
            "JobImage",
            directory=str(REPOSITORY_ROOT),
            file=DOCKERFILE,
            platform=ecr_assets.Platform.LINUX_AMD64,
            exclude=[".venv", "node_modules", "cdk.out", ".git", "out", "R", "stacks"],
        )
        self.security_group = self._job_security_group(vpc)
        self.execution_role = self._execution_role(bucket, vpc)
        subnet_ids = vpc.select_subnets(subnet_group_name=job_subnets.subnet_group_name).subnet_ids
        config = {
            "platform": limits.platform_name,
            "region": stack.region,
            "image_uri": self.image.image_uri,
            "execution_role_arn": self.execution_role.role_arn,
            "bucket": bucket.bucket_name,
            "subnet_ids": subnet_ids,
            "security_group_ids": [self.security_group.security_group_id],
            "allowed_instance_types": list(limits.instance_types),
            "default_instance_type": limits.default_instance_type,
            "max_instances": limits.max_instances,
            "max_runtime_seconds": limits.max_runtime_seconds,
            "ecr_repository_uri": self.repository.repository_uri,
            "log_group": JOB_LOG_GROUP,
        }
        self.job_config = ssm.StringParameter(
            self,
            "JobConfig",
            parameter_name=limits.config_parameter_name,
            description="Job configuration for the simulation client (JSON, docs/contracts.md section 3)",
            string_value=stack.to_json_string(config),
        )
        self.submitter_policy = self._submitter_policy(limits, subnet_ids, bucket)
        self.config_fields = config

    def _user_repository(self, limits: JobLimits) -> ecr.Repository:
        # ECR names must be lowercase; CloudFormation's generated names are, but an explicit one says whose
        # repository it is. The suffix (the first group of this stack's UUID) differs per stack instance: the
        # repository is kept on destroy by default, and a kept repository holding a fixed name would make
        # the next `cdk deploy` fail ("already exists"). Users push to the URI of the EcrRepositoryUri output
        # / the job config's ecr_repository_uri.
        stack_uuid = cdk.Fn.select(2, cdk.Fn.split("/", cdk.Aws.STACK_ID))
        name = f"{limits.platform_name}-user-images-" + cdk.Fn.select(0, cdk.Fn.split("-", stack_uuid))
        return ecr.Repository(
            self,
            "UserImages",
            repository_name=name,
            # A tag names one image for good: a job records its image tag, so a re-pushed tag would make
            # that record lie about what ran.
            image_tag_mutability=ecr.TagMutability.IMMUTABLE,
            image_scan_on_push=True,
            lifecycle_rules=[
                ecr.LifecycleRule(
                    rule_priority=1,
                    description="drop untagged layers after a while",
                    tag_status=ecr.TagStatus.UNTAGGED,
                    max_image_age=cdk.Duration.days(UNTAGGED_IMAGE_DAYS),
                ),
                ecr.LifecycleRule(
                    rule_priority=2,
                    description=f"keep the {KEEP_USER_IMAGES} most recent images",
                    tag_status=ecr.TagStatus.ANY,
                    max_image_count=KEEP_USER_IMAGES,
                ),
            ],
            removal_policy=removal_policy(limits.delete_on_destroy),
            empty_on_delete=limits.delete_on_destroy,
        )

    def _job_security_group(self, vpc: ec2.IVpc) -> ec2.SecurityGroup:
        group = ec2.SecurityGroup(
            self,
            "JobSecurityGroup",
            vpc=vpc,
            allow_all_outbound=False,
            description="SageMaker Processing jobs: instances of a job talk to each other; HTTPS to AWS only",
        )
        group.add_ingress_rule(group, ec2.Port.all_traffic(), "instances of one job")
        group.add_egress_rule(group, ec2.Port.all_traffic(), "instances of one job")
        # S3 is reached through the gateway endpoint, whose addresses are a managed prefix list that
        # CloudFormation cannot name. The job subnets route only to the VPC and that endpoint, so
        # "anywhere" on 443 reaches the interface endpoints and S3, nothing else.
        group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to the S3 gateway and VPC endpoints")
        return group

    def _execution_role(self, bucket: s3.IBucket, vpc: ec2.IVpc) -> iam.Role:
        stack = cdk.Stack.of(self)
        role = iam.Role(
            self,
            "ExecutionRole",
            assumed_by=iam.ServicePrincipal(SAGEMAKER_SERVICE),
            description="Assumed by SageMaker Processing to run the platform's jobs",
        )
        for statement in job_role_statements(
            bucket=bucket,
            object_prefix=JOBS_PREFIX,
            job_logs_arn=self.job_logs_arn,
            vpc_arn=stack.format_arn(service="ec2", resource="vpc", resource_name=vpc.vpc_id),
        ):
            role.add_to_policy(statement)
        self.image.repository.grant_pull(role)
        self.repository.grant_pull(role)
        return role

    def _submitter_policy(self, limits: JobLimits, subnet_ids: list[str], bucket: s3.IBucket) -> iam.ManagedPolicy:
        jobs_arn = self.processing_jobs_arn
        statements = [
            iam.PolicyStatement(
                sid="CreateConfinedProcessingJobs",
                actions=["sagemaker:CreateProcessingJob"],
                resources=[jobs_arn],
                conditions={
                    # ForAllValues holds vacuously when a key is absent, so each list key must also be present.
                    "Null": {
                        "sagemaker:VpcSubnets": "false",
                        "sagemaker:VpcSecurityGroupIds": "false",
                        "sagemaker:InstanceTypes": "false",
                        "sagemaker:MaxRuntimeInSeconds": "false",
                    },
                    "ForAllValues:StringEquals": {
                        "sagemaker:VpcSubnets": subnet_ids,
                        "sagemaker:VpcSecurityGroupIds": [self.security_group.security_group_id],
                        "sagemaker:InstanceTypes": list(limits.instance_types),
                    },
                    "Bool": {"sagemaker:NetworkIsolation": "true"},
                    "NumericLessThanEquals": {"sagemaker:MaxRuntimeInSeconds": str(limits.max_runtime_seconds)},
                    # The client tags each job with its platform; the tag is what lists and costs it.
                    "StringEquals": {"aws:RequestTag/platform": limits.platform_name},
                },
            ),
            iam.PolicyStatement(
                sid="ManageProcessingJobs",
                actions=[
                    "sagemaker:DescribeProcessingJob",
                    "sagemaker:StopProcessingJob",
                    "sagemaker:AddTags",
                    # list_jobs reads the `platform` tag: a name prefix cannot tell simlab from simlab-dev
                    "sagemaker:ListTags",
                ],
                resources=[jobs_arn],
            ),
            # ListProcessingJobs has no resource type; it can only be granted on "*".
            iam.PolicyStatement(sid="ListProcessingJobs", actions=["sagemaker:ListProcessingJobs"], resources=["*"]),
            iam.PolicyStatement(
                sid="PassExecutionRole",
                actions=["iam:PassRole"],
                resources=[self.execution_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": SAGEMAKER_SERVICE}},
            ),
            # Only what a client path uses (tests/client/test_least_privilege.py fails on anything more): no
            # DeleteObject (nothing deletes a result), no FilterLogEvents (logs are read stream by stream).
            iam.PolicyStatement(sid="ListBucket", actions=["s3:ListBucket"], resources=[bucket.bucket_arn]),
            iam.PolicyStatement(
                sid="ReadWriteObjects",
                actions=["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
                resources=[bucket.arn_for_objects("*")],
            ),
            # DescribeLogStreams acts on the group (stream names only); events are read per stream, and only
            # from this platform's jobs' streams.
            iam.PolicyStatement(
                sid="ListJobLogStreams", actions=["logs:DescribeLogStreams"], resources=[self.job_logs_arn]
            ),
            iam.PolicyStatement(sid="ReadJobLogs", actions=["logs:GetLogEvents"], resources=[self.job_log_streams_arn]),
            iam.PolicyStatement(
                sid="ReadJobConfig", actions=["ssm:GetParameter"], resources=[self.job_config.parameter_arn]
            ),
            # Users build their own images and push them to the platform's repository.
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
                resources=[self.repository.repository_arn],
            ),
            # `image build` starts FROM the bundled job image, which lives in CDK's assets repository.
            iam.PolicyStatement(
                sid="PullBundledImage",
                actions=["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                resources=[self.image.repository.repository_arn],
            ),
        ]
        return iam.ManagedPolicy(
            self,
            "SubmitterPolicy",
            statements=statements,
            description=f"{limits.platform_name}: submit, watch and stop confined SageMaker Processing jobs",
        )


def job_role_statements(
    *, bucket: s3.IBucket, object_prefix: str, job_logs_arn: str, vpc_arn: str
) -> list[iam.PolicyStatement]:
    """What a job execution role needs: its jobs' S3 objects under `object_prefix`, logs, metrics and VPC ENIs.

    The platform role takes the whole `jobs/` prefix; a SageMaker-mode user's job role takes only that user's.
    """
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
