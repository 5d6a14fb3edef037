"""The benchmark's R baseline (the original algorithm) runs and estimates the same quantity."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "original_simulation.R"


@pytest.mark.r
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="needs R (Debian r-base-core)")
def test_original_r_script_runs_and_writes_its_mean(tmp_path):
    # 200 people in 100 x 100, r = 6: analytic mean 2.137, sd of a 10-iteration mean about 0.05 (unseeded,
    # as in the original, so the bounds are +-6 sd)
    done = subprocess.run(
        ["Rscript", str(SCRIPT), "--args", "100", "100", "200", "10", "1"],
        capture_output=True,
        text=True,
        env={"OUTPUT_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    values = dict(line.split() for line in done.stdout.splitlines())
    assert 1.85 < float(values["mean"]) < 2.45
    assert float(values["seconds"]) > 0
    assert float((tmp_path / "output_result_mean.txt").read_text()) == pytest.approx(float(values["mean"]), rel=1e-6)
