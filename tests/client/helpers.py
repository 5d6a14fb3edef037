"""What several client tests share: one small reference case, run as a real local job."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PARAMS = {"width": 300, "height": 200, "people": 100, "radius": 6, "iterations": 2500, "seed": 11}
ROOT = Path(__file__).resolve().parents[2]


def run_local_job(output: Path, hosts: int) -> dict:
    """`python -m simulation local-job` over PARAMS into `output`; its --json result."""
    args = [f"--{k}={v}" for k, v in PARAMS.items()]
    completed = subprocess.run(
        [sys.executable, "-m", "simulation", "local-job", f"--hosts={hosts}", *args, f"--output={output}", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)
