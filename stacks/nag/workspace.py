"""Acknowledgements of RStudio Server on EC2 (rstudio_mode=ec2)."""

from __future__ import annotations

from stacks.nag.common import (
    AWS_CUSTOM_RESOURCE_LAMBDA,
    LAMBDA_BASIC,
    acknowledge,
    acknowledge_compliance,
)
from stacks.workspace.stack import RStudioEc2Stack

# ---------------------------------------------------------------------------------------- workspace (ec2)


def workspace(stack: RStudioEc2Stack) -> None:
    host = stack.host
    for name, secret in host.login_secrets.items():
        acknowledge(
            secret,
            "SMG4",
            f"{name}'s RStudio password is a Linux account password set on the host at boot; a rotation Lambda "
            "cannot reach into the instance. To rotate: put a new value in the secret and reboot the host.",
        )
    acknowledge(
        host.role,
        "IAM5[Resource::*]",
        "ecr:GetAuthorizationToken (users push and pull their own images) and the Session Manager channel "
        "actions (ssmmessages:*Channel, ssm:UpdateInstanceInformation) have no resource type.",
    )
    for secret in host.login_secrets.values():
        acknowledge_compliance(
            secret,
            "SecretsManagerRotationEnabled",
            "A login password is applied to the host's Linux account at boot; rotating it in Secrets Manager "
            "alone would lock the user out until a reboot, so rotation is put-new-value-and-reboot (README).",
        )
        acknowledge_compliance(
            secret,
            "SecretsManagerUsingKMSKey",
            "Encrypted with Secrets Manager's AWS managed key; only the host role and admins can read it, and a "
            "customer key would add a key charge and grants without narrowing that.",
        )
    acknowledge_compliance(
        host.role,
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
            "Without rstudio_domain_name the default *.cloudfront.net certificate's TLS policy is fixed by "
            "CloudFront; with it (and rstudio_certificate_arn) viewers need TLS 1.2+.",
        )
        lookup = stack.access.origin_group_lookup
        acknowledge(
            lookup,
            "IAM5[Resource::*]",
            "ec2:DescribeSecurityGroups has no resource-level permissions; the lookup only reads the "
            "ID of CloudFront's VPC-origin security group.",
        )
        acknowledge(
            stack.node.find_child(AWS_CUSTOM_RESOURCE_LAMBDA),
            f"IAM4[Policy::{LAMBDA_BASIC}]",
            "CDK's AwsCustomResource function only writes its own logs; the managed policy grants exactly that.",
        )
        acknowledge_compliance(
            lookup,
            "IAMNoInlinePolicy",
            "CDK's AwsCustomResource policy (ec2:DescribeSecurityGroups) belongs to its singleton function's "
            "role alone, created and deleted with it.",
        )
        function = stack.node.find_child(AWS_CUSTOM_RESOURCE_LAMBDA)
        for rule, reason in (
            ("LambdaConcurrency", "runs once per deploy; reserved concurrency would only hold back account capacity"),
            (
                "LambdaDLQ",
                "invoked synchronously by CloudFormation, which reports a failure; there is no event to keep",
            ),
            ("LambdaInsideVPC", "calls only the EC2 API; placing it in the VPC would add ENIs and no isolation"),
        ):
            acknowledge_compliance(function, rule, f"CDK's AwsCustomResource function (VPC-origin lookup) {reason}.")
