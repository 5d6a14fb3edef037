"""What the emulator still holds after `cdk destroy --all`: the rehearsal reports it rather than pretending
destroy is clean (moto cannot delete a VPC's dependents; kept data is kept on purpose)."""

from __future__ import annotations

from typing import Any

from rehearsal.emulator import Emulator


def _names(items: list[dict[str, Any]], key: str) -> list[str]:
    return sorted(str(item[key]) for item in items)


def leftovers(emulator: Emulator, platform: str) -> dict[str, list[str]]:
    """Resource kind -> IDs still present. moto's defaults (default VPC, its subnets and security group,
    the stock AMIs) and the CDK bootstrap stack's own resources are left out."""
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
    return {kind: ids for kind, ids in found.items() if ids}
