"""checkov (pinned, its own venv) over the sagemaker synth and the RSession image's Dockerfile: nothing beyond
checkov-skips.txt, and no skip of a resource this synth has that matches nothing. The default synth's resources are
held to the same list by tests/infra/test_checkov.py."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("checkov_gate", ROOT / "scripts" / "checkov_gate.py")
assert _spec is not None
assert _spec.loader is not None
gate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gate)
DOCKERFILES = ("container/Dockerfile", "stacks/studio/image/Dockerfile")


@pytest.mark.scan
def test_checkov_finds_nothing_beyond_the_skip_list_in_the_sagemaker_synth(studio):
    if not gate.CHECKOV.exists():
        pytest.fail(f"{gate.CHECKOV} is missing: run `make setup`")
    found = gate.findings(studio.cdk_out, DOCKERFILES)
    assert gate.problems(found, gate.skips(), gate.scanned(studio.cdk_out, DOCKERFILES)) == []
    # The scan reached the domain and the RSession image (a silent parse failure would find nothing and pass).
    assert ("CKV_DOCKER_3", "stacks/studio/image/Dockerfile") in found
    assert any(resource.startswith("AWS::SageMaker::Domain.") for _, resource in found)
