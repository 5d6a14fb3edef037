"""Deploy-time checks of a network the platform is given (bring your own VPC): the custom resource behind
handlers/network_check.py and, with interface_endpoints=none, the DNS probe it runs inside the VPC."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from stacks.network.endpoints import hostname

HANDLERS = Path(__file__).with_name("handlers")
RUNTIME = lambda_.Runtime.PYTHON_3_14


@dataclass(frozen=True)
class GivenNetwork:
    """The settings vpc_id, workspace_subnet_ids, job_subnet_ids and availability_zones."""

    vpc_id: str
    workspace_subnet_ids: tuple[str, ...]
    job_subnet_ids: tuple[str, ...]
    availability_zones: tuple[str, ...]


class CheckFunction(Construct):
    """One function from handlers/; its role may write its own log group, and what the caller adds."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        handler: str,
        description: str,
        vpc: ec2.IVpc | None = None,
        subnets: ec2.SubnetSelection | None = None,
        security_group: ec2.ISecurityGroup | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(
            self, "Logs", retention=logs.RetentionDays.ONE_YEAR, removal_policy=cdk.RemovalPolicy.DESTROY
        )
        self.role = iam.Role(
            self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"), description=description
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="OwnLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=RUNTIME,
            code=lambda_.Code.from_asset(str(HANDLERS), exclude=["__pycache__", "*.pyc"]),
            handler=handler,
            description=description,
            timeout=cdk.Duration.minutes(2),
            memory_size=256,
            role=self.role,
            log_group=self.log_group,
            vpc=vpc,
            vpc_subnets=subnets,
            security_groups=[security_group] if security_group else None,
        )


class NetworkCheck(Construct):
    """Refuses the deploy, before anything is placed in the given network, when its subnets do not fit (another
    VPC, another zone, a job subnet with a route out) or, with `probe_services`, when those services do not
    resolve privately inside it. Exposes what it read: the subnets' route tables and the workspace CIDRs."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        given: GivenNetwork,
        vpc: ec2.IVpc,
        job_subnets: ec2.SubnetSelection,
        probe_services: tuple[str, ...],
    ) -> None:
        super().__init__(scope, construct_id)
        self.check = CheckFunction(
            self,
            "Check",
            handler="network_check.on_event",
            description="Checks the landing zone's VPC and subnets before the platform uses them",
        )
        # Describe calls have no resource-level permissions.
        self.check.role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadNetwork",
                actions=[
                    "ec2:DescribeVpcs",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeRouteTables",
                    "ec2:DescribeVpcEndpoints",
                ],
                resources=["*"],
            )
        )
        properties: dict[str, object] = {
            "VpcId": given.vpc_id,
            "WorkspaceSubnetIds": list(given.workspace_subnet_ids),
            "JobSubnetIds": list(given.job_subnet_ids),
            "AvailabilityZones": list(given.availability_zones),
        }
        self.probe: CheckFunction | None = None
        if probe_services:
            self.probe_security_group = ec2.SecurityGroup(
                self,
                "ProbeSecurityGroup",
                vpc=vpc,
                allow_all_outbound=False,
                description="DNS probe: no traffic at all (the VPC resolver is not filtered by security groups)",
            )
            self.probe = CheckFunction(
                self,
                "Probe",
                handler="private_dns.handler",
                description="Resolves the AWS service hostnames the platform needs, inside the VPC",
                vpc=vpc,
                subnets=job_subnets,
                security_group=self.probe_security_group,
            )
            self.probe.function.grant_invoke(self.check.role)
            properties["ProbeFunction"] = self.probe.function.function_name
            properties["Hostnames"] = {name: hostname(name) for name in probe_services}
        self.provider = cr.Provider(self, "Provider", on_event_handler=self.check.function)
        self.resource = cdk.CustomResource(
            self,
            "Resource",
            service_token=self.provider.service_token,
            resource_type="Custom::LandingZoneNetwork",
            properties=properties,
        )
        self.route_table_ids = cdk.Fn.split(",", self.resource.get_att_string("RouteTableIds"))
        cidrs = self.resource.get_att_string("WorkspaceSubnetCidrs")
        self.workspace_cidrs = [
            cdk.Fn.select(index, cdk.Fn.split(",", cidrs)) for index in range(len(given.workspace_subnet_ids))
        ]
