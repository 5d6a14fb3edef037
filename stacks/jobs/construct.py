"""What the platform's SageMaker Processing jobs share (image, user-image repository, network, execution role), and
the platform's own job access (stacks/jobs/access.py): its submitter policy and the published job config."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.jobs.access import SAGEMAKER_SERVICE, JobAccess, JobPlatform, JobScope
from stacks.removal import removal_policy

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = "container/Dockerfile"
JOB_LOG_GROUP = "/aws/sagemaker/ProcessingJobs"
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
        self.execution_role = iam.Role(
            self,
            "ExecutionRole",
            assumed_by=iam.ServicePrincipal(SAGEMAKER_SERVICE),
            description="Assumed by SageMaker Processing to run the platform's jobs",
        )
        subnet_ids = vpc.select_subnets(subnet_group_name=job_subnets.subnet_group_name).subnet_ids
        # Field order is the contract's (docs/contracts.md section 3); each access fills in its own role.
        config = {
            "platform": limits.platform_name,
            "region": stack.region,
            "image_uri": self.image.image_uri,
            "execution_role_arn": "",
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
        self.platform = JobPlatform(
            name=limits.platform_name,
            bucket=bucket,
            vpc_arn=stack.format_arn(service="ec2", resource="vpc", resource_name=vpc.vpc_id),
            subnet_ids=subnet_ids,
            security_group_ids=[self.security_group.security_group_id],
            instance_types=limits.instance_types,
            max_runtime_seconds=limits.max_runtime_seconds,
            job_log_group_arn=self.job_log_group_arn,
            job_image_repository=self.image.repository,
            user_image_repository=self.repository,
            config=config,
        )
        # The platform's own submitter: every job of the platform. The id "Default" is left out of logical IDs
        # by CDK, so the role's policy, the job config and the submitter policy keep the IDs they have always
        # had: admins attach the submitter policy by its ARN, and a parameter with a fixed name cannot be
        # replaced in place.
        self.access = JobAccess(
            self,
            "Default",
            platform=self.platform,
            job_scope=JobScope.platform(limits.platform_name),
            config_parameter_name=limits.config_parameter_name,
            job_role=self.execution_role,
        )
        self.job_config = self.access.job_config
        self.submitter_policy = self.access.policy
        self.config_fields = self.access.config_fields

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
