"""Deployment unit for the network; other stacks take `NetworkStack.network`."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from stacks.network.construct import JOB_SUBNET_GROUP, Network
from stacks.removal import removal_policy
from stacks.settings import Settings


class NetworkStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, **kwargs: Any) -> None:
        super().__init__(
            scope, construct_id, description=f"{settings.platform_name}: VPC, endpoints and flow logs", **kwargs
        )
        self.network = Network(
            self,
            "Network",
            cidr=settings.vpc_cidr,
            nat_gateways=settings.nat_gateways,
            flow_log_removal=removal_policy(settings.delete_data_on_destroy),
        )
        job_subnet_ids = self.network.vpc.select_subnets(subnet_group_name=JOB_SUBNET_GROUP).subnet_ids
        cdk.CfnOutput(
            self,
            "SubnetIds",
            value=cdk.Fn.join(",", job_subnet_ids),
            description="job-config field subnet_ids (isolated job subnets)",
        )
