"""The domain's network pieces: its security group, and the interface endpoints RStudio in VpcOnly mode needs
beyond what the platform's network already has (License Manager for the Posit licence, SageMaker runtime).

As AWS's RStudio networking page has it ("Connect RStudio on SageMaker to a VPC"): the domain's security group
"must allow all outbound access", and the endpoints' group "must allow inbound traffic from the Domain Security
Group". Two groups only (a domain takes at most two): the domain's, used by the RStudioServerPro app and every
RSession, and the new endpoints' group, which admits HTTPS from the domain's group alone. SageMaker manages the
rules between the apps and the NFS groups of the home EFS itself (AppSecurityGroupManagement: Service).
"""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from stacks.network.construct import Network
from stacks.network.services import STUDIO_SERVICES

# Present in the platform network already (stacks/network/services.py): SageMaker API, STS, Logs, ECR (api +
# dkr), SSM, S3; these two are the domain's own (that module's STUDIO_SERVICES, created in the platform's endpoint
# subnets, with its policy; none with interface_endpoints=none, when the landing zone provides them).
STUDIO_ENDPOINT_SERVICES = STUDIO_SERVICES
HTTPS = ec2.Port.tcp(443)


class DomainNetwork(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        network: Network,
    ) -> None:
        super().__init__(scope, construct_id)
        vpc, domain_subnets = network.vpc, network.workspace_subnets
        self.subnet_ids = vpc.select_subnets(subnet_group_name=domain_subnets.subnet_group_name).subnet_ids
        # Outbound is not narrowed: AWS requires all of it and does not list what the apps reach (AWS APIs
        # through the endpoints and the S3 gateway, package repositories through the NAT gateway when the platform
        # has one). Inbound: nothing from outside the group.
        self.security_group = ec2.SecurityGroup(
            self,
            "DomainSecurityGroup",
            vpc=vpc,
            allow_all_outbound=True,
            description="RStudio on SageMaker: RStudioServerPro and RSession apps; all outbound (AWS requirement)",
        )
        # The RStudioServerPro app launches and proxies the RSession apps: they talk to each other.
        self.security_group.add_ingress_rule(self.security_group, ec2.Port.all_tcp(), "RStudio apps of this domain")
        self.endpoint_security_group = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=vpc,
            allow_all_outbound=False,
            description="RStudio interface endpoints: HTTPS from the domain apps only",
        )
        self.endpoint_security_group.add_ingress_rule(self.security_group, HTTPS, "HTTPS from the RStudio apps")
        self.endpoints = {
            name: network.add_interface_endpoint(self, name, self.endpoint_security_group)
            for name in (STUDIO_ENDPOINT_SERVICES if network.creates_interface_endpoints else ())
        }
