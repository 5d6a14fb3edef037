"""The deploy-time network check (stacks/network/handlers/), against moto's EC2: a landing zone's VPC made the way a
network team would (private subnets, a NAT gateway for the workspace, isolated job subnets), then each way it
can be wrong. The DNS probe is run with a resolver stand-in."""

from __future__ import annotations

import io
import json
from typing import Any

import boto3
import pytest
from moto import mock_aws

from stacks.network.handlers import network_check, private_dns
from stacks.network.handlers.network_check import NetworkRefused

REGION = "eu-west-1"


@pytest.fixture
def ec2(monkeypatch: pytest.MonkeyPatch) -> Any:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield boto3.client("ec2", region_name=REGION)


def landing_zone(ec2: Any) -> dict[str, Any]:
    """VPC 10.20.0.0/16: workspace subnets routed to a NAT gateway, job subnets with a table of their own and no
    route out; the VPC's main table is left alone."""
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)

    def subnet(cidr: str, zone: str) -> str:
        return str(ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=zone)["Subnet"]["SubnetId"])

    public = subnet("10.20.0.0/24", "eu-west-1a")
    nat = ec2.create_nat_gateway(SubnetId=public, AllocationId=ec2.allocate_address(Domain="vpc")["AllocationId"])
    workspace = [subnet("10.20.1.0/24", "eu-west-1a"), subnet("10.20.2.0/24", "eu-west-1b")]
    jobs = [subnet("10.20.8.0/22", "eu-west-1a"), subnet("10.20.12.0/22", "eu-west-1b")]
    workspace_table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(
        RouteTableId=workspace_table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat["NatGateway"]["NatGatewayId"]
    )
    job_table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    for s in workspace:
        ec2.associate_route_table(RouteTableId=workspace_table, SubnetId=s)
    for s in jobs:
        ec2.associate_route_table(RouteTableId=job_table, SubnetId=s)
    return {
        "vpc": vpc,
        "igw": igw,
        "workspace": workspace,
        "jobs": jobs,
        "job_table": job_table,
        "workspace_table": workspace_table,
    }


def event(lz: dict[str, Any], **extra: Any) -> dict[str, Any]:
    props = {
        "VpcId": lz["vpc"],
        "WorkspaceSubnetIds": lz["workspace"],
        "JobSubnetIds": lz["jobs"],
        "AvailabilityZones": ["eu-west-1a", "eu-west-1b"],
        **extra,
    }
    return {"RequestType": "Create", "ResourceProperties": props}


def test_a_fitting_network_passes_and_tells_the_stack_what_it_read(ec2):
    lz = landing_zone(ec2)
    answer = network_check.handle_event(event(lz), ec2)
    assert answer["PhysicalResourceId"] == f"network-check-{lz['vpc']}"
    assert answer["Data"] == {
        "RouteTableIds": ",".join(sorted([lz["job_table"], lz["workspace_table"]])),
        "WorkspaceSubnetCidrs": "10.20.1.0/24,10.20.2.0/24",
    }


def test_a_job_subnet_routing_to_a_nat_or_internet_gateway_is_refused_with_one_message(ec2):
    lz = landing_zone(ec2)
    ec2.create_route(RouteTableId=lz["job_table"], DestinationCidrBlock="0.0.0.0/0", GatewayId=lz["igw"])
    with pytest.raises(NetworkRefused) as caught:
        network_check.handle_event(event(lz), ec2)
    message = str(caught.value)
    assert message.startswith("job subnets must have no route out of the VPC")
    assert f"job subnet {lz['jobs'][0]} ({lz['job_table']}) routes 0.0.0.0/0 to internet gateway {lz['igw']}" in message
    assert "\n" not in message


def test_a_job_subnet_on_the_main_table_is_judged_by_the_main_tables_routes(ec2):
    lz = landing_zone(ec2)
    loose = ec2.create_subnet(VpcId=lz["vpc"], CidrBlock="10.20.16.0/22", AvailabilityZone="eu-west-1b")["Subnet"]
    main = ec2.describe_route_tables(
        Filters=[{"Name": "vpc-id", "Values": [lz["vpc"]]}, {"Name": "association.main", "Values": ["true"]}]
    )["RouteTables"][0]
    ec2.create_route(RouteTableId=main["RouteTableId"], DestinationCidrBlock="0.0.0.0/0", GatewayId=lz["igw"])
    lz["jobs"] = [lz["jobs"][0], loose["SubnetId"]]
    with pytest.raises(NetworkRefused, match=rf"job subnet {loose['SubnetId']} \({main['RouteTableId']}\) routes"):
        network_check.handle_event(event(lz), ec2)


