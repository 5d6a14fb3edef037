"""The platform's network: where jobs run with no route out, and where the workspace reaches the internet. Either a
VPC of its own or a landing zone's (bring your own network: nothing of the VPC is created, only what the platform
puts into it)."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.network.checks import GivenNetwork, NetworkCheck
from stacks.network.endpoints import SERVICES, account_only, s3_gateway_statements

JOB_SUBNET_GROUP = "jobs"
WORKSPACE_SUBNET_GROUP = "workspace"
PUBLIC_SUBNET_GROUP = "public"


@dataclass(frozen=True)
class NetworkOptions:
    cidr: str
    nat_gateways: int
    flow_log_removal: cdk.RemovalPolicy
    # Interface endpoints to create (names of endpoints.SERVICES) and in how many zones.
    interface_services: tuple[str, ...]
    endpoint_azs: int
    # A landing zone's VPC instead of our own, and (interface_endpoints=none) the services that must resolve
    # privately in it.
    given: GivenNetwork | None = None
    probe_services: tuple[str, ...] = ()


class Network(Construct):
    """Our own VPC over two AZs with three subnet groups:

    - ``public``: only the NAT gateway(s) and the internet gateway (CloudFront VPC origins need one).
    - ``workspace``: private, egress through NAT, for the RStudio host or the SageMaker domain.
    - ``jobs``: isolated, no route out; AWS is reached through the endpoints only.
    With ``nat_gateways=0`` (allowed only without a workspace) there is no public subnet and the workspace group
    is isolated too, so nothing in the VPC can reach the internet.

    Or, with `options.given`, the landing zone's VPC: its workspace subnets as the ``workspace`` group, its job
    subnets as ``jobs``, taken as given at synth and checked at deploy (stacks/network/checks.py).
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, options: NetworkOptions, platform_bucket_arn: str
    ) -> None:
        super().__init__(scope, construct_id)
        self.check: NetworkCheck | None = None
        self.flow_log_group: logs.LogGroup | None = None
        given = options.given
        if given is None:
            self.vpc: ec2.IVpc = self._own_vpc(options)
        else:
            self.vpc = ec2.Vpc.from_vpc_attributes(
                self,
                "Vpc",
                vpc_id=given.vpc_id,
                availability_zones=list(given.availability_zones),
                private_subnet_ids=list(given.workspace_subnet_ids),
                private_subnet_names=[WORKSPACE_SUBNET_GROUP],
                isolated_subnet_ids=list(given.job_subnet_ids),
                isolated_subnet_names=[JOB_SUBNET_GROUP],
            )
            # CDK warns that imported subnets carry no route table ID. Nothing here reads one from CDK: the S3 gateway
            # endpoint takes the route tables the network check reads at deploy (NetworkCheck.route_table_ids).
            for subnet in [*self.vpc.private_subnets, *self.vpc.isolated_subnets]:
                cdk.Annotations.of(subnet).acknowledge_warning(
                    "@aws-cdk/aws-ec2:noSubnetRouteTableId",
                    "the platform takes the subnets' route tables from its deploy-time network check",
                )
        self.job_subnets = ec2.SubnetSelection(subnet_group_name=JOB_SUBNET_GROUP)
        self.workspace_subnets = ec2.SubnetSelection(subnet_group_name=WORKSPACE_SUBNET_GROUP)
        # Interface endpoints live in the first endpoint_azs job subnets (one ENI each, billed per zone-hour).
        job_subnets = self.vpc.select_subnets(subnet_group_name=JOB_SUBNET_GROUP).subnets
        self.endpoint_subnets = ec2.SubnetSelection(subnets=job_subnets[: options.endpoint_azs])
        if given is not None:
            self.check = NetworkCheck(
                self,
                "Check",
                given=given,
                vpc=self.vpc,
                job_subnets=self.job_subnets,
                probe_services=options.probe_services,
            )
        self.s3_endpoint = self._s3_gateway(platform_bucket_arn)
        self.endpoint_security_group: ec2.SecurityGroup | None = None
        self.interface_endpoints: dict[str, ec2.InterfaceVpcEndpoint] = {}
        # False with interface_endpoints=none: the landing zone provides every endpoint, the studio's too.
        self.creates_interface_endpoints = options.interface_services != ()
        if options.interface_services:
            self.endpoint_security_group = self._endpoint_security_group(options.cidr)
            # Under our own VPC's construct as they always were (their logical IDs stay); an imported VPC is no
            # construct of ours.
            scope = self.vpc if isinstance(self.vpc, ec2.Vpc) else self
            for name in options.interface_services:
                self.interface_endpoints[name] = self.add_interface_endpoint(scope, name, self.endpoint_security_group)

    def add_interface_endpoint(
        self, scope: Construct, name: str, security_group: ec2.ISecurityGroup
    ) -> ec2.InterfaceVpcEndpoint:
        """One interface endpoint of endpoints.SERVICES in the endpoint subnets, private DNS on, open to this
        account's principals only (also used by the studio stack for the domain's own two)."""
        endpoint = ec2.InterfaceVpcEndpoint(
            scope,
            name,
            vpc=self.vpc,
            service=SERVICES[name],
            subnets=self.endpoint_subnets,
            private_dns_enabled=True,
            open=False,
            security_groups=[security_group],
        )
        account_only(endpoint)
        if self.check is not None:
            endpoint.node.add_dependency(self.check.resource)
        return endpoint

    def _own_vpc(self, options: NetworkOptions) -> ec2.Vpc:
        # Nothing is placed in the default security group; its rules are stripped anyway (CDK's custom
        # resource, a Lambda run once per deploy) so that anything put there by hand later is closed off
        # (HIPAA / NIST 800-53 VPCDefaultSecurityGroupClosed).
        vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(options.cidr),
            max_azs=2,
            nat_gateways=options.nat_gateways,
            subnet_configuration=_subnet_layout(options.nat_gateways),
            restrict_default_security_group=True,
        )
        self.flow_log_group = logs.LogGroup(
            self,
            "FlowLogs",
            retention=logs.RetentionDays.ONE_YEAR,
            removal_policy=options.flow_log_removal,
        )
        self.flow_log = vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(self.flow_log_group),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )
        return vpc

    def _s3_gateway(self, platform_bucket_arn: str) -> ec2.GatewayVpcEndpoint | ec2.CfnVPCEndpoint:
        statements = s3_gateway_statements(self, platform_bucket_arn)
        if self.check is None:
            endpoint = self.vpc.add_gateway_endpoint(
                "S3",
                service=ec2.GatewayVpcEndpointAwsService.S3,
                subnets=[self.job_subnets, self.workspace_subnets],
            )
            for statement in statements:
                endpoint.add_to_policy(statement)
            return endpoint
        # The given subnets' route tables are read at deploy (an imported subnet does not know its table).
        return ec2.CfnVPCEndpoint(
            self,
            "S3",
            vpc_id=self.vpc.vpc_id,
            service_name=f"com.amazonaws.{cdk.Aws.REGION}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=self.check.route_table_ids,
            policy_document=iam.PolicyDocument(statements=statements),
        )

    def _endpoint_security_group(self, cidr: str) -> ec2.SecurityGroup:
        group = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=self.vpc,
            allow_all_outbound=False,
            description="Interface endpoints: HTTPS from inside the VPC only",
        )
        if self.check is None:
            # The literal CIDR (not the VPC's GetAtt) keeps the rule checkable at synth by cdk-nag.
            group.add_ingress_rule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(443), "HTTPS from the VPC")
        else:
            # Only the workspace subnets call AWS (jobs run isolated); their ranges are read at deploy.
            for index, subnet_cidr in enumerate(self.check.workspace_cidrs):
                group.add_ingress_rule(
                    ec2.Peer.ipv4(subnet_cidr), ec2.Port.tcp(443), f"HTTPS from workspace subnet {index + 1}"
                )
        return group


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
