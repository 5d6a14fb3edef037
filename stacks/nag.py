"""cdk-nag over the whole app (AwsSolutions, HIPAA Security, NIST 800-53 R5), and every acknowledgement of a
finding, each with its reason. The platform's users are in healthcare and finance, hence the two compliance packs.

One section per component. Each section takes its stack and acknowledges on the narrowest construct
that carries the finding. Finding IDs name the exact wildcard (`AwsSolutions-IAM5[Resource::...]`), so a
new wildcard fails synth until someone decides about it here.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks
from constructs import IConstruct

from stacks.data.stack import DataStack
from stacks.jobs.construct import JOB_PREFIX
from stacks.jobs.stack import JobsStack
from stacks.network.stack import NetworkStack
from stacks.workspace.stack import RStudioEc2Stack


def apply_nag(app: cdk.App) -> None:
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), HIPAASecurityChecks(app), NIST80053R5Checks(app))
    for stack in app.node.children:
        if isinstance(stack, NetworkStack):
            _network(stack)
        elif isinstance(stack, DataStack):
            _data(stack)
        elif isinstance(stack, JobsStack):
            _jobs(stack)
        elif isinstance(stack, RStudioEc2Stack):
            _workspace(stack)


# The compliance packs share rule names; one decision covers a rule in both.
COMPLIANCE_PACKS = ("HIPAA.Security", "NIST.800.53.R5")


def acknowledge(scope: IConstruct, finding: str, reason: str) -> None:
    """Acknowledge one AwsSolutions finding (e.g. "IAM5[Resource::*]") on `scope` and its children."""
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=f"AwsSolutions-{finding}", reason=reason))


def acknowledge_compliance(scope: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge one HIPAA Security / NIST 800-53 R5 rule (e.g. "IAMNoInlinePolicy") in both packs."""
    for pack in COMPLIANCE_PACKS:
        cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=f"{pack}-{rule}", reason=reason))


def flat(scope: IConstruct, value: str) -> str:
    """How cdk-nag spells `value` in a finding ID: its stack-resolved form flattened, Refs as `<Name>`,
    GetAtts as `<Id.Attr>`. Resolving here keeps IDs right whether or not the CLI fixes a region or account
    (`cdk synth` with a default region writes "us-east-1" where a bare synth writes "<AWS::Region>")."""
    return _flatten(cdk.Stack.of(scope).resolve(value))


def _flatten(node: Any) -> str:
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict) and "Fn::Join" in node:
        delimiter, items = node["Fn::Join"]
        return delimiter.join(_flatten(item) for item in items)
    if isinstance(node, dict) and "Fn::Sub" in node:
        return _flatten(node["Fn::Sub"])
    if isinstance(node, dict) and "Fn::GetAtt" in node:
        resource, attribute = node["Fn::GetAtt"]
        return f"<{_flatten(resource)}.{_flatten(attribute)}>"
    if isinstance(node, dict) and "Fn::ImportValue" in node:
        return _flatten(node["Fn::ImportValue"])
    if isinstance(node, dict) and "Ref" in node:
        return f"<{_flatten(node['Ref'])}>"
    raise ValueError(f"cannot spell {node!r} as a cdk-nag finding")


def imported_name(owner: IConstruct, value: str) -> str:
    """How cdk-nag shows `value`, an attribute of `owner` (e.g. a bucket ARN), in another stack.

    The consuming stack sees `Fn::ImportValue <export name>`; asking the owner's stack for the export now
    returns the name CDK gives it later when it resolves the reference (the export is created only once).
    """
    producer = cdk.Stack.of(owner)
    return str(producer.resolve(producer.export_value(value))["Fn::ImportValue"])


# ---------------------------------------------------------------------------------------------- network
def _network(stack: NetworkStack) -> None:
    network = stack.network
    for subnet in network.vpc.public_subnets:
        acknowledge_compliance(
            subnet,
            "VPCNoUnrestrictedRouteToIGW",
            "The public subnets hold only the NAT gateway(s) and nothing with a public address "
            "(map_public_ip_on_launch is off); their 0.0.0.0/0 route to the internet gateway is what lets "
            "the RStudio host install software through NAT.",
        )
    acknowledge_compliance(
        network.vpc.node.find_child("FlowLog"),
        "IAMNoInlinePolicy",
        "CDK's flow-log delivery role: its one policy (write to this VPC's flow-log group) belongs to that "
        "role alone and is created and deleted with it; a managed policy would only add a reusable copy.",
    )
    acknowledge_compliance(
        network.flow_log_group,
        "CloudWatchLogGroupEncrypted",
        "Flow logs are encrypted at rest by CloudWatch Logs' own keys; a customer KMS key would add a "
        "monthly key charge and key grants without narrowing who can read (IAM on the log group decides).",
    )