def test_subnets_of_another_vpc_or_zone_and_unknown_ones_are_named(ec2):
    lz = landing_zone(ec2)
    other = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    stray = ec2.create_subnet(VpcId=other, CidrBlock="10.30.1.0/24", AvailabilityZone="eu-west-1b")["Subnet"][
        "SubnetId"
    ]
    lz["workspace"] = [lz["workspace"][1], stray]
    with pytest.raises(NetworkRefused) as caught:
        network_check.handle_event(event(lz), ec2)
    assert str(caught.value) == (
        f"the given subnets do not fit: {stray} is in {other}, not {lz['vpc']}; "
        f"{lz['workspace'][0]} is in eu-west-1b, not eu-west-1a (availability_zones order)"
    )
    lz["jobs"] = ["subnet-0123456789abcdef0", lz["jobs"][1]]
    with pytest.raises(NetworkRefused, match="subnet-0123456789abcdef0 does not exist"):
        network_check.handle_event(event(lz), ec2)


def test_a_vpc_that_does_not_exist_is_named(ec2):
    lz = landing_zone(ec2)
    lz["vpc"] = "vpc-0123456789abcdef0"
    with pytest.raises(NetworkRefused, match=r"^vpc_id vpc-0123456789abcdef0 does not exist in eu-west-1"):
        network_check.handle_event(event(lz), ec2)


def test_a_route_table_that_already_has_an_s3_gateway_is_refused(ec2):
    lz = landing_zone(ec2)
    endpoint = ec2.create_vpc_endpoint(
        VpcId=lz["vpc"],
        ServiceName=f"com.amazonaws.{REGION}.s3",
        VpcEndpointType="Gateway",
        RouteTableIds=[lz["job_table"]],
    )["VpcEndpoint"]
    with pytest.raises(
        NetworkRefused, match=f"{lz['job_table']} already routes S3 through {endpoint['VpcEndpointId']}"
    ):
        network_check.handle_event(event(lz), ec2)


def test_delete_does_nothing(ec2):
    answer = network_check.handle_event(
        {"RequestType": "Delete", "PhysicalResourceId": "x", "ResourceProperties": {"VpcId": "vpc-1"}}, ec2
    )
    assert answer == {"PhysicalResourceId": "x"}


class Lambda:
    """Invokes the probe's handler in-process, as Lambda would, with a resolver stand-in."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers

    def invoke(self, FunctionName: str, Payload: bytes) -> dict[str, Any]:  # noqa: N803 - boto3's names
        def resolve(host: str) -> list[str]:
            if host not in self.answers:
                raise OSError(-2, "Name or service not known")
            return self.answers[host]

        body = {"NotPrivate": private_dns.not_private(json.loads(Payload)["Hostnames"], resolve)}
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(body).encode())}


def test_with_landing_zone_endpoints_the_services_that_do_not_resolve_privately_are_listed(ec2):
    lz = landing_zone(ec2)
    hostnames = {
        "SageMakerApi": "api.sagemaker.eu-west-1.amazonaws.com",
        "Sts": "sts.eu-west-1.amazonaws.com",
        "Logs": "logs.eu-west-1.amazonaws.com",
    }
    answers = {"api.sagemaker.eu-west-1.amazonaws.com": ["10.20.8.14"], "sts.eu-west-1.amazonaws.com": ["52.94.0.10"]}
    with pytest.raises(NetworkRefused) as caught:
        network_check.handle_event(event(lz, ProbeFunction="probe", Hostnames=hostnames), ec2, Lambda(answers))
    assert str(caught.value) == (
        "interface_endpoints=none, but these services the platform needs do not resolve to private addresses in "
        "the VPC: Logs (logs.eu-west-1.amazonaws.com does not resolve: [Errno -2] Name or service not known); "
        "Sts (sts.eu-west-1.amazonaws.com -> 52.94.0.10). Ask the network team for interface endpoints with "
        "private DNS for them (docs/landing-zone.md lists them per mode), or deploy with interface_endpoints=all"
    )
    answers.update({"sts.eu-west-1.amazonaws.com": ["10.20.9.7"], "logs.eu-west-1.amazonaws.com": ["100.64.3.2"]})
    answer = network_check.handle_event(event(lz, ProbeFunction="probe", Hostnames=hostnames), ec2, Lambda(answers))
    assert answer["Data"]["WorkspaceSubnetCidrs"] == "10.20.1.0/24,10.20.2.0/24"
