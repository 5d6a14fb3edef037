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


# app.py run as the CLI runs it, with one warning added to its app just before synth: the platform's own synths
# have no warnings left (the landing zone's imported subnets acknowledge CDK's route-table one), so the probe stands
# in for the next one.
PROBE = """
import os, runpy, sys
os.environ["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = "20"  # app.py does this itself; the probe imports first
import aws_cdk as cdk
synth = cdk.App.synth
def probed(self, *args, **kwargs):
    cdk.Annotations.of(self.node.children[0]).add_warning_v2("simlab:probe", "probe warning")
    return synth(self, *args, **kwargs)
cdk.App.synth = probed
sys.path.insert(0, ".")
runpy.run_path("app.py", run_name="__main__")
"""


def test_warnings_carry_no_javascript_stack_trace(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("JSII_SILENCE_WARNING")}
    context = {"platform_name": "simlab", "rstudio_mode": "ec2"}
    env.update(CDK_CONTEXT_JSON=json.dumps(context), CDK_OUTDIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    warnings = [
        entry
        for path in tmp_path.glob("*.metadata.json")
        for entries in json.loads(path.read_text()).values()
        for entry in entries
        if entry["type"] == "aws:cdk:warning"
    ]
    assert [w["data"] for w in warnings] == ["probe warning [ack: simlab:probe]"]
    assert [w for w in warnings if "trace" in w] == []
