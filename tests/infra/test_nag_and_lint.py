"""cdk-nag (AwsSolutions, HIPAA Security, NIST 800-53 R5) and cfn-lint over every synthesized template of the three
workspace modes (ec2, sagemaker, none): zero unacknowledged findings, zero warnings."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3

from stacks.nag import apply_nag
from tests.infra.helpers import CFN_LINT_IGNORED, cfn_lint

MODES = ["ec2", "sagemaker", "none"]


@pytest.fixture(scope="module", params=MODES)
def synthesized(request, synth_of):
    """The app of one workspace mode (each synthesized once per session; nag runs in every synth)."""
    return synth_of(request.param)


def test_validation_report_has_no_unacknowledged_findings(synthesized):
    # app.synth() raises on any violation, so reaching here already means zero; the report confirms it.
    report = synthesized.validation_report
    assert report["title"] == "Validation Report"
    assert [r for r in report["pluginReports"] if r.get("violations")] == []


def test_nag_gate_has_teeth(tmp_path):
    """The same apply_nag on an app with a careless bucket must fail synth naming the AwsSolutions rules."""
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Careless")
    s3.Bucket(stack, "Open")
    apply_nag(app)
    with pytest.raises(Exception, match="AwsSolutions-S1"):
        app.synth()
    report = (tmp_path / "validation-report.json").read_text()
    assert "AwsSolutions-S1" in report
    assert "AwsSolutions-S10" in report
    # The compliance packs are wired into the same gate: an unversioned bucket without KMS fails both.
    for pack in ("HIPAA.Security", "NIST.800.53.R5"):
        assert f"{pack}-S3BucketVersioningEnabled" in report
        assert f"{pack}-S3DefaultEncryptionKMS" in report


def _acknowledgements(scope: cdk.Stack) -> list[tuple[str, str, str]]:
    found = []
    for construct in [scope, *scope.node.find_all()]:
        for entry in construct.node.metadata:
            if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY and entry.data:
                found += [(construct.node.path, rule, reason) for rule, reason in dict(entry.data).items()]
    return found


def test_every_acknowledgement_names_a_rule_and_gives_a_specific_reason(synthesized):
    # Other acknowledgements (e.g. CloudFormation-Validate::W3010 on CDK's own AZ lookup) come from CDK.
    acks = [a for stack in synthesized.platform.stacks for a in _acknowledgements(stack) if "AwsSolutions-" in a[1]]
    assert any("simlab-jobs/Jobs/Default/SubmitterPolicy" in path for path, _, _ in acks)
    for path, rule, reason in acks:
        assert len(reason) >= 40, f"{path} {rule}: reason too thin: {reason!r}"
    reasons = [reason for _, _, reason in acks]
    assert len(set(reasons)) == len(reasons), "each acknowledgement needs its own reason"


def test_cfn_lint_is_clean_on_every_template(synthesized):
    result = cfn_lint(list(synthesized.template_paths.values()), ignore=CFN_LINT_IGNORED)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compliance_acknowledgements_cover_both_packs_with_specific_reasons(synthesized):
    acks = [a for stack in synthesized.platform.stacks for a in _acknowledgements(stack)]
    # CDK records each acknowledgement twice (as "<id>" and "Annotation::<id>"); the rule is what follows the pack.
    hipaa = {(p, r.split("HIPAA.Security-")[1], why) for p, r, why in acks if "HIPAA.Security-" in r}
    nist = {(p, r.split("NIST.800.53.R5-")[1], why) for p, r, why in acks if "NIST.800.53.R5-" in r}
    assert hipaa, "the HIPAA pack acknowledges nothing: is it wired in?"
    assert hipaa == nist, "one decision per rule covers both packs"
    for path, rule, reason in hipaa:
        assert len(reason) >= 40, f"{path} {rule}: reason too thin: {reason!r}"
    # The same words on two rules would mean nobody thought about the second (one rule on two subnets is fine).
    rules_per_reason: dict[str, set[str]] = {}
    for _, rule, reason in hipaa:
        rules_per_reason.setdefault(reason, set()).add(rule)
    assert {reason: rules for reason, rules in rules_per_reason.items() if len(rules) > 1} == {}
