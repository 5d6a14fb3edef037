"""From R (real Rscript, the simjobs package): run_simulation() and local_job() are `python -m simulation run` and
`local-job`, with the same results for the same seed; an unseeded run says its seed before it starts; the
planner tells R users the R function to call."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.r


def _r(library: Path, code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    (cwd / "driver.R").write_text("suppressPackageStartupMessages(library(simjobs))\n" + code)
    env = {**os.environ, "R_LIBS": str(library), "RETICULATE_PYTHON": sys.executable}
    return subprocess.run(
        ["Rscript", "driver.R"], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def _cli(*args: str, cwd: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "simulation", *args, "--json"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_run_simulation_is_the_cli_s_run_and_says_a_fresh_seed_first(r_library, tmp_path):
    done = _r(
        r_library,
        """
result <- run_simulation(width = 300, height = 200, people = 100, iterations = 2500)
cat(result$seed, sprintf("%.17g", result$mean), result$iterations, "\\n")
""",
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    seed, mean, iterations = done.stdout.split()
    assert int(seed) > 2**32  # fresh entropy (128 bits), not a fixed default
    first = done.stderr.splitlines()[0]
    assert first == f'seed {seed} (pass seed = "{seed}" to reproduce this sample)'  # R's way, not --seed
    cli = _cli(
        "run", "--width=300", "--height=200", "--people=100", "--iterations=2500", f"--seed={seed}", cwd=tmp_path
    )
    assert float(mean) == cli["mean"]
    assert int(iterations) == cli["iterations"] == 2500


def test_local_job_is_the_cli_s_local_job(r_library, tmp_path):
    done = _r(
        r_library,
        """
result <- local_job(width = 300, height = 200, people = 100, iterations = 2500, seed = 11, hosts = 2,
                    output = "from-r")
cat(sprintf("%.17g", result$mean), result$output, length(result$hosts), "\\n")
""",
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    mean, output, hosts = done.stdout.split()
    assert output == str(tmp_path / "from-r")
    assert hosts == "2"
    cli = _cli(
        "local-job",
        "--hosts=2",
        "--width=300",
        "--height=200",
        "--people=100",
        "--iterations=2500",
        "--seed=11",
        "--output=from-cli",
        cwd=tmp_path,
    )
    assert float(mean) == cli["mean"]
    summary = json.loads((tmp_path / "from-r" / "summary.json").read_text())
    assert summary["mean"] == cli["mean"]


def test_the_planner_tells_r_users_the_r_function(r_library, tmp_path):
    done = _r(
        r_library,
        """
cat(estimate_cost("ml.c5.xlarge", people = 100, iterations = 1000)$text, "\\n")
""",
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "faster here: run it locally (run_simulation(...))" in done.stdout
    assert "python -m" not in done.stdout
