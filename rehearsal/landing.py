"""The landing-zone mode of the rehearsal (docs/rehearsal.md): a separate CloudFormation stack stands in for the
landing zone and creates a VPC first (workspace subnets behind a NAT gateway, job subnets with no route out) and
an organisation's permissions boundary; then the platform is synthesized with those IDs, a boundary, a role path,
cost tags and interface_endpoints=none, bootstrapped and deployed with a non-default bootstrap qualifier, and
checked: every role carries the boundary and path (moto's GetRole), the platform created no VPC piece, the data
bucket carries the cost tags, the job config names the landing zone's job subnets.

The deploy-time network check is a Lambda-backed custom resource (moto would run it in Docker): its handler's
own check runs here against the emulator's landing zone instead, and its answer (the subnets' route tables, the
workspace CIDRs) stands in for the custom resource's attributes in the copy. The in-VPC DNS probe is not
rehearsed (moto has no DNS for VPC endpoints); tests/landing/test_network_check.py runs it with a resolver
stand-in.
"""

from __future__ import annotations

import json
import time
from typing import Any

from rehearsal.emulator import Emulator

LANDING_STACK = "landingzone"
# `cdk bootstrap --qualifier` and the app's "@aws-cdk/core:bootstrapQualifier" (at most 10 letters/digits).
QUALIFIER = "lz42rehe"
QUALIFIER_CONTEXT = "@aws-cdk/core:bootstrapQualifier"
ROLE_PATH = "/rehearsal/"
TAGS = {"CostCenter": "4711", "Owner": "stats-team"}
ZONES = ("eu-west-1a", "eu-west-1b")
CHECK_TYPE = "Custom::LandingZoneNetwork"
VPC_PIECES = (
    "AWS::EC2::VPC",
    "AWS::EC2::Subnet",
    "AWS::EC2::NatGateway",
    "AWS::EC2::InternetGateway",
    "AWS::EC2::RouteTable",
    "AWS::EC2::Route",
    "AWS::EC2::FlowLog",
)


def _resource(kind: str, **properties: Any) -> dict[str, Any]:
    return {"Type": kind, "Properties": properties}


def landing_zone_template() -> dict[str, Any]:
    """What a network team's template would give the platform: VPC 10.60.0.0/16 over two zones, a public subnet
    with the NAT gateway, two workspace subnets routed to it, two job subnets with a route table of no routes,
    and the organisation's permissions boundary."""
    vpc = {"Ref": "Vpc"}
    r: dict[str, Any] = {
        "Vpc": _resource("AWS::EC2::VPC", CidrBlock="10.60.0.0/16", EnableDnsSupport=True, EnableDnsHostnames=True),
        "Igw": _resource("AWS::EC2::InternetGateway"),
        "IgwAttachment": _resource("AWS::EC2::VPCGatewayAttachment", VpcId=vpc, InternetGatewayId={"Ref": "Igw"}),
        "Public": _resource("AWS::EC2::Subnet", VpcId=vpc, CidrBlock="10.60.0.0/24", AvailabilityZone=ZONES[0]),
        "PublicTable": _resource("AWS::EC2::RouteTable", VpcId=vpc),
        "PublicDefault": _resource(
            "AWS::EC2::Route",
            RouteTableId={"Ref": "PublicTable"},
            DestinationCidrBlock="0.0.0.0/0",
            GatewayId={"Ref": "Igw"},
        ),
        "PublicAssociation": _resource(
            "AWS::EC2::SubnetRouteTableAssociation", SubnetId={"Ref": "Public"}, RouteTableId={"Ref": "PublicTable"}
        ),
        "NatAddress": _resource("AWS::EC2::EIP", Domain="vpc"),
        "Nat": _resource(
            "AWS::EC2::NatGateway",
            SubnetId={"Ref": "Public"},
            AllocationId={"Fn::GetAtt": ["NatAddress", "AllocationId"]},
        ),
        "WorkspaceTable": _resource("AWS::EC2::RouteTable", VpcId=vpc),
        "WorkspaceDefault": _resource(
            "AWS::EC2::Route",
            RouteTableId={"Ref": "WorkspaceTable"},
            DestinationCidrBlock="0.0.0.0/0",
            NatGatewayId={"Ref": "Nat"},
        ),
        "JobTable": _resource("AWS::EC2::RouteTable", VpcId=vpc),
        "Boundary": _resource(
            "AWS::IAM::ManagedPolicy",
            ManagedPolicyName="LandingZoneBoundary",
            PolicyDocument={
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
            },
        ),
    }
    for index, zone in enumerate(ZONES):
        for group, table, third in (("Workspace", "WorkspaceTable", 10), ("Job", "JobTable", 20)):
            name = f"{group}{index + 1}"
            r[name] = _resource(
                "AWS::EC2::Subnet", VpcId=vpc, CidrBlock=f"10.60.{third + index}.0/24", AvailabilityZone=zone
            )
            r[f"{name}Association"] = _resource(
                "AWS::EC2::SubnetRouteTableAssociation", SubnetId={"Ref": name}, RouteTableId={"Ref": table}
            )
    joined = {g: {"Fn::Join": [",", [{"Ref": f"{g}{i + 1}"} for i in range(len(ZONES))]]} for g in ("Workspace", "Job")}
    return {
        "Resources": r,
        "Outputs": {
            "VpcId": {"Value": vpc},
            "WorkspaceSubnetIds": {"Value": joined["Workspace"]},
            "JobSubnetIds": {"Value": joined["Job"]},
            "BoundaryArn": {"Value": {"Ref": "Boundary"}},
        },
    }


