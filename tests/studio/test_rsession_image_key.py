"""Posit's signing key in the RSession image's build: one home (stacks/workspace/posit.py, which the EC2 host uses
too), passed by the CDK asset, never a Dockerfile default that could drift from it. The build itself, with a good,
a tampered and a foreign-key-signed stand-in .deb, is in test_rsession_image.py (podman)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from stacks.studio.image import DOCKERFILE
from tests.conftest import SynthesizedPlatform

ROOT = Path(__file__).resolve().parents[2]
# Written out here by hand (the fact sheet's fingerprint, whose last 16 digits are the key ID Posit's Dockerfiles
# fetch), not read from posit.py: the test fails if that module's value changes without this line.
POSIT_FINGERPRINT = "8B65E5A107BBEFE3BA99C59751C0B5BB19F92D60"
POSIT_KEY_URL = "https://dl.posit.co/public/open/gpg.51C0B5BB19F92D60.key"


def test_the_asset_passes_posits_key_to_the_rsession_build(studio: SynthesizedPlatform) -> None:
    assets = json.loads((studio.cdk_out / "simlab-workspace.assets.json").read_text())["dockerImages"]
    (image,) = [a for a in assets.values() if a["source"].get("dockerFile") == DOCKERFILE]
    args = image["source"]["dockerBuildArgs"]
    assert args["POSIT_KEY_FINGERPRINT"].replace(" ", "") == POSIT_FINGERPRINT
    assert args["POSIT_KEY_URL"] == POSIT_KEY_URL


def test_the_dockerfile_has_no_key_of_its_own_and_checks_before_installing() -> None:
    dockerfile = (ROOT / DOCKERFILE).read_text()
    assert re.search(r"^ARG POSIT_KEY_FINGERPRINT$", dockerfile, re.M)
    assert re.search(r"^ARG POSIT_KEY_URL$", dockerfile, re.M)
    # nor a Workbench version of its own (stacks/studio/versions.py is its home; the asset always passes it)
    assert re.search(r"^ARG RSW_VERSION$", dockerfile, re.M)
    assert "2026.08" not in dockerfile
    assert "51C0B5BB19F92D60" not in dockerfile
    # the EC2 host's script, not a copy of it
    assert "COPY stacks/workspace/verify-deb.sh " in dockerfile
    verify = dockerfile.index('verify-deb.sh --fingerprint "${POSIT_KEY_FINGERPRINT}"')
    assert verify < dockerfile.index('apt-get install -y --no-install-recommends "/tmp/$deb"')
