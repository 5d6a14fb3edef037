"""The RStudio host and the RSession image install the SageMaker SDK at exactly the version requirements.txt
pins: the one the client's tests run against moto (script_processor, the original R flow)."""

from __future__ import annotations

import re
from pathlib import Path

from stacks.studio import image
from stacks.workspace import bootstrap

ROOT = Path(__file__).resolve().parents[2]


def _pin() -> str:
    pins = [line for line in (ROOT / "requirements.txt").read_text().splitlines() if line.startswith("sagemaker")]
    assert len(pins) == 1, pins
    assert re.fullmatch(r"sagemaker==2\.\d+\.\d+", pins[0])  # v2, exactly
    return pins[0]


def test_the_host_installs_the_pinned_sagemaker_sdk():
    constraints = bootstrap.pip_constraints().split()
    assert [c for c in constraints if c.startswith("sagemaker")] == [_pin()]  # one spelling, requirements.txt's
    installs = [line for line in bootstrap.SCRIPT.read_text().splitlines() if 'bin/pip" install' in line]
    assert any(" sagemaker" in line and '-c "$SIMLAB_HOME/constraints.txt"' in line for line in installs)


def test_the_rsession_image_installs_the_same_pin():
    assert image.sdk_requirement() == _pin()
    dockerfile = (ROOT / "stacks" / "studio" / "image" / "Dockerfile").read_text()
    assert '"${SAGEMAKER_REQUIREMENT}"' in dockerfile
    assert "'sagemaker" not in dockerfile