def deploy_landing_zone(emulator: Emulator) -> dict[str, str]:
    """Create the landing zone's stack; the platform settings that point at it."""
    from rehearsal.run import RehearsalFailed

    cfn = emulator.client("cloudformation")
    cfn.create_stack(StackName=LANDING_STACK, TemplateBody=json.dumps(landing_zone_template()))
    deadline = time.monotonic() + 60
    while True:
        stack = cfn.describe_stacks(StackName=LANDING_STACK)["Stacks"][0]
        if stack["StackStatus"] != "CREATE_IN_PROGRESS" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    if stack["StackStatus"] != "CREATE_COMPLETE":
        raise RehearsalFailed(f"landing zone stack {stack['StackStatus']}: {stack.get('StackStatusReason')}")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    return {
        "vpc_id": outputs["VpcId"],
        "workspace_subnet_ids": outputs["WorkspaceSubnetIds"],
        "job_subnet_ids": outputs["JobSubnetIds"],
        "availability_zones": ",".join(ZONES),
        "permissions_boundary_arn": outputs["BoundaryArn"],
        "iam_role_path": ROLE_PATH,
        "tags": ",".join(f"{k}={v}" for k, v in TAGS.items()),
        "interface_endpoints": "none",
        QUALIFIER_CONTEXT: QUALIFIER,
    }


def landing_zone_ids(emulator: Emulator) -> set[str]:
    """The physical IDs of what the landing zone's stack created (its VPC, subnets, NAT gateway, ...): the
    platform's destroy leaves them, as it would on AWS, since the platform never owned them."""
    cfn = emulator.client("cloudformation")
    resources = cfn.list_stack_resources(StackName=LANDING_STACK)["StackResourceSummaries"]
    return {str(r["PhysicalResourceId"]) for r in resources if r.get("PhysicalResourceId")}


def network_check(emulator: Emulator, context: dict[str, str]) -> dict[str, str]:
    """The custom resource's handler, run here against the emulator: it must accept the landing zone."""
    from rehearsal.run import RehearsalFailed
    from stacks.network.handlers.network_check import NetworkRefused, check_network

    try:
        return check_network(
            emulator.client("ec2"),
            vpc_id=context["vpc_id"],
            workspace=context["workspace_subnet_ids"].split(","),
            jobs=context["job_subnet_ids"].split(","),
            zones=list(ZONES),
        )
    except NetworkRefused as error:
        raise RehearsalFailed(f"the network check refused the landing zone: {error}") from None


