"""checkov (pinned in requirements-checkov.txt, its own venv) over every synthesized template of the three workspace
modes and the job image's Dockerfile: nothing beyond checkov-skips.txt, and no skip that matches nothing."""

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


@pytest.mark.scan
def test_checkov_finds_nothing_beyond_the_skip_list(synth_of):
    if not gate.CHECKOV.exists():
        pytest.fail(f"{gate.CHECKOV} is missing: run `make setup`")
    modes = ("ec2", "sagemaker", "none")
    found = gate.findings(*(synth_of(mode).cdk_out for mode in modes))
    assert gate.problems(found, gate.skips()) == []
    # The scan reached both frameworks and every mode (a silent parse failure would find nothing and pass).
    assert ("CKV_DOCKER_2", "container/Dockerfile") in found
    assert ("CKV_DOCKER_3", "stacks/studio/image/Dockerfile") in found  # the RSession image
    assert any(resource.startswith("AWS::CloudFront::Distribution.") for _, resource in found)  # ec2
    sagemaker = synth_of("sagemaker").template_json["workspace"]["Resources"]
    assert any(resource.split(".", 1)[1] in sagemaker for _, resource in found if "." in resource)


def test_every_skip_has_a_reason_and_a_new_finding_fails():
    allowed = gate.skips()
    assert all(len(reason) >= 20 for reason in allowed.values())
    new = {("CKV_AWS_51", "AWS::ECR::Repository.JobsUserImagesAEB95278")}
    assert gate.problems(set(allowed) | new, allowed) == [
        "checkov CKV_AWS_51 on AWS::ECR::Repository.JobsUserImagesAEB95278: fix it or add it to "
        "checkov-skips.txt with a reason"
    ]
    stale = next(iter(allowed))
    assert gate.problems(set(allowed) - {stale}, allowed) == [
        f"checkov-skips.txt: {stale[0]} {stale[1]} matches no finding any more; remove the line"
    ]


def test_a_skip_without_a_reason_is_refused(tmp_path):
    path = tmp_path / "skips.txt"
    path.write_text("CKV_AWS_18 AWS::S3::Bucket.X\n")
    with pytest.raises(ValueError, match="want CHECK_ID RESOURCE reason"):
        gate.skips(path)
