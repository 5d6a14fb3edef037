"""Invariants over EVERY synthesized template (network, data, jobs and the workspace when present)."""

from __future__ import annotations

import json

import pytest

from tests.infra.helpers import as_list, iam_statements, resources

OPEN_TO_WORLD = {"0.0.0.0/0", "::/0"}


def _ingress_rules(template: dict) -> list[dict]:
    rules = [r["Properties"] for r in resources(template, "AWS::EC2::SecurityGroupIngress").values()]
    for group in resources(template, "AWS::EC2::SecurityGroup").values():
        rules += as_list(group["Properties"].get("SecurityGroupIngress", []))
    return rules


def test_templates_cover_every_component(synthesized):
    expected = {"network", "data", "jobs"} | ({"workspace"} if synthesized.settings.rstudio_mode == "ec2" else set())
    assert set(synthesized.template_json) == expected


@pytest.mark.parametrize("component", ["network", "data", "jobs", "workspace"])
def test_no_security_group_ingress_from_the_internet(synthesized, component):
    template = synthesized.template_json.get(component)
    if template is None:
        pytest.skip(f"{component} is not part of this synth (rstudio_mode={synthesized.settings.rstudio_mode})")
    for rule in _ingress_rules(template):
        assert rule.get("CidrIp") not in OPEN_TO_WORLD, rule
        assert rule.get("CidrIpv6") not in OPEN_TO_WORLD, rule


def test_no_fullaccess_managed_policy_anywhere(synthesized):
    for component, template in synthesized.template_json.items():
        for logical_id, role in resources(template, "AWS::IAM::Role").items():
            arns = json.dumps(role["Properties"].get("ManagedPolicyArns", []))
            assert "FullAccess" not in arns, f"{component}/{logical_id}"
        for logical_id, policy in resources(template, "AWS::IAM::ManagedPolicy").items():
            assert "FullAccess" not in json.dumps(policy["Properties"].get("ManagedPolicyName", "")), logical_id


def test_pass_role_is_never_on_star_and_always_conditioned_on_the_service(synthesized):
    seen = 0
    for component, template in synthesized.template_json.items():
        for logical_id, st in iam_statements(template):
            actions = as_list(st["Action"])
            if st["Effect"] == "Allow" and any(a in ("iam:PassRole", "iam:*", "*") for a in actions):
                seen += 1
                assert "*" not in as_list(st["Resource"]), f"{component}/{logical_id}"
                assert "iam:PassedToService" in st.get("Condition", {}).get("StringEquals", {}), (
                    f"{component}/{logical_id}"
                )
    assert seen >= 1


def test_no_allow_statement_grants_every_action(synthesized):
    for component, template in synthesized.template_json.items():
        for logical_id, st in iam_statements(template):
            if st["Effect"] == "Allow":
                assert not any(a == "*" or a.endswith(":*") for a in as_list(st["Action"])), (
                    f"{component}/{logical_id}: {st['Action']}"
                )
