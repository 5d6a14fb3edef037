"""Invariants over EVERY synthesized template (network, data, jobs and the workspace when present), in every
workspace mode: ec2 (the default), sagemaker (two users, each with their own job access) and none."""

from __future__ import annotations

import json

import pytest

from tests.infra.helpers import as_list, iam_statements, resources

OPEN_TO_WORLD = {"0.0.0.0/0", "::/0"}


@pytest.fixture(scope="module", params=["ec2", "sagemaker", "none"])
def synthesized(request, synth_of):
    """The app of one workspace mode (each synthesized once per session)."""
    return synth_of(request.param)


def _ingress_rules(template: dict) -> list[dict]:
    rules = [r["Properties"] for r in resources(template, "AWS::EC2::SecurityGroupIngress").values()]
    for group in resources(template, "AWS::EC2::SecurityGroup").values():
        rules += as_list(group["Properties"].get("SecurityGroupIngress", []))
    return rules


def test_templates_cover_every_component(synthesized):
    expected = {"network", "data", "jobs"} | ({"workspace"} if synthesized.settings.rstudio_mode != "none" else set())
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
    # AWS-managed policies reach a role only through ManagedPolicyArns; the only ones expected are SSM's
    # instance core (RStudio host) and the Lambda basic execution roles of CDK's own helper functions.
    attached: set[str] = set()
    for template in synthesized.template_json.values():
        for role in resources(template, "AWS::IAM::Role").values():
            for arn in as_list(role["Properties"].get("ManagedPolicyArns", [])):
                text = json.dumps(arn)
                if "iam::aws:policy" in text:
                    attached.add(text.rsplit("policy/", 1)[1].split('"', 1)[0])
    assert attached, "no AWS-managed policy seen: the walk above would pass vacuously"
    assert not {name for name in attached if "FullAccess" in name}, attached


def test_our_own_policies_grant_no_service_wide_actions(synthesized):
    # A customer policy with "s3:*" or "*" is FullAccess by another name. Every statement is looked at, and
    # there are some (the submitter policy alone has a dozen).
    seen = 0
    for component, template in synthesized.template_json.items():
        for logical_id, st in iam_statements(template):
            seen += 1
            if st["Effect"] != "Allow":
                continue
            wide = [a for a in as_list(st["Action"]) if a == "*" or a.endswith(":*")]
            assert not wide, f"{component}/{logical_id} allows {wide}"
    assert seen > 10


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
