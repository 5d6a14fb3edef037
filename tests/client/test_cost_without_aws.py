"""`cost` on a machine with no AWS set up: without --instance-type it says why it needed AWS and how to do without;
with one it prices without AWS."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def cost(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SIMLAB_"))}
    env.update(HOME=str(home), AWS_CONFIG_FILE=str(home / "none"), AWS_SHARED_CREDENTIALS_FILE=str(home / "none"))
    return subprocess.run(
        [sys.executable, "-m", "simulation", "cost", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_cost_without_an_instance_type_or_aws_says_both_in_one_line(tmp_path):
    done = cost(home=tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "error: cost: without --instance-type the platform's default type is read from AWS, which failed (no AWS "
        "region configured: set AWS_DEFAULT_REGION (or a profile's region)); or name one: --instance-type ml.c5.xlarge"
    ]


def test_cost_with_an_instance_type_needs_no_aws(tmp_path):
    done = cost("--instance-type", "ml.c5.xlarge", "--minutes", "30", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("~$0.10 (1 x 0.5 h x $0.204/h")  # 0.5 h at the table's 0.204 USD per hour
