"""Acknowledgements of the foundation stacks: network, data and jobs."""

from __future__ import annotations

from simulation.job.layout import JOBS_PREFIX
from stacks.data.stack import DataStack
from stacks.jobs.stack import JobsStack
from stacks.nag.common import acknowledge, acknowledge_compliance, flat, imported_name
from stacks.network.stack import NetworkStack


# ---------------------------------------------------------------------------------------------- network
def network(stack: NetworkStack) -> None:
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
def data(stack: DataStack) -> None:
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
def jobs(stack: JobsStack) -> None:
    jobs = stack.jobs
    bucket_arn = imported_name(jobs.bucket, jobs.bucket.bucket_arn)
    log_streams = flat(stack, jobs.job_logs_arn)
    role_policy = jobs.execution_role.node.find_child("DefaultPolicy")
    acknowledge(
        role_policy,
        f"IAM5[Resource::{bucket_arn}/{JOBS_PREFIX}*]",
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
