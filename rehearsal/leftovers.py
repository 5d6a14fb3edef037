"""What the emulator still holds after `cdk destroy --all`: the rehearsal reports it rather than pretending
destroy is clean (moto cannot delete a VPC's dependents; kept data is kept on purpose; a landing zone's network is
its own stack's, which the platform's destroy never touches)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from rehearsal.emulator import Emulator


def _names(items: list[dict[str, Any]], key: str) -> list[str]:
    return sorted(str(item[key]) for item in items)


def leftovers(
    emulator: Emulator, platform: str, ours: Collection[str] = (), landing_zone: Collection[str] = ()
) -> dict[str, list[str]]:
    """Resource kind -> IDs still present. moto's defaults (default VPC, its subnets and security group,
    the stock AMIs), the CDK bootstrap stack's own resources and what the rehearsal itself made (`ours`: the
    AMI parameter it seeds) are left out; the IDs of the landing zone's own stack (`landing_zone`) are kinds of
    their own (`apart`)."""
    cfn, ec2, s3, ecr, efs, ssm, logs, iam = (
        emulator.client(s) for s in ("cloudformation", "ec2", "s3", "ecr", "efs", "ssm", "logs", "iam")
    )
    stacks = [
        f"{s['StackName']} ({s['StackStatus']})"
        for s in cfn.describe_stacks()["Stacks"]
        if s["StackName"].startswith(f"{platform}-") and s["StackStatus"] != "DELETE_COMPLETE"
    ]
    vpcs = [v for v in ec2.describe_vpcs()["Vpcs"] if not v.get("IsDefault")]
    vpc_ids = [v["VpcId"] for v in vpcs]
    in_vpcs = [{"Name": "vpc-id", "Values": vpc_ids}] if vpc_ids else []
    found: dict[str, list[str]] = {
        "stacks": sorted(stacks),
        "vpcs": sorted(vpc_ids),
        "subnets": _names(ec2.describe_subnets(Filters=in_vpcs)["Subnets"], "SubnetId") if vpc_ids else [],
        "vpc endpoints": _names(ec2.describe_vpc_endpoints(Filters=in_vpcs)["VpcEndpoints"], "VpcEndpointId")
        if vpc_ids
        else [],
        "nat gateways": [
            n["NatGatewayId"] for n in ec2.describe_nat_gateways()["NatGateways"] if n["State"] != "deleted"
        ],
        "instances": [
            i["InstanceId"]
            for r in ec2.describe_instances()["Reservations"]
            for i in r["Instances"]
            if i["State"]["Name"] != "terminated"
        ],
        "buckets": [b["Name"] for b in s3.list_buckets()["Buckets"] if not b["Name"].startswith("cdk-")],
        "ecr repositories": [
            r["repositoryName"]
            for r in ecr.describe_repositories()["repositories"]
            if not r["repositoryName"].startswith("cdk-")
        ],
        "efs file systems": _names(efs.describe_file_systems()["FileSystems"], "FileSystemId"),
        "ssm parameters": [
            p["Name"] for p in ssm.describe_parameters()["Parameters"] if p["Name"].startswith(f"/{platform}/")
        ],
        "log groups": _names(logs.describe_log_groups()["logGroups"], "logGroupName"),
        "iam roles": [r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(f"{platform}-")],
    }
    return apart({kind: [i for i in ids if i not in ours] for kind, ids in found.items()}, landing_zone)


OF_THE_LANDING_ZONE = " of the landing zone"  # "vpcs of the landing zone": IDs its own stack created


def apart(left: dict[str, list[str]], landing_zone: Collection[str]) -> dict[str, list[str]]:
    """`left` with the IDs that belong to the landing zone's own stack under kinds of their own ("subnets of the
    landing zone"), so they are not taken for the platform's."""
    split: dict[str, list[str]] = {}
    for kind, ids in left.items():
        split[kind] = [i for i in ids if i not in landing_zone]
        split[kind + OF_THE_LANDING_ZONE] = [i for i in ids if i in landing_zone]
    return {kind: ids for kind, ids in split.items() if ids}


# Why each kind of leftover is expected. Anything else left behind (a stack, an instance, ...) is a finding.
KEPT_BY_DESIGN = {
    "buckets": "the data bucket and its access-log bucket",
    "ecr repositories": "the users' image repository",
    "efs file systems": "the home directories (ec2 mode)",
    "log groups": "the VPC flow logs",
}
EMULATOR_LIMITS = {
    "vpcs": "moto cannot delete a VPC's dependents",
    "subnets": "in the VPC moto cannot delete",
    "vpc endpoints": "in the VPC moto cannot delete",
    "nat gateways": "in the VPC moto cannot delete",
    "ssm parameters": "moto drops a stack's record without deleting them",
    "iam roles": "moto drops a stack's record without deleting them",
}
GROUPS = (
    ("kept by design (delete_data_on_destroy=false, as on AWS)", KEPT_BY_DESIGN),
    ("moto cannot delete (a real destroy does)", EMULATOR_LIMITS),
)
# The landing zone's VPC, subnets and NAT gateway: the network team's stack made them, the platform only uses them
LANDING_ZONE = "kept by design (the landing zone's own network: its stack is not the platform's, as on AWS)"
UNEXPECTED = "UNEXPECTED (a real destroy would leave them too)"


def classify(left: dict[str, list[str]]) -> dict[str, dict[str, list[str]]]:
    """The leftovers by why they are there: kept on purpose, the emulator's limits, and unexpected ones."""
    grouped: dict[str, dict[str, list[str]]] = {}
    for kind, ids in left.items():
        title = next((title for title, kinds in GROUPS if kind in kinds), UNEXPECTED)
        if kind.endswith(OF_THE_LANDING_ZONE):
            title = LANDING_ZONE
        grouped.setdefault(title, {})[kind] = ids
    return grouped


def unexpected(left: dict[str, list[str]]) -> dict[str, list[str]]:
    return classify(left).get(UNEXPECTED, {})