def stand_in_check(template: dict[str, Any], answer: dict[str, str]) -> list[str]:
    """Drop the check's custom resource from the copy; its attributes become what the check answered here."""
    resources = template.get("Resources", {})
    dropped = [k for k, v in resources.items() if v["Type"] == CHECK_TYPE]
    if not dropped:
        return []

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            getatt: Any = node.get("Fn::GetAtt")
            if set(node) == {"Fn::GetAtt"} and getatt[0] in dropped:
                return answer[getatt[1]]
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    for logical_id in dropped:
        del resources[logical_id]
    template["Resources"] = walk(resources)
    for resource in template["Resources"].values():
        depends = resource.get("DependsOn")
        depends = [depends] if isinstance(depends, str) else depends
        if isinstance(depends, list):
            kept = [d for d in depends if d not in dropped]
            if kept:
                resource["DependsOn"] = kept
            else:
                resource.pop("DependsOn", None)
    return [f"{CHECK_TYPE} replaced by the network check's answer here ({', '.join(sorted(answer))})"]


def check_governance(emulator: Emulator, platform: str, context: dict[str, str]) -> list[str]:
    """After deploy: every platform role has the boundary and path, no VPC piece is the platform's, the only VPC
    is the landing zone's, the data bucket has the cost tags, the job config uses the landing zone's subnets."""
    from rehearsal.run import RehearsalFailed

    cfn, iam, ec2, s3, ssm = (emulator.client(s) for s in ("cloudformation", "iam", "ec2", "s3", "ssm"))
    roles, pieces, buckets = [], [], []
    for stack in cfn.describe_stacks()["Stacks"]:
        if not stack["StackName"].startswith(f"{platform}-"):
            continue
        for resource in cfn.list_stack_resources(StackName=stack["StackName"])["StackResourceSummaries"]:
            kind = resource["ResourceType"]
            if kind == "AWS::IAM::Role":
                roles.append(resource["PhysicalResourceId"])
            elif kind in VPC_PIECES:
                pieces.append(f"{kind} {resource['LogicalResourceId']}")
            elif kind == "AWS::S3::Bucket":
                buckets.append(resource["PhysicalResourceId"])
    if pieces:
        raise RehearsalFailed(f"the platform created VPC pieces in a landing zone: {pieces}")
    boundary = context["permissions_boundary_arn"]
    wrong = []
    for name in roles:
        role = iam.get_role(RoleName=name.rsplit("/", 1)[-1])["Role"]
        if role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn") != boundary or role["Path"] != ROLE_PATH:
            wrong.append(name)
    if not roles or wrong:
        raise RehearsalFailed(f"roles without the boundary {boundary} or path {ROLE_PATH}: {wrong or 'no roles'}")
    vpcs = [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if not v.get("IsDefault")]
    if vpcs != [context["vpc_id"]]:
        raise RehearsalFailed(f"VPCs {vpcs}; expected only the landing zone's {context['vpc_id']}")
    tagged = [b for b in buckets if TAGS.items() <= _bucket_tags(s3, b).items()]
    if not buckets or tagged != buckets:
        raise RehearsalFailed(f"buckets without the cost tags {TAGS}: {sorted(set(buckets) - set(tagged))}")
    config = json.loads(ssm.get_parameter(Name=f"/{platform}/job-config")["Parameter"]["Value"])
    if config["subnet_ids"] != context["job_subnet_ids"].split(","):
        raise RehearsalFailed(f"job config subnets {config['subnet_ids']}, not the landing zone's job subnets")
    return [
        f"{len(roles)} roles with boundary {boundary.rsplit('/', 1)[-1]} and path {ROLE_PATH}",
        "no VPC, subnet, NAT, gateway, route or flow log of the platform's",
        f"only VPC: the landing zone's {context['vpc_id']}",
        f"{len(buckets)} buckets tagged {','.join(f'{k}={v}' for k, v in TAGS.items())}",
        "job config: the landing zone's job subnets",
    ]


def _bucket_tags(s3: Any, bucket: str) -> dict[str, str]:
    try:
        return {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]}
    except Exception:  # noqa: BLE001 - moto answers NoSuchTagSet for an untagged bucket
        return {}
