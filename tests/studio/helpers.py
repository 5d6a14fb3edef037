"""Reading the synthesized workspace template: resources by prefix, the statements attached to a role, and
whether statements allow an action on a resource the way IAM matches (`*` any run of characters, `?` one)."""

from __future__ import annotations

import fnmatch
import re
from typing import Any

from tests.infra.helpers import as_list, one, render_join, statements


def logical(template: dict[str, Any], prefix: str, cfn_type: str) -> str:
    return one(template, cfn_type, prefix)[0]


def policy_statements(template: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    """Every statement of every policy in the template attached to `role_id`."""
    found = []
    for res in template["Resources"].values():
        props = res.get("Properties", {})
        if res["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            if {"Ref": role_id} in props.get("Roles", []):
                found += statements(props["PolicyDocument"])
    return found


def allows(stmts: list[dict[str, Any]], action: str, resource: str) -> bool:
    for st in stmts:
        if st["Effect"] != "Allow" or action not in as_list(st["Action"]):
            continue
        for pattern in as_list(st["Resource"]):
            text = render_join(pattern, "*")  # account, region, partition, imported bucket ARN
            text = re.sub(r"\$\{[^}]+\}", "*", text)
            if fnmatch.fnmatchcase(resource, text):
                return True
    return False
