"""Small readers over synthesized CloudFormation JSON, shared by the infra tests."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def resources(template: dict[str, Any], cfn_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == cfn_type}


def one(template: dict[str, Any], cfn_type: str, prefix: str = "") -> tuple[str, dict[str, Any]]:
    found = [(k, v) for k, v in resources(template, cfn_type).items() if k.startswith(prefix)]
    assert len(found) == 1, f"expected one {cfn_type} starting {prefix!r}, got {[k for k, _ in found]}"
    return found[0]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(policy_document: dict[str, Any]) -> list[dict[str, Any]]:
    return as_list(policy_document["Statement"])


def iam_statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every statement of every identity policy (inline, managed, role-embedded) in a template."""
    for logical_id, res in template["Resources"].items():
        props = res.get("Properties", {})
        if res["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for st in statements(props["PolicyDocument"]):
                yield logical_id, st
        if res["Type"] == "AWS::IAM::Role":
            for policy in props.get("Policies", []):
                for st in statements(policy["PolicyDocument"]):
                    yield logical_id, st


def render_join(value: Any, placeholder: str = "TOKEN") -> str:
    """Flatten a CloudFormation string (literal or Fn::Join) with every intrinsic replaced by `placeholder`."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return sep.join(render_join(p, placeholder) for p in parts)
    if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
        return value["Fn::Sub"]  # the ${...} references stay readable
    return placeholder


def rendered_json(value: Any) -> Any:
    return json.loads(render_join(value))


CFN_LINT = str(Path(sys.executable).parent / "cfn-lint")
# Rules ignored, each with why the finding is not ours to fix.
CFN_LINT_IGNORED = {
    "W3005": "CDK's singleton custom-resource providers (S3 auto-delete, AwsCustomResource) declare a DependsOn "
    "on their service role that a GetAtt already implies; the template is CDK's own.",
}


def cfn_lint(paths: list[Path], ignore: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run cfn-lint; `ignore` maps each ignored rule to why it is not ours to fix."""
    args = [CFN_LINT, "--format", "parseable"]
    for rule in ignore or {}:
        args += ["--ignore-checks", rule]
    return subprocess.run([*args, "--", *map(str, paths)], capture_output=True, text=True, timeout=300)
