"""The sagemaker synth the studio tests share: the session's sagemaker-mode app (two users, an admin and a user),
synthesized once (tests/conftest.py, `synth_of`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import MODE_CONTEXTS, SynthesizedPlatform

CONTEXT = {"rstudio_mode": "sagemaker", "rstudio_users": "alice:admin,bob"}


@pytest.fixture(scope="session")
def studio(synth_of: Callable[[str], SynthesizedPlatform]) -> SynthesizedPlatform:
    assert MODE_CONTEXTS["sagemaker"] == CONTEXT  # the session's sagemaker synth is this one
    return synth_of("sagemaker")


@pytest.fixture(scope="session")
def template(studio: SynthesizedPlatform) -> dict[str, Any]:
    return studio.template_json["workspace"]
