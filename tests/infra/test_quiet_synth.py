"""A plain `npx cdk synth` (no Makefile environment) says only what concerns the platform: no jsii Node end-of-life
banner (printed as Python byte strings), no stray `.../lib/program.js:1:5591` line (the CLI printed a warning's
JavaScript stack frame, which in a Python app points only into jsii's runtime). app.py runs as the CLI runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def app(tmp_path: Path, context: dict[str, object]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JSII_SILENCE_WARNING")}
    env.update(CDK_CONTEXT_JSON=json.dumps(context), CDK_OUTDIR=str(tmp_path))
    return subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)


def test_no_node_banner_without_the_makefiles_environment(tmp_path):
    done = app(tmp_path, {"nat_gateways": "5"})  # fails at once, after jsii has started Node
    assert done.returncode == 2
    assert done.stderr.splitlines() == ["error: context key 'nat_gateways': got '5'; allowed: an integer from 0 to 2"]


def test_warnings_carry_no_javascript_stack_trace(tmp_path):
    # the default rstudio_server_sha256 (empty) gives the RStudio host its warning
    done = app(tmp_path, {"platform_name": "simlab", "rstudio_mode": "ec2"})
    assert done.returncode == 0, done.stderr
    assert "end-of-life" not in done.stderr
    warnings = [
        entry
        for path in tmp_path.glob("*.metadata.json")
        for entries in json.loads(path.read_text()).values()
        for entry in entries
        if entry["type"] == "aws:cdk:warning"
    ]
    assert any("No SHA-256 pinned for RStudio Server" in w["data"] for w in warnings)
    assert [w for w in warnings if "trace" in w] == []
