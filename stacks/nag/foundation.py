"""Acknowledgements of the foundation stacks: network, data and jobs."""

from __future__ import annotations

import aws_cdk as cdk

from stacks.data.stack import DataStack
from stacks.jobs.stack import JobsStack
from stacks.nag.common import LAMBDA_BASIC, ProviderFramework, acknowledge, acknowledge_compliance, flat
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
    if network.flow_log_group is None:
        # The landing zone's VPC: its flow logs are the landing zone's; what the platform adds is checked here.
        landing_zone_network(stack)
        return
    acknowledge_compliance(
        network.flow_log,
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


# ------------------------------------------------------------------------- network: the landing zone's VPC
def landing_zone_network(stack: NetworkStack) -> None:
    """What the platform adds to a given VPC: the deploy-time check, its optional DNS probe and CDK's provider."""
    check = stack.network.check
    assert check is not None  # a given VPC always gets its check
    acknowledge(
        check.check.role,
        "IAM5[Resource::*]",
        "ec2:DescribeVpcs/Subnets/RouteTables/VpcEndpoints have no resource-level permissions; the check only "
        "reads the given VPC's subnets, routes and endpoints.",
    )
    framework = ProviderFramework.of(check.provider).function("onEvent")
    acknowledge(
        framework.role or framework,
        f"IAM4[Policy::{LAMBDA_BASIC}]",
        "CDK's provider framework function for the network check writes only its own logs; the managed policy "
        "grants exactly that.",
    )
    acknowledge(
        framework.role or framework,
        f"IAM5[Resource::{flat(stack, check.check.function.function_arn)}:*]",
        "CDK's provider framework invokes the network check function (any version of it), the handler it exists for.",
    )
    group = stack.network.endpoint_security_group
    if group is not None:
        why = (
            "The endpoints admit HTTPS (443 only) from the given workspace subnets' CIDR blocks, which the network "
            "check reads from EC2 at deploy (a subnet is at most a /16, never 0.0.0.0/0); cdk-nag cannot read a "
            "deploy-time value and flags every port of the rule."
        )
        acknowledge(group, "EC23", why)
        for rule in ("EC2RestrictedCommonPorts", "EC2RestrictedSSH"):
            acknowledge_compliance(group, rule, f"{rule}: {why}")
    functions = [check.check.function, framework]
    roles = [check.check.role, framework.role]
    logs = [check.check.log_group]
    if check.probe is not None:
        acknowledge(
            check.check.role,
            f"IAM5[Resource::{flat(stack, check.probe.function.function_arn)}:*]",
            "The network check invokes the in-VPC DNS probe (any version of it) and nothing else.",
        )
        functions.append(check.probe.function)
        roles.append(check.probe.role)
        logs.append(check.probe.log_group)
    for function in functions:
        for rule, reason in (
            ("LambdaConcurrency", "runs once per deploy; reserved concurrency would only hold back account capacity"),
            ("LambdaDLQ", "is invoked synchronously during a deploy, which reports its failure; no event to keep"),
        ):
            acknowledge_compliance(function, rule, f"{function.node.path} {reason}.")
    for function in (check.check.function, framework):
        acknowledge_compliance(
            function,
            "LambdaInsideVPC",
            f"{function.node.path} calls only AWS control-plane APIs (EC2 describe calls, Lambda invoke, the "
            "CloudFormation response); inside the given VPC it would need a route out that job subnets lack.",
        )
    for role in roles:
        if role is not None:
            acknowledge_compliance(
                role,
                "IAMNoInlinePolicy",
                f"{role.node.path}'s own policy, belonging to that one role and created and deleted with it; a "
                "managed policy would only add a reusable copy.",
            )
    for log_group in logs:
        acknowledge_compliance(
            log_group,
            "CloudWatchLogGroupEncrypted",
            f"{log_group.node.path} holds only what the network check found, encrypted by CloudWatch Logs' own keys; "
            "a customer key would add a key charge and grants, not narrow readers.",
        )


def given_zones(stack: cdk.Stack) -> None:
    """With a given VPC, subnets carry the landing zone's zone names, which CloudFormation's validation flags."""
    cdk.Validations.of(stack).acknowledge(
        cdk.Acknowledgment(
            id="CloudFormation-Validate::W3010",
            reason="The availability zones are those of the landing zone's given subnets (setting "
            "availability_zones), not a choice this template makes.",
        )
    )
