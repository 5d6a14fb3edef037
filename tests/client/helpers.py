"""What several client tests share: one small reference case run as a real local job, and R driver scripts."""

from __future__ import annotations

import json
import os
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


def rscript(aws, library: Path, code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Runs `code` with the simjobs package from `library` (the `r_library` fixture) against the moto server `aws`."""
    script = tmp_path / "driver.R"
    script.write_text("suppressPackageStartupMessages(library(simjobs))\n" + code)
    env = {**os.environ, **aws.env, "R_LIBS": str(library), "RETICULATE_PYTHON": sys.executable}
    return subprocess.run(
        ["Rscript", str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False
    )
