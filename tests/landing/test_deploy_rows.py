"""docs/bad-input.md, section "Landing zone, checked at deploy": each row's input made against moto's EC2 must give
the row's line, with that network's IDs in place of the <...> placeholders."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from stacks.network.handlers import network_check
from stacks.network.handlers.network_check import NetworkRefused
from tests.conftest import ROOT
from tests.landing.test_network_check import Lambda, ec2, event, landing_zone  # noqa: F401 - ec2 is a fixture

DOC = ROOT / "docs" / "bad-input.md"


def rows() -> list[tuple[str, str]]:
    found = []
    for line in DOC.read_text().splitlines():
        cells = line.split(" | ")
        if len(cells) == 3 and cells[0].lstrip("| ").strip() == "deploy":
            found.append((cells[1].strip().strip("`"), cells[2].rstrip(" |").strip().strip("`")))
    return found


def other_vpc(client: Any, lz: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    other = client.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    stray = client.create_subnet(VpcId=other, CidrBlock="10.30.1.0/24", AvailabilityZone="eu-west-1b")["Subnet"]
    lz["workspace"] = [lz["workspace"][0], stray["SubnetId"]]
    return event(lz), {"<subnet>": stray["SubnetId"], "<other vpc>": other, "<vpc>": lz["vpc"]}


def job_route(target: str) -> Callable[[Any, dict[str, Any]], tuple[dict[str, Any], dict[str, str]]]:
    def make(client: Any, lz: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        # The first job subnet moves to a table of its own, which gets the route out.
        table = client.create_route_table(VpcId=lz["vpc"])["RouteTable"]["RouteTableId"]
        (old,) = client.describe_route_tables(RouteTableIds=[lz["job_table"]])["RouteTables"][0]["Associations"][:1]
        client.replace_route_table_association(AssociationId=old["RouteTableAssociationId"], RouteTableId=table)
        lz["job_table"] = table
        if target == "igw":
            client.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=lz["igw"])
            via = lz["igw"]
        else:
            public = lz["workspace"][0]
            nat = client.create_nat_gateway(
                SubnetId=public, AllocationId=client.allocate_address(Domain="vpc")["AllocationId"]
            )["NatGateway"]["NatGatewayId"]
            client.create_route(RouteTableId=lz["job_table"], DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
            via = nat
        return event(lz), {"<subnet>": lz["jobs"][0], "<route table>": lz["job_table"], f"<{target}>": via}

    return make


def public_sts(client: Any, lz: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    return event(lz, ProbeFunction="probe", Hostnames={"Sts": "sts.eu-west-1.amazonaws.com"}), {}


SCENARIOS = {
    "a workspace subnet of another VPC": other_vpc,
    "a job subnet whose route table sends 0.0.0.0/0 to an internet gateway": job_route("igw"),
    "a job subnet whose route table sends 0.0.0.0/0 to a NAT gateway": job_route("nat"),
    "interface_endpoints=none`, STS not resolving privately": public_sts,
}


def test_every_deploy_row_has_a_scenario():
    assert sorted(given for given, _ in rows()) == sorted(SCENARIOS)


@pytest.mark.parametrize(("given", "line"), rows())
def test_the_row_is_what_the_check_says(ec2, given, line):  # noqa: F811 - the fixture
    lz = landing_zone(ec2)
    request, ids = SCENARIOS[given](ec2, lz)
    probe = Lambda({"sts.eu-west-1.amazonaws.com": ["52.94.0.10"]})
    with pytest.raises(NetworkRefused) as caught:
        network_check.handle_event(request, ec2, probe)
    for placeholder, value in ids.items():
        line = line.replace(placeholder, value)
    assert str(caught.value) == line