# ------------------------------------------------------------------------------------------------- data
def _data(stack: DataStack) -> None:
    data = stack.data
    acknowledge_compliance(
        data.bucket,
        "S3DefaultEncryptionKMS",
        "SSE-S3 on the data bucket: every reader is confined by IAM and the TLS-only bucket policy, and a "
        "customer key would add per-request KMS charges on every block a job writes (stacks/data/construct.py).",
    )
    acknowledge_compliance(
        data.access_logs_bucket,
        "S3DefaultEncryptionKMS",
        "S3 server access-log delivery writes only to SSE-S3 buckets (it cannot use a customer KMS key).",
    )
    for bucket in (data.bucket, data.access_logs_bucket):
        acknowledge_compliance(
            bucket,
            "S3BucketReplicationEnabled",
            f"{bucket.node.id}: one-region platform; versioning with 30-day noncurrent versions recovers "
            "deletions, and replication to a second region would double storage for re-computable results.",
        )


# ------------------------------------------------------------------------------------------------- jobs
def _jobs(stack: JobsStack) -> None:
    jobs = stack.jobs
    bucket_arn = imported_name(jobs.bucket, jobs.bucket.bucket_arn)
    log_streams = flat(stack, jobs.job_logs_arn)
    role_policy = jobs.execution_role.node.find_child("DefaultPolicy")
    acknowledge(
        role_policy,
        f"IAM5[Resource::{bucket_arn}/{JOB_PREFIX}*]",
        "Jobs read code/inputs and write results under jobs/<job-name>/, names chosen per submission; "
        "the role is confined to the jobs/ prefix of the platform bucket.",
    )
    acknowledge(
        role_policy,
        "IAM5[Resource::*]",
        "ecr:GetAuthorizationToken and cloudwatch:PutMetricData (held to the jobs' metric namespace) "
        "have no resource type, and the EC2 network-interface and Describe actions SageMaker performs "
        "for VPC jobs are not scoped to resources it creates on the fly.",
    )
    acknowledge(
        role_policy,
        f"IAM5[Resource::{log_streams}]",
        "The fixed ProcessingJobs log group in the IAM form log-group:<name>:*; SageMaker names one log "
        "stream per job and host inside it.",
    )
    acknowledge_compliance(
        role_policy,
        "IAMNoInlinePolicy",
        "The execution role's own policy (job prefix, images, logs, metrics, job ENIs): it belongs to that "
        "role alone and is created and deleted with it.",
    )
    acknowledge_compliance(
        jobs.security_group,
        "EC2RestrictedCommonPorts",
        "All traffic is admitted only from this same security group (the hosts of one job exchange work "
        "on ports they choose); nothing outside the group, and no CIDR, is admitted.",
    )
    policy = jobs.submitter_policy
    acknowledge(
        policy,
        f"IAM5[Resource::{flat(stack, jobs.processing_jobs_arn)}]",
        "Only jobs named with this platform's prefix (the client's naming); creation is further confined by "
        "the VPC, security group, network isolation, instance type, runtime and platform-tag conditions.",
    )
    acknowledge(
        policy, "IAM5[Resource::*]", "sagemaker:ListProcessingJobs and ecr:GetAuthorizationToken have no resource type."
    )
    acknowledge(
        policy,
        f"IAM5[Resource::{log_streams}]",
        "logs:DescribeLogStreams acts on the ProcessingJobs group (IAM form log-group:<name>:*) and returns "
        "stream names only; reading events is held to this platform's streams by the next statement.",
    )
    acknowledge(
        policy,
        f"IAM5[Resource::{flat(stack, jobs.job_log_streams_arn)}]",
        "GetLogEvents on the log streams of this platform's jobs only (SageMaker names them "
        "<job-name>/<host>-..., and every job name starts with the platform prefix).",
    )
    acknowledge(
        policy,
        f"IAM5[Resource::{bucket_arn}/*]",
        "The platform bucket exists for the users' code, inputs and results; they read and write "
        "objects of any name in it and nothing outside it.",
    )


# -------------------------------------------------------------------------------- workspace (issue 6)
# The lambda CDK deploys once per stack for every AwsCustomResource (here: the VPC-origin SG lookup).
_AWS_CUSTOM_RESOURCE_LAMBDA = "AWS679f53fac002430cb0da5b7982bd2287"
_LAMBDA_BASIC = "arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
_SSM_CORE = "arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore"


