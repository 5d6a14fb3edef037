"""Acknowledgements of the foundation stacks: network, data and jobs."""

from __future__ import annotations

from stacks.data.stack import DataStack
from stacks.jobs.stack import JobsStack
from stacks.nag.common import acknowledge_compliance
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
    # The execution role's policy and the submitter policy are acknowledged with every job access
    # (stacks/nag/access.py).
    acknowledge_compliance(
        stack.jobs.security_group,
        "EC2RestrictedCommonPorts",
        "All traffic is admitted only from this same security group (the hosts of one job exchange work "
        "on ports they choose); nothing outside the group, and no CIDR, is admitted.",
    )
