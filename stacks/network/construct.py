"""The platform's VPC: where jobs run with no route out, and where the RStudio host reaches the internet."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

JOB_SUBNET_GROUP = "jobs"
WORKSPACE_SUBNET_GROUP = "workspace"
PUBLIC_SUBNET_GROUP = "public"

# What runs privately calls these services; private DNS makes the SDKs' default endpoints resolve here.
INTERFACE_ENDPOINT_SERVICES: dict[str, ec2.InterfaceVpcEndpointAwsService] = {
    "SageMakerApi": ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API,
    "Sts": ec2.InterfaceVpcEndpointAwsService.STS,
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "EcrApi": ec2.InterfaceVpcEndpointAwsService.ECR,
    "EcrDocker": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
    "SecretsManager": ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
    "Ssm": ec2.InterfaceVpcEndpointAwsService.SSM,
    "SsmMessages": ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES,
    "Ec2Messages": ec2.InterfaceVpcEndpointAwsService.EC2_MESSAGES,
}


class Network(Construct):
    """VPC over two AZs with three subnet groups.

    - ``public``: only the NAT gateway(s) and the internet gateway (CloudFront VPC origins need one).
    - ``workspace``: private, egress through NAT, for the RStudio host.
    - ``jobs``: isolated, no route out; AWS is reached through the endpoints only.
    With ``nat_gateways=0`` (allowed only without a workspace) there is no public subnet and the
    workspace group is isolated too, so nothing in the VPC can reach the internet.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, cidr: str, nat_gateways: int, flow_log_removal: cdk.RemovalPolicy
    ) -> None:
        super().__init__(scope, construct_id)
        # Nothing is placed in the default security group; its rules are stripped anyway (CDK's custom
        # resource, a Lambda run once per deploy) so that anything put there by hand later is closed off
        # (HIPAA / NIST 800-53 VPCDefaultSecurityGroupClosed).
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(cidr),
            max_azs=2,
            nat_gateways=nat_gateways,
            subnet_configuration=_subnet_layout(nat_gateways),
            restrict_default_security_group=True,
        )
        self.job_subnets = ec2.SubnetSelection(subnet_group_name=JOB_SUBNET_GROUP)
        self.workspace_subnets = ec2.SubnetSelection(subnet_group_name=WORKSPACE_SUBNET_GROUP)

        self.vpc.add_gateway_endpoint(
            "S3",
            service=ec2.GatewayVpcEndpointAwsService.S3,
            subnets=[self.job_subnets, self.workspace_subnets],
        )
        self.endpoint_security_group = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=self.vpc,
            allow_all_outbound=False,
            description="Interface endpoints: HTTPS from inside the VPC only",
        )
        # The literal CIDR (not the VPC's GetAtt) keeps the rule checkable at synth by cdk-nag.
        self.endpoint_security_group.add_ingress_rule(
            ec2.Peer.ipv4(cidr),
            ec2.Port.tcp(443),
            "HTTPS from the VPC",
        )
        self.interface_endpoints = {
            name: self.vpc.add_interface_endpoint(
                name,
                service=service,
                subnets=self.job_subnets,
                private_dns_enabled=True,
                open=False,
                security_groups=[self.endpoint_security_group],
            )
            for name, service in INTERFACE_ENDPOINT_SERVICES.items()
        }

        self.flow_log_group = logs.LogGroup(
            self,
            "FlowLogs",
            retention=logs.RetentionDays.ONE_YEAR,
            removal_policy=flow_log_removal,
        )
        self.flow_log = self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(self.flow_log_group),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )


def _subnet_layout(nat_gateways: int) -> list[ec2.SubnetConfiguration]:
    # Masks fit the smallest VPC settings allow (/20): 2 x (/24 + /24 + /22) = 3072 of 4096 addresses.
    jobs = ec2.SubnetConfiguration(name=JOB_SUBNET_GROUP, subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=22)
    if nat_gateways == 0:
        workspace = ec2.SubnetConfiguration(
            name=WORKSPACE_SUBNET_GROUP,
            subnet_type=ec2.SubnetType.PRIVATE_ISOLATED,
            cidr_mask=24,
        )
        return [workspace, jobs]
    return [
        ec2.SubnetConfiguration(
            name=PUBLIC_SUBNET_GROUP, subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24, map_public_ip_on_launch=False
        ),
        ec2.SubnetConfiguration(
            name=WORKSPACE_SUBNET_GROUP, subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=24
        ),
        jobs,
    ]
