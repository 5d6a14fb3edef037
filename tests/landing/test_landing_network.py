"""Bring your own network: the platform creates nothing of the VPC, puts its pieces in the given subnets, checks the
network at deploy, and creates only the interface endpoints the mode needs (none when the landing zone provides
them), in `endpoint_azs` zones, each with its policy."""

from __future__ import annotations

import json

import pytest

from stacks.network.services import NETWORK_SERVICES, required_services
from tests.infra.helpers import as_list, resources
from tests.landing.conftest import JOB_SUBNETS, VPC, WORKSPACE_SUBNETS, ZONES

VPC_PIECES = (
    "AWS::EC2::VPC",
    "AWS::EC2::Subnet",
    "AWS::EC2::NatGateway",
    "AWS::EC2::InternetGateway",
    "AWS::EC2::VPCGatewayAttachment",
    "AWS::EC2::EIP",
    "AWS::EC2::RouteTable",
    "AWS::EC2::Route",
    "AWS::EC2::SubnetRouteTableAssociation",
    "AWS::EC2::FlowLog",
)
GIVEN = ("given-ec2", "given-sagemaker", "given-none")


def interface_endpoints(template: dict) -> list[dict]:
    return [
        e["Properties"]
        for e in resources(template, "AWS::EC2::VPCEndpoint").values()
        if e["Properties"].get("VpcEndpointType") == "Interface"
    ]


def service_suffix(endpoint: dict) -> str:
    name = endpoint["ServiceName"]
    # A fixed region spells "com.amazonaws.eu-west-1.sts"; an agnostic one joins the region in.
    text = str(name["Fn::Join"][1][-1] if isinstance(name, dict) else name)
    return text.split("eu-west-1.", 1)[-1].lstrip(".")


@pytest.mark.parametrize("name", GIVEN)
def test_a_given_vpc_gets_nothing_of_a_vpc_created(landing, name):
    for component, template in landing[name].template_json.items():
        made = [kind for kind in VPC_PIECES if resources(template, kind)]
        assert made == [], f"{component} creates {made}"


@pytest.mark.parametrize("name", GIVEN)
def test_the_platform_lives_in_the_given_subnets(landing, name):
    synthesized = landing[name]
    jobs = synthesized.template_json["jobs"]
    (config,) = resources(jobs, "AWS::SSM::Parameter").values()
    text = json.dumps(config["Properties"]["Value"])
    assert all(subnet in text for subnet in JOB_SUBNETS)
    assert not any(subnet in text for subnet in WORKSPACE_SUBNETS)
    for template in synthesized.template_json.values():
        for group in resources(template, "AWS::EC2::SecurityGroup").values():
            assert group["Properties"]["VpcId"] == VPC
    network_outputs = synthesized.template_json["network"]["Outputs"]
    assert network_outputs["SubnetIds"]["Value"] == ",".join(JOB_SUBNETS)


def test_the_workspace_goes_into_the_workspace_subnets(landing):
    workspace = landing["given-ec2"].template_json["workspace"]
    (instance,) = resources(workspace, "AWS::EC2::Instance").values()
    (interface,) = instance["Properties"]["NetworkInterfaces"]
    assert interface["SubnetId"] in WORKSPACE_SUBNETS
    targets = resources(workspace, "AWS::EFS::MountTarget").values()
    assert sorted(t["Properties"]["SubnetId"] for t in targets) == sorted(WORKSPACE_SUBNETS)
    (domain,) = resources(landing["given-sagemaker"].template_json["workspace"], "AWS::SageMaker::Domain").values()
    assert domain["Properties"]["SubnetIds"] == WORKSPACE_SUBNETS
    assert domain["Properties"]["VpcId"] == VPC


@pytest.mark.parametrize("name", GIVEN)
def test_the_network_check_is_given_the_settings_and_gates_every_other_stack(landing, name):
    synthesized = landing[name]
    network = synthesized.template_json["network"]
    (check,) = resources(network, "Custom::LandingZoneNetwork").values()
    props = check["Properties"]
    assert (props["VpcId"], props["WorkspaceSubnetIds"], props["JobSubnetIds"], props["AvailabilityZones"]) == (
        VPC,
        WORKSPACE_SUBNETS,
        JOB_SUBNETS,
        ZONES,
    )
    # Literal IDs leave no implicit order: the jobs and workspace stacks wait for the network stack explicitly.
    manifest = json.loads((synthesized.cdk_out / "manifest.json").read_text())["artifacts"]
    for stack in synthesized.platform.stacks:
        if stack.stack_name.endswith(("-jobs", "-workspace")):
            assert "simlab-network" in manifest[stack.artifact_id]["dependencies"]


