"""The sagemaker synth the studio tests share (two users, an admin and a user), synthesized once per session."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import SynthesizedPlatform, synthesize

CONTEXT = {"rstudio_mode": "sagemaker", "rstudio_users": "alice:admin,bob"}


@pytest.fixture(scope="session")
def studio(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedPlatform:
    return synthesize(CONTEXT, tmp_path_factory.mktemp("studio.out"))


@pytest.fixture(scope="session")
def template(studio: SynthesizedPlatform) -> dict[str, Any]:
    return studio.template_json["workspace"]
