"""A submitter managed policy and its job config as a deployment would hold them, from the synthesized templates:
the platform's (jobs stack) or one SageMaker-mode user's (workspace stack). CloudFormation's intrinsics (Ref,
Fn::GetAtt, Fn::ImportValue, Fn::Join, Fn::Sub, Fn::Select, Fn::Split) are resolved with made-up but consistent
IDs, and an import with the producing stack's own export, so the policy names the same bucket, subnets,
security group, role and repository the job config does.

Anything the resolver does not know (a new resource type or export) raises, naming it: the test then needs
to learn it, rather than silently testing a different policy.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ACCOUNT = "123456789012"  # moto's default account
REGION = "eu-west-1"
STACK_ID = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/simlab-jobs/5f0c1d2e-3a4b-11ef-9c1d-0a1b2c3d4e5f"
BUCKET = "simlab-data-databucket-test"
PSEUDO = {
    "AWS::AccountId": ACCOUNT,
    "AWS::Region": REGION,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackId": STACK_ID,
    "AWS::StackName": "simlab-jobs",
}


def _short(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


class Resolver:
    """Resolves one template's intrinsics; `templates` (component -> template) answer its imports."""

    def __init__(self, template: dict[str, Any], templates: Mapping[str, dict[str, Any]] | None = None) -> None:
        self.resources: dict[str, Any] = template["Resources"]
        self.templates = templates or {}

    def export(self, name: str) -> str:
        """Another stack's export: the value its output of that export name resolves to in that stack."""
        for template in self.templates.values():
            for output in template.get("Outputs", {}).values():
                if output.get("Export", {}).get("Name") == name:
                    return str(Resolver(template, self.templates).resolve(output["Value"]))
        raise KeyError(f"submitter_policy.py finds no stack exporting {name!r}")

    def ref(self, logical: str) -> str:
        if logical in PSEUDO:
            return PSEUDO[logical]
        kind, props = self._resource(logical)
        if kind == "AWS::SSM::Parameter":
            return str(self.resolve(props["Name"]))
        if kind == "AWS::ECR::Repository":
            return str(self.resolve(props.get("RepositoryName", logical.lower())))
        if kind == "AWS::EC2::SecurityGroup":
            return "sg-" + _short(logical)
        if kind == "AWS::Logs::LogGroup":
            return str(self.resolve(props.get("LogGroupName", logical)))
        if kind == "AWS::IAM::Role":
            return logical
        if kind == "AWS::S3::Bucket":
            return BUCKET if logical.startswith("DataBucket") else f"{logical.lower()}-bucket"
        if kind == "AWS::EC2::Subnet":
            return "subnet-" + _short(logical)
        if kind == "AWS::EC2::VPC":
            return "vpc-" + _short(logical)
        raise KeyError(f"submitter_policy.py does not know Ref of {kind} {logical}")

    def attribute(self, logical: str, name: str) -> str:
        kind, _ = self._resource(logical)
        if kind == "AWS::IAM::Role" and name == "Arn":
            return f"arn:aws:iam::{ACCOUNT}:role/{logical}"
        if kind == "AWS::EC2::SecurityGroup" and name == "GroupId":
            return self.ref(logical)
        if kind == "AWS::ECR::Repository" and name == "Arn":
            return f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{self.ref(logical)}"
        if kind == "AWS::ECR::Repository" and name == "RepositoryUri":
            return f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{self.ref(logical)}"
        if kind == "AWS::S3::Bucket" and name == "Arn":
            return f"arn:aws:s3:::{self.ref(logical)}"
        if kind == "AWS::Logs::LogGroup" and name == "Arn":
            return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{self.ref(logical)}:*"
        raise KeyError(f"submitter_policy.py does not know Fn::GetAtt {logical}.{name} ({kind})")

    def _resource(self, logical: str) -> tuple[str, dict[str, Any]]:
        resource = self.resources[logical]
        return resource["Type"], resource.get("Properties", {})

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.resolve(item) for item in node]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, value),) = node.items()
            if key == "Ref":
                return self.ref(value)
            if key == "Fn::GetAtt":
                logical, name = value if isinstance(value, list) else value.split(".", 1)
                return self.attribute(logical, name)
            if key == "Fn::ImportValue":
                return self.export(self.resolve(value))
            if key == "Fn::Join":
                return value[0].join(str(self.resolve(part)) for part in value[1])
            if key == "Fn::Select":
                return self.resolve(value[1])[int(value[0])]
            if key == "Fn::Split":
                return str(self.resolve(value[1])).split(value[0])
            if key == "Fn::Sub":
                return re.sub(r"\$\{([^}]+)\}", lambda m: self._sub(m.group(1)), value)
            if key.startswith("Fn::"):
                raise KeyError(f"submitter_policy.py does not know {key}")
        return {key: self.resolve(value) for key, value in node.items()}

    def _sub(self, name: str) -> str:
        if "." in name:
            return self.attribute(*name.split(".", 1))
        return self.ref(name)


