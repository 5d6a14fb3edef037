"""Custom resource that checks a brought-in network before anything is placed in it.

Given the VPC, the workspace and job subnets and the zones they should be in (the settings vpc_id,
workspace_subnet_ids, job_subnet_ids, availability_zones), on Create and Update it refuses, in one message:
subnets that do not exist or belong to another VPC, a subnet in another zone than the settings say, a job subnet
whose route table sends traffic to an internet gateway, a NAT gateway or an egress-only internet gateway (jobs
must have no way out), and a route table that already routes S3 through another gateway endpoint (a route table
holds one route per service; the platform adds its own endpoint, whose policy names its buckets). With
ResourceProperties `ProbeFunction` it then invokes that function, which runs inside the VPC and answers whether
the services the mode needs resolve to private addresses there (private_dns.py).

It returns what the stack needs and cannot know at synth: the route tables of the subnets (for the S3 gateway
endpoint) and the workspace subnets' CIDR blocks (the interface endpoints admit HTTPS from those). Delete does
nothing. CloudFormation shows the message of a refusal as the resource's failure reason.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import boto3

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)

# Route targets that lead out of the VPC to the internet (EC2 API Route: GatewayId igw-..., NatGatewayId,
# EgressOnlyInternetGatewayId).
OUT = {"NatGatewayId": "a NAT gateway", "EgressOnlyInternetGatewayId": "an egress-only internet gateway"}


class NetworkRefused(RuntimeError):
    """The given network cannot hold the platform; the message is what the admin sees in CloudFormation."""


def on_event(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle_event(event, boto3.client("ec2"), boto3.client("lambda"))


def handle_event(event: dict[str, Any], ec2: Any, lambda_client: Any = None) -> dict[str, Any]:
    props = event["ResourceProperties"]
    physical_id = f"network-check-{props['VpcId']}"
    if event["RequestType"] == "Delete":
        return {"PhysicalResourceId": event.get("PhysicalResourceId", physical_id)}
    data = check_network(
        ec2,
        vpc_id=props["VpcId"],
        workspace=list(props["WorkspaceSubnetIds"]),
        jobs=list(props["JobSubnetIds"]),
        zones=list(props["AvailabilityZones"]),
    )
    if props.get("ProbeFunction"):
        probe(lambda_client, props["ProbeFunction"], props["Hostnames"])
    LOG.info("network %s accepted: %s", props["VpcId"], data)
    return {"PhysicalResourceId": physical_id, "Data": data}


def check_network(ec2: Any, *, vpc_id: str, workspace: list[str], jobs: list[str], zones: list[str]) -> dict[str, str]:
    if not ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Vpcs"]:
        raise NetworkRefused(f"vpc_id {vpc_id} does not exist in {ec2.meta.region_name} (or is not visible here)")
    wanted = workspace + jobs
    described = ec2.describe_subnets(Filters=[{"Name": "subnet-id", "Values": wanted}])["Subnets"]
    found = {subnet["SubnetId"]: subnet for subnet in described}
    problems = [f"{subnet} does not exist" for subnet in wanted if subnet not in found]
    problems += [
        f"{subnet} is in {found[subnet]['VpcId']}, not {vpc_id}"
        for subnet in wanted
        if subnet in found and found[subnet]["VpcId"] != vpc_id
    ]
    for subnets in (workspace, jobs):
        problems += [
            f"{subnet} is in {found[subnet]['AvailabilityZone']}, not {zone} (availability_zones order)"
            for subnet, zone in zip(subnets, zones, strict=False)
            if subnet in found and found[subnet]["VpcId"] == vpc_id and found[subnet]["AvailabilityZone"] != zone
        ]
    if problems:
        raise NetworkRefused("the given subnets do not fit: " + "; ".join(problems))
    tables = route_tables(ec2, vpc_id, wanted)
    out = [
        f"job subnet {subnet} ({tables[subnet]['RouteTableId']}) routes {_destination(route)} to {what}"
        for subnet in jobs
        for route in tables[subnet].get("Routes", [])
        for what in [_leads_out(route)]
        if what
    ]
    if out:
        raise NetworkRefused(
            "job subnets must have no route out of the VPC (jobs reach AWS through the endpoints only): "
            + "; ".join(out)
            + ". Give job_subnet_ids whose route tables have no internet or NAT gateway route"
        )
    table_ids = sorted({tables[subnet]["RouteTableId"] for subnet in wanted})
    taken = _s3_gateways(ec2, vpc_id, table_ids)
    if taken:
        raise NetworkRefused(
            "the platform adds an S3 gateway endpoint (its policy names the platform's buckets) to the subnets' "
            f"route tables, but {'; '.join(taken)}: a route table holds one S3 gateway route. Remove that "
            "endpoint from those route tables, or give subnets whose route tables have none"
        )
    return {
        "RouteTableIds": ",".join(table_ids),
        "WorkspaceSubnetCidrs": ",".join(found[subnet]["CidrBlock"] for subnet in workspace),
    }


def route_tables(ec2: Any, vpc_id: str, subnets: list[str]) -> dict[str, dict[str, Any]]:
    """subnet -> its route table: the one explicitly associated, else the VPC's main table."""
    tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["RouteTables"]
    main = next((t for t in tables if any(a.get("Main") for a in t.get("Associations", []))), None)
    by_subnet = {a["SubnetId"]: t for t in tables for a in t.get("Associations", []) if a.get("SubnetId")}
    result = {}
    for subnet in subnets:
        table = by_subnet.get(subnet, main)
        if table is None:
            raise NetworkRefused(f"{subnet} has no route table, and {vpc_id} has no main route table")
        result[subnet] = table
    return result


