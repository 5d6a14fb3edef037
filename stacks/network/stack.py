"""Deployment unit for the network; other stacks take `NetworkStack.network`."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from stacks.network.checks import GivenNetwork
from stacks.network.construct import JOB_SUBNET_GROUP, Network, NetworkOptions
from stacks.network.services import NETWORK_SERVICES, required_services
from stacks.removal import removal_policy
from stacks.settings import Settings


def network_options(settings: Settings) -> NetworkOptions:
    """What the settings ask of the network: whose VPC, which interface endpoints, in how many zones."""
    given = None
    if settings.vpc_id:
        given = GivenNetwork(
            vpc_id=settings.vpc_id,
            workspace_subnet_ids=settings.workspace_subnet_ids,
            job_subnet_ids=settings.job_subnet_ids,
            availability_zones=settings.availability_zones,
        )
    create = settings.interface_endpoints == "all"
    return NetworkOptions(
        cidr=settings.vpc_cidr,
        nat_gateways=settings.nat_gateways,
        flow_log_removal=removal_policy(settings.delete_data_on_destroy),
        interface_services=NETWORK_SERVICES[settings.rstudio_mode] if create else (),
        endpoint_azs=settings.endpoint_azs,
        given=given,
        probe_services=() if create else required_services(settings.rstudio_mode),
    )


class NetworkStack(cdk.Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, settings: Settings, platform_bucket_arn: str, **kwargs: Any
    ) -> None:
        what = "the landing zone's VPC: endpoints and checks" if settings.vpc_id else "VPC, endpoints and flow logs"
        super().__init__(scope, construct_id, description=f"{settings.platform_name}: {what}", **kwargs)
        self.network = Network(
            self, "Network", options=network_options(settings), platform_bucket_arn=platform_bucket_arn
        )
        job_subnet_ids = self.network.vpc.select_subnets(subnet_group_name=JOB_SUBNET_GROUP).subnet_ids
        cdk.CfnOutput(
            self,
            "SubnetIds",
            value=cdk.Fn.join(",", job_subnet_ids),
            description="job-config field subnet_ids (isolated job subnets)",
        )