def test_the_s3_gateway_goes_on_the_route_tables_the_check_reads_with_the_platform_buckets_only(landing):
    network = landing["given-none"].template_json["network"]
    (gateway,) = resources(network, "AWS::EC2::VPCEndpoint").values()
    props = gateway["Properties"]
    assert props["VpcEndpointType"] == "Gateway"
    check_id = next(iter(resources(network, "Custom::LandingZoneNetwork")))
    assert props["RouteTableIds"] == {"Fn::Split": [",", {"Fn::GetAtt": [check_id, "RouteTableIds"]}]}
    rendered = json.dumps(props["PolicyDocument"])
    assert [s["Sid"] for s in props["PolicyDocument"]["Statement"]] == ["PlatformBucket", "CdkAssets", "EcrLayers"]
    assert "ExportsOutputFnGetAttDataBucket" in rendered
    assert "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}" in rendered
    assert "prod-${AWS::Region}-starport-layer-bucket" in rendered


def test_with_the_landing_zones_endpoints_none_are_created_and_the_probe_asks_for_the_modes_services(landing):
    synthesized = landing["given-ec2"]
    for template in synthesized.template_json.values():
        assert interface_endpoints(template) == []
    network = synthesized.template_json["network"]
    (check,) = resources(network, "Custom::LandingZoneNetwork").values()
    assert sorted(check["Properties"]["Hostnames"]) == sorted(required_services("ec2"))
    assert check["Properties"]["Hostnames"]["SageMakerApi"] == {
        "Fn::Sub": "api.sagemaker.${AWS::Region}.${AWS::URLSuffix}"
    }
    (probe,) = [
        f["Properties"]
        for f in resources(network, "AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == "private_dns.handler"
    ]
    assert probe["VpcConfig"]["SubnetIds"] == JOB_SUBNETS
    # The jobs-only mode needs no interface endpoint, so its check probes nothing.
    (none_check,) = resources(landing["given-none"].template_json["network"], "Custom::LandingZoneNetwork").values()
    assert "Hostnames" not in none_check["Properties"]


def test_endpoints_in_one_zone_with_the_account_only_policy_and_https_from_the_workspace_subnets(landing):
    synthesized = landing["given-sagemaker"]
    network, workspace = synthesized.template_json["network"], synthesized.template_json["workspace"]
    mine, studio = interface_endpoints(network), interface_endpoints(workspace)
    assert sorted(map(service_suffix, mine)) == sorted(["sagemaker.api", "sts", "logs", "ecr.api", "ecr.dkr", "ssm"])
    assert sorted(map(service_suffix, studio)) == ["license-manager", "sagemaker.runtime"]
    for endpoint in mine + studio:
        assert endpoint["SubnetIds"] == JOB_SUBNETS[:1]
        assert endpoint["PrivateDnsEnabled"] is True
        (statement,) = endpoint["PolicyDocument"]["Statement"]
        assert statement["Condition"] == {"StringEquals": {"aws:PrincipalAccount": {"Ref": "AWS::AccountId"}}}
    (group,) = [
        g["Properties"]
        for g in resources(network, "AWS::EC2::SecurityGroup").values()
        if "Interface endpoints" in g["Properties"]["GroupDescription"]
    ]
    ingress = as_list(group["SecurityGroupIngress"])
    assert [(rule["FromPort"], rule["ToPort"]) for rule in ingress] == [(443, 443), (443, 443)]
    assert all("WorkspaceSubnetCidrs" in json.dumps(rule["CidrIp"]) for rule in ingress)


@pytest.mark.parametrize(("name", "mode"), [("own-none", "none"), ("own-sagemaker", "sagemaker")])
def test_an_own_vpc_gets_only_the_endpoints_its_mode_needs(landing, name, mode):
    synthesized = landing[name]
    found = [e for t in synthesized.template_json.values() for e in interface_endpoints(t)]
    assert len(found) == len(required_services(mode)) == {"none": 0, "sagemaker": 8}[mode]
    assert len(NETWORK_SERVICES["ec2"]) == 9  # the default mode keeps its nine (tests/infra/test_network.py)
    for endpoint in found:
        assert len(endpoint["SubnetIds"]) == 1  # endpoint_azs=1
