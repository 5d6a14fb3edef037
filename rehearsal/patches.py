"""Edits to a COPY of the synthesized cloud assembly that work around moto bugs. The real templates in cdk.out
are never touched; docs/rehearsal.md lists each edit with the emulator limitation behind it.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rehearsal.emulator import ACCOUNT, REGION, Emulator


@dataclass
class Patched:
    """What was changed, per template file: one line per edit, for the rehearsal's report."""

    edits: list[str] = field(default_factory=list)


def copy_assembly(source: Path, target: Path) -> Path:
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    return target


def templates(assembly: Path) -> list[Path]:
    return sorted(assembly.glob("*.template.json"))


def _rewrite(path: Path, edit: Callable[[dict[str, Any]], list[str]], patched: Patched) -> None:
    body = json.loads(path.read_text())
    lines = edit(body)
    if lines:
        path.write_text(json.dumps(body, indent=1))
        patched.edits += [f"{path.name}: {line}" for line in lines]


def _drop_ssm_parameter_tags(template: dict[str, Any]) -> list[str]:
    """moto 5.2.5 answers 500 to an AWS::SSM::Parameter with Tags, whose CloudFormation form is a map."""
    lines = []
    for logical_id, resource in template.get("Resources", {}).items():
        if resource["Type"] == "AWS::SSM::Parameter" and "Tags" in resource.get("Properties", {}):
            del resource["Properties"]["Tags"]
            lines.append(f"removed Tags of AWS::SSM::Parameter {logical_id}")
    return lines


def _drop_default_sg_restriction(template: dict[str, Any]) -> list[str]:
    """CDK closes the VPC's default security group with a custom resource backed by a Lambda function; moto
    runs Lambda functions in Docker, which this machine lacks. The function itself is still created."""
    resources = template.get("Resources", {})
    dropped = [k for k, v in resources.items() if v["Type"] == "Custom::VpcRestrictDefaultSG"]
    for logical_id in dropped:
        del resources[logical_id]
    return [f"removed Custom::VpcRestrictDefaultSG {logical_id}" for logical_id in dropped]


def _efs_arn_from_its_id(template: dict[str, Any]) -> list[str]:
    """moto's EFS file system has no CloudFormation attributes (GetAtt Arn crashes the request with a 500): spell
    the same ARN from the file system's Ref (its ID), which moto answers."""
    systems = {k for k, v in template.get("Resources", {}).items() if v["Type"] == "AWS::EFS::FileSystem"}
    replaced: list[str] = []

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            getatt: Any = node.get("Fn::GetAtt")
            if set(node) == {"Fn::GetAtt"} and getatt[0] in systems and getatt[1] == "Arn":
                replaced.append(getatt[0])
                prefix = f"arn:aws:elasticfilesystem:{REGION}:{ACCOUNT}:file-system/"
                return {"Fn::Join": ["", [prefix, {"Ref": getatt[0]}]]}
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    if systems:
        template["Resources"] = walk(template["Resources"])
    return [f"GetAtt {name}.Arn spelled from its Ref" for name in sorted(set(replaced))]


def _replace_refs(node: Any, logical_id: str, value: str) -> Any:
    if isinstance(node, dict):
        if node == {"Ref": logical_id}:
            return value
        return {k: _replace_refs(v, logical_id, value) for k, v in node.items()}
    if isinstance(node, list):
        return [_replace_refs(item, logical_id, value) for item in node]
    return node


def _secrets_made_outside(emulator: Emulator) -> Callable[[dict[str, Any]], list[str]]:
    """moto's CloudFormation has no AWS::SecretsManager::Secret model (its Ref comes back empty, and the host
    role's policy naming it is then malformed). Create each secret through the Secrets Manager API instead
    and put its ARN where the template referred to the resource."""
    secrets = emulator.client("secretsmanager")

    def edit(template: dict[str, Any]) -> list[str]:
        lines = []
        resources = template.get("Resources", {})
        for logical_id in [k for k, v in resources.items() if v["Type"] == "AWS::SecretsManager::Secret"]:
            arn = secrets.create_secret(Name=f"rehearsal-{logical_id}", SecretString="rehearsal-only")["ARN"]
            del resources[logical_id]
            for key in ("Resources", "Outputs"):
                if key in template:
                    template[key] = _replace_refs(template[key], logical_id, arn)
            for resource in template["Resources"].values():
                depends = resource.get("DependsOn")
                if isinstance(depends, list) and logical_id in depends:
                    depends.remove(logical_id)
                elif depends == logical_id:
                    del resource["DependsOn"]
            lines.append(f"AWS::SecretsManager::Secret {logical_id} created through the API, Ref -> its ARN")
        return lines

    return edit


def patch_for_moto(assembly: Path, emulator: Emulator) -> Patched:
    patched = Patched()
    for path in templates(assembly):
        _rewrite(path, _drop_ssm_parameter_tags, patched)
        _rewrite(path, _drop_default_sg_restriction, patched)
        _rewrite(path, _efs_arn_from_its_id, patched)
        _rewrite(path, _secrets_made_outside(emulator), patched)
    return patched


def _substitute(text: str) -> str:
    return (
        text.replace("${AWS::AccountId}", ACCOUNT).replace("${AWS::Region}", REGION).replace("${AWS::Partition}", "aws")
    )


def publish_images_as_manifests(assembly: Path, emulator: Emulator) -> list[str]:
    """moto has no container registry behind its ECR API, so nothing can be pushed. An image manifest put
    under the asset's tag makes cdk-assets see the image as published and skip the build; the job image
    itself is built and run by tests/processing/test_container.py."""
    ecr = emulator.client("ecr")
    published = []
    for manifest in sorted(assembly.glob("*.assets.json")):
        for asset_hash, asset in json.loads(manifest.read_text()).get("dockerImages", {}).items():
            for destination in asset["destinations"].values():
                repository = _substitute(destination["repositoryName"])
                tag = _substitute(destination["imageTag"])
                ecr.put_image(
                    repositoryName=repository,
                    imageTag=tag,
                    imageManifest=json.dumps(
                        {
                            "schemaVersion": 2,
                            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                            "config": {"digest": f"sha256:{asset_hash}", "size": 0},
                            "layers": [],
                        }
                    ),
                )
                published.append(f"{repository}:{tag}")
    return published