def _workspace(stack: RStudioEc2Stack) -> None:
    host = stack.host
    acknowledge(
        host.login_secret,
        "SMG4",
        "The RStudio password is a Linux account password set on the host at boot; a rotation Lambda "
        "cannot reach into the instance. To rotate: put a new value in the secret and reboot the host.",
    )
    acknowledge(
        host.role,
        f"IAM4[Policy::{_SSM_CORE}]",
        "AmazonSSMManagedInstanceCore is the documented minimum for Session Manager and port "
        "forwarding (the only shell access; there is no SSH key) and tracks SSM's API changes.",
    )
    acknowledge(
        host.role.node.find_child("DefaultPolicy"),
        "IAM5[Resource::*]",
        "ecr:GetAuthorizationToken (users push and pull their own images) has no resource type.",
    )
    acknowledge_compliance(
        host.login_secret,
        "SecretsManagerRotationEnabled",
        "The login password is applied to the host's Linux account at boot; rotating it in Secrets Manager "
        "alone would lock the user out until a reboot, so rotation is put-new-value-and-reboot (README).",
    )
    acknowledge_compliance(
        host.login_secret,
        "SecretsManagerUsingKMSKey",
        "Encrypted with Secrets Manager's AWS managed key; only the host role and admins can read it, and a "
        "customer key would add a key charge and grants without narrowing that.",
    )
    acknowledge_compliance(
        host.role.node.find_child("DefaultPolicy"),
        "IAMNoInlinePolicy",
        "The RStudio host role's own policy (its package object, login secret, Session Manager, signal); it "
        "belongs to that role alone and is created and deleted with it.",
    )
    acknowledge_compliance(
        stack.home.file_system,
        "EFSInBackupPlan",
        "enable_automatic_backups puts the file system in AWS Backup's default EFS plan "
        "(aws/efs/automatic-backup-plan, daily, 35 days), which is not a CloudFormation resource the rule sees.",
    )
    acknowledge_compliance(
        host.instance,
        "EC2InstancesInVPC",
        "The host is launched into the workspace subnet through its network-interface entry (no public "
        "address), which this rule does not read; there is no EC2-Classic.",
    )
    acknowledge(
        host.instance,
        "EC29",
        "A single workspace host whose work lives on EFS: it is replaced on every bootstrap change and "
        "must go on cdk destroy, so termination protection would only block both.",
    )
    if stack.access is not None:
        distribution = stack.access.distribution
        acknowledge(
            distribution,
            "CFR1",
            "Viewers are limited to rstudio_allowed_cidrs by the viewer-request CloudFront Function, "
            "narrower than any country restriction.",
        )
        acknowledge(
            distribution,
            "CFR2",
            "A CloudFront web ACL must be created in us-east-1 (a second stack and region); the CIDR "
            "allow-list function plus RStudio's own login protect this single-team IDE.",
        )
        acknowledge(
            distribution,
            "CFR3",
            "Standard logging needs an ACL-enabled log bucket; viewer access is limited to known "
            "networks and RStudio records sign-ins on the host.",
        )
        acknowledge(
            distribution,
            "CFR4",
            "No custom domain: the default *.cloudfront.net certificate's TLS policy is fixed by "
            "CloudFront; viewers are redirected to HTTPS and modern browsers negotiate TLS 1.2+.",
        )
        lookup = stack.access.node.find_child("VpcOriginSecurityGroup")
        acknowledge(
            lookup,
            "IAM5[Resource::*]",
            "ec2:DescribeSecurityGroups has no resource-level permissions; the lookup only reads the "
            "ID of CloudFront's VPC-origin security group.",
        )
        acknowledge(
            stack.node.find_child(_AWS_CUSTOM_RESOURCE_LAMBDA),
            f"IAM4[Policy::{_LAMBDA_BASIC}]",
            "CDK's AwsCustomResource function only writes its own logs; the managed policy grants exactly that.",
        )
        acknowledge_compliance(
            lookup,
            "IAMNoInlinePolicy",
            "CDK's AwsCustomResource policy (ec2:DescribeSecurityGroups) belongs to its singleton function's "
            "role alone, created and deleted with it.",
        )
        function = stack.node.find_child(_AWS_CUSTOM_RESOURCE_LAMBDA)
        for rule, reason in (
            ("LambdaConcurrency", "runs once per deploy; reserved concurrency would only hold back account capacity"),
            (
                "LambdaDLQ",
                "invoked synchronously by CloudFormation, which reports a failure; there is no event to keep",
            ),
            ("LambdaInsideVPC", "calls only the EC2 API; placing it in the VPC would add ENIs and no isolation"),
        ):
            acknowledge_compliance(function, rule, f"CDK's AwsCustomResource function (VPC-origin lookup) {reason}.")
