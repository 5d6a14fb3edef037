"""The VPC: two AZs, isolated job subnets, endpoints open only to the VPC, flow logs."""

from __future__ import annotations

from stacks.network.services import NETWORK_SERVICES
from tests.infra.helpers import as_list, resources

EXPECTED_INTERFACE_SERVICES = {
    "sagemaker.api",
    "sts",
    "logs",
    "ecr.api",
    "ecr.dkr",
    "secretsmanager",
    "ssm",
    "ssmmessages",
    "ec2messages",
}


def _service_suffix(service_name: object) -> str:
    # "com.amazonaws.<region>.<service>" rendered by CDK as Fn::Join ["", ["com.amazonaws.", Ref region, ".sts"]].
    parts = service_name["Fn::Join"][1] if isinstance(service_name, dict) else [service_name]
    return str(parts[-1]).lstrip(".")


def _subnets_by_group(template: dict) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for logical_id, subnet in resources(template, "AWS::EC2::Subnet").items():
        tags = {t["Key"]: t["Value"] for t in subnet["Properties"]["Tags"]}
        groups.setdefault(tags["aws-cdk:subnet-name"], []).append(logical_id)
    return groups


def test_three_subnet_groups_over_two_azs(synthesized):
    groups = _subnets_by_group(synthesized.template_json["network"])
    assert {name: len(ids) for name, ids in groups.items()} == {"public": 2, "workspace": 2, "jobs": 2}


def test_job_subnets_have_no_route_out_and_workspace_goes_through_nat(synthesized):
    t = synthesized.template_json["network"]
    groups = _subnets_by_group(t)
    routes = resources(t, "AWS::EC2::Route")
    by_table: dict[str, list[dict]] = {}
    for route in routes.values():
        by_table.setdefault(route["Properties"]["RouteTableId"]["Ref"], []).append(route["Properties"])
    assocs = resources(t, "AWS::EC2::SubnetRouteTableAssociation").values()
    table_of = {a["Properties"]["SubnetId"]["Ref"]: a["Properties"]["RouteTableId"]["Ref"] for a in assocs}
    for subnet in groups["jobs"]:
        assert by_table.get(table_of[subnet], []) == [], "job subnets must have no route at all"
    for subnet in groups["workspace"]:
        (route,) = by_table[table_of[subnet]]
        assert route["DestinationCidrBlock"] == "0.0.0.0/0"
        assert "NatGatewayId" in route
    assert len(resources(t, "AWS::EC2::NatGateway")) == synthesized.settings.nat_gateways == 1


def test_s3_gateway_endpoint_serves_jobs_and_workspace(synthesized):
    t = synthesized.template_json["network"]
    endpoints = resources(t, "AWS::EC2::VPCEndpoint").values()
    (s3,) = [e["Properties"] for e in endpoints if e["Properties"].get("VpcEndpointType") == "Gateway"]
    assert _service_suffix(s3["ServiceName"]) == "s3"
    assert len(s3["RouteTableIds"]) == 4  # 2 job + 2 workspace route tables


def test_interface_endpoints_are_the_required_services_with_private_dns(synthesized):
    t = synthesized.template_json["network"]
    interface = [
        e["Properties"]
        for e in resources(t, "AWS::EC2::VPCEndpoint").values()
        if e["Properties"].get("VpcEndpointType") == "Interface"
    ]
    assert {_service_suffix(e["ServiceName"]) for e in interface} == EXPECTED_INTERFACE_SERVICES
    assert len(interface) == len(NETWORK_SERVICES["ec2"])
    assert all(e["PrivateDnsEnabled"] is True for e in interface)


def test_endpoint_security_group_allows_only_https_from_the_vpc(synthesized):
    t = synthesized.template_json["network"]
    (group,) = [
        g["Properties"]
        for g in resources(t, "AWS::EC2::SecurityGroup").values()
        if "Interface endpoints" in g["Properties"]["GroupDescription"]
    ]
    ingress = as_list(group["SecurityGroupIngress"])
    assert ingress == [
        {
            "CidrIp": synthesized.settings.vpc_cidr,
            "Description": "HTTPS from the VPC",
            "FromPort": 443,
            "IpProtocol": "tcp",
            "ToPort": 443,
        }
    ]
    # allow_all_outbound=False: CDK's placeholder rule that matches no traffic.
    assert [e["CidrIp"] for e in as_list(group["SecurityGroupEgress"])] == ["255.255.255.255/32"]


def test_flow_logs_capture_all_traffic_of_the_vpc(synthesized):
    t = synthesized.template_json["network"]
    (flow,) = [f["Properties"] for f in resources(t, "AWS::EC2::FlowLog").values()]
    assert flow["TrafficType"] == "ALL"
    assert flow["ResourceType"] == "VPC"
    assert flow["LogDestinationType"] == "cloud-watch-logs"
