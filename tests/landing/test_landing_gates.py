"""cdk-nag, cfn-lint and checkov over every landing-zone synth: nothing unacknowledged, nothing unexplained."""

from __future__ import annotations

import importlib.util

import pytest

from tests.conftest import ROOT
from tests.infra.helpers import CFN_LINT_IGNORED, cfn_lint
from tests.landing.conftest import CONTEXTS

_spec = importlib.util.spec_from_file_location("checkov_gate", ROOT / "scripts" / "checkov_gate.py")
assert _spec is not None
assert _spec.loader is not None
gate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gate)

LANDING_SKIPS = ROOT / "checkov-skips-landing.txt"
# Given subnets carry the landing zone's zone names; cfn-lint prefers zones computed in the template.
LANDING_LINT_IGNORED = {
    **CFN_LINT_IGNORED,
    "W3010": "the availability zones are the landing zone's given subnets' (setting availability_zones)",
}


@pytest.mark.parametrize("name", list(CONTEXTS))
def test_nag_finds_nothing_unacknowledged(landing, name):
    # synth raises on a violation; the report confirms it was produced and is empty.
    report = landing[name].validation_report
    assert [r for r in report.get("pluginReports", []) if r.get("violations")] == []


@pytest.mark.parametrize("name", list(CONTEXTS))
def test_cfn_lint_is_clean(landing, name):
    result = cfn_lint(list(landing[name].template_paths.values()), ignore=LANDING_LINT_IGNORED)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.scan
def test_checkov_finds_nothing_beyond_the_two_skip_lists(landing):
    if not gate.CHECKOV.exists():
        pytest.fail(f"{gate.CHECKOV} is missing: run `make setup`")
    found = set()
    for synthesized in landing.values():
        found |= _templates(synthesized)
    allowed = {**gate.skips(), **gate.skips(LANDING_SKIPS)}
    assert sorted(found - set(allowed)) == []
    # A landing skip that matches nothing any more hides nothing: remove it.
    assert sorted(set(gate.skips(LANDING_SKIPS)) - found) == []


def _templates(synthesized) -> set[tuple[str, str]]:
    report = gate._scan(["--directory", str(synthesized.cdk_out), "--framework", "cloudformation"])
    return {
        (str(check["check_id"]), str(check["resource"]))
        for batch in report
        for check in batch.get("results", {}).get("failed_checks", [])
    }
