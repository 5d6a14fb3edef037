"""Shared fixtures. The CDK app is synthesized ONCE per session (jsii start-up and synth take seconds).

Infra and workspace tests use:
- `synth_of(mode)`: the app of one workspace mode ("ec2", "sagemaker", "none"), synthesized once per session
- `synthesized`: everything below plus the construct objects (`synthesized.platform.jobs.jobs.execution_role`)
- `platform_templates`: {"network"|"data"|"jobs"|"workspace": aws_cdk.assertions.Template}
- `template_paths`: the same keys -> path of the synthesized template JSON
- `cdk_out`: the cloud assembly directory (validation-report.json lives there)
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
# --import-mode=importlib leaves the repository root off sys.path; the CDK app's `stacks` package lives there.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


def workspace_available() -> bool:
    """The workspace stack joins the default (ec2) synth as soon as its module exists (a broken one fails
    the synth loudly rather than silently dropping out)."""
    return importlib.util.find_spec("stacks.workspace.stack") is not None


def default_context() -> dict[str, Any]:
    return {} if workspace_available() else {"rstudio_mode": "none"}


@dataclass(frozen=True)
class SynthesizedPlatform:
    settings: Any  # stacks.settings.Settings
    platform: Any  # stacks.platform.Platform (the stack and construct objects)
    cdk_out: Path
    template_paths: dict[str, Path]
    templates: dict[str, Any]  # component -> aws_cdk.assertions.Template
    template_json: dict[str, dict[str, Any]]
    validation_report: dict[str, Any]


def synthesize(context: dict[str, Any], outdir: Path, region: str | None = None) -> SynthesizedPlatform:
    """Synthesize the whole app as app.py does (settings from context, nag included) into `outdir`.
    `region` stands in for CDK_DEFAULT_REGION, which `cdk synth` sets from the caller's AWS config."""
    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    from stacks.platform import build_platform
    from stacks.settings import Settings

    settings = Settings.from_context(context)
    app = cdk.App(outdir=str(outdir), context=dict(context))
    platform = build_platform(app, settings, env=cdk.Environment(region=region) if region else None)
    app.synth()
    components = {
        "network": platform.network,
        "data": platform.data,
        "jobs": platform.jobs,
        "workspace": platform.workspace,
    }
    paths = {name: outdir / stack.template_file for name, stack in components.items() if stack is not None}
    as_json = {name: json.loads(path.read_text()) for name, path in paths.items()}
    report_path = outdir / "validation-report.json"
    return SynthesizedPlatform(
        settings=settings,
        platform=platform,
        cdk_out=outdir,
        template_paths=paths,
        templates={name: Template.from_json(body) for name, body in as_json.items()},
        template_json=as_json,
        validation_report=json.loads(report_path.read_text()) if report_path.exists() else {},
    )


# One app per workspace mode, each synthesized at most once per session (nag runs in every synth).
MODE_CONTEXTS: dict[str, dict[str, Any]] = {
    "ec2": default_context(),  # every default: rstudio_mode ec2
    "sagemaker": {"rstudio_mode": "sagemaker", "rstudio_users": "alice:admin,bob"},
    "none": {"rstudio_mode": "none"},
}


@pytest.fixture(scope="session")
def synthesized(synth_of: Callable[[str], SynthesizedPlatform]) -> SynthesizedPlatform:
    """The default app (an empty context: rstudio_mode ec2)."""
    return synth_of("ec2")


@pytest.fixture(scope="session")
def synth_of(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], SynthesizedPlatform]:
    """synth_of(mode) -> the app of MODE_CONTEXTS[mode], synthesized on first use."""
    done: dict[str, SynthesizedPlatform] = {}

    def get(mode: str) -> SynthesizedPlatform:
        if mode not in done:
            done[mode] = synthesize(MODE_CONTEXTS[mode], tmp_path_factory.mktemp(f"cdk.out-{mode}"))
        return done[mode]

    return get


@pytest.fixture(scope="session")
def platform_templates(synthesized: SynthesizedPlatform) -> dict[str, Any]:
    return synthesized.templates


@pytest.fixture(scope="session")
def template_paths(synthesized: SynthesizedPlatform) -> dict[str, Path]:
    return synthesized.template_paths


@pytest.fixture(scope="session")
def cdk_out(synthesized: SynthesizedPlatform) -> Path:
    return synthesized.cdk_out