@dataclass(frozen=True)
class Submitter:
    """One identity's submitter policy and job config, resolved; the client runs as an IAM user (`role` None)
    or as the role named `role`, whose name the config parameter's `{role}` stands for."""

    name: str
    policy: dict[str, Any]
    config: dict[str, Any]
    parameter: str
    role: str | None = None


def _render(synthesized: Any, component: str, access: Any) -> tuple[Resolver, dict[str, Any], dict[str, Any], str]:
    stack = {"jobs": synthesized.platform.jobs, "workspace": synthesized.platform.workspace}[component]
    template = synthesized.template_json[component]
    resources = template["Resources"]
    policy_id = stack.get_logical_id(access.policy.node.default_child)
    config_id = stack.get_logical_id(access.job_config.node.default_child)
    resolver = Resolver(template, synthesized.template_json)
    policy = resolver.resolve(resources[policy_id]["Properties"]["PolicyDocument"])
    parameter = resources[config_id]["Properties"]
    config = json.loads(resolver.resolve(parameter["Value"]))
    return resolver, policy, config, str(resolver.resolve(parameter["Name"]))


def rendered(synthesized: Any) -> Submitter:
    """The platform's submitter (jobs stack), used by an IAM user."""
    _, policy, config, parameter = _render(synthesized, "jobs", synthesized.platform.jobs.jobs.access)
    return Submitter("platform", policy, config, parameter)


def rendered_user(synthesized: Any, user: str) -> Submitter:
    """A SageMaker-mode user's submitter (workspace stack), used from their profile role."""
    user_access = synthesized.platform.workspace.access[user]
    resolver, policy, config, parameter = _render(synthesized, "workspace", user_access.access)
    role = resolver.ref(synthesized.platform.workspace.get_logical_id(user_access.profile_role.node.default_child))
    return Submitter(user, policy, config, parameter, role)


# moto's IAM enforcement (moto 5.2) matches a statement's Resource only for S3, IAM, STS and SQS requests;
# every other service's request is checked against the resource "*", which an ARN-scoped statement never
# matches. For those services the test keeps the policy's actions and widens the resources to "*", so a
# missing action still fails; the ARN scoping of SageMaker, SSM, Logs and ECR statements is asserted on the
# template instead (tests/infra/test_jobs.py) and named in the README as what moto cannot evaluate.
RESOURCE_AWARE = ("s3:", "iam:", "sts:", "sqs:")


def for_moto(policy: dict[str, Any]) -> dict[str, Any]:
    statements = []
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if not all(action.startswith(RESOURCE_AWARE) for action in actions):
            statement = {**statement, "Resource": "*"}
        statements.append(statement)
    return {**policy, "Statement": statements}


def actions_of(policy: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow", statement
        action = statement["Action"]
        found |= set(action if isinstance(action, list) else [action])
    return found