def _leads_out(route: dict[str, Any]) -> str | None:
    if str(route.get("GatewayId", "")).startswith("igw-"):
        return f"internet gateway {route['GatewayId']}"
    for key, what in OUT.items():
        if route.get(key):
            return f"{what} {route[key]}"
    return None


def _destination(route: dict[str, Any]) -> str:
    keys = ("DestinationCidrBlock", "DestinationIpv6CidrBlock", "DestinationPrefixListId")
    return str(next((route[key] for key in keys if route.get(key)), "?"))


def _s3_gateways(ec2: Any, vpc_id: str, table_ids: list[str]) -> list[str]:
    service = f"com.amazonaws.{ec2.meta.region_name}.s3"
    endpoints = ec2.describe_vpc_endpoints(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "service-name", "Values": [service]},
            {"Name": "vpc-endpoint-type", "Values": ["Gateway"]},
        ]
    )["VpcEndpoints"]
    return [
        f"{table} already routes S3 through {endpoint['VpcEndpointId']}"
        for endpoint in endpoints
        if endpoint.get("State", "available").lower() not in ("deleted", "deleting")
        for table in endpoint.get("RouteTableIds", [])
        if table in table_ids
    ]


def probe(lambda_client: Any, function: str, hostnames: dict[str, str]) -> None:
    """Ask the in-VPC probe which hostnames resolve privately; refuse with the list of those that do not."""
    answer = lambda_client.invoke(FunctionName=function, Payload=json.dumps({"Hostnames": hostnames}).encode())
    body = json.loads(answer["Payload"].read() or b"{}")
    if answer.get("FunctionError"):
        raise NetworkRefused(f"the DNS probe inside the VPC failed: {body.get('errorMessage', body)}")
    missing = body.get("NotPrivate", {})
    if missing:
        listed = "; ".join(f"{name} ({detail})" for name, detail in sorted(missing.items()))
        raise NetworkRefused(
            "interface_endpoints=none, but these services the platform needs do not resolve to private addresses "
            f"in the VPC: {listed}. Ask the network team for interface endpoints with private DNS for them "
            "(docs/landing-zone.md lists them per mode), or deploy with interface_endpoints=all"
        )
