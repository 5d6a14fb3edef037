"""The RStudio host installs the SageMaker SDK at exactly the version requirements.txt pins (the one the
client tests run against moto), read from the requirements.txt that ships in the package asset."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from stacks.workspace import host

ROOT = Path(__file__).resolve().parents[2]


def test_the_host_installs_the_pinned_sagemaker_sdk(tmp_path):
    pins = [line for line in (ROOT / "requirements.txt").read_text().splitlines() if line.startswith("sagemaker")]
    assert len(pins) == 1, pins
    assert re.fullmatch(r"sagemaker==2\.\d+\.\d+", pins[0])  # v2, exactly
    assert "requirements.txt" in host.PACKAGE_PATHS  # the asset carries the pin to the host
    script = (ROOT / "stacks" / "workspace" / "bootstrap.sh").read_text()
    (line,) = [x.strip() for x in script.splitlines() if x.strip().startswith("sdk_pin=$(")]
    # the bootstrap's own line, run over a copy of the shipped file, yields the pin
    (tmp_path / "requirements.txt").write_text((ROOT / "requirements.txt").read_text())
    done = subprocess.run(
        ["bash", "-c", f'SRC={tmp_path}; {line}; printf %s "$sdk_pin"'], capture_output=True, text=True, check=True
    )
    assert done.stdout == pins[0]
    assert '"$VENV/bin/pip" install -q "${SRC}[client,fast]" "$sdk_pin"' in script
    assert "sagemaker>=" not in script
    assert "'sagemaker" not in script


def test_the_rsession_image_installs_the_same_pin():
    from stacks.studio import image

    pin = next(line for line in (ROOT / "requirements.txt").read_text().splitlines() if line.startswith("sagemaker=="))
    assert image.sdk_requirement() == pin
    dockerfile = (ROOT / "stacks" / "studio" / "image" / "Dockerfile").read_text()
    assert '"${SAGEMAKER_REQUIREMENT}"' in dockerfile
    assert "'sagemaker" not in dockerfile
