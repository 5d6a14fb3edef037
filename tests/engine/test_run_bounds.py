"""`run` and `local-job` refuse sizes one machine cannot hold or finish, in one line, before any work starts."""

from __future__ import annotations

import subprocess
import sys

import pytest

from simulation.defaults import MAX_LOCAL_PEOPLE as MAX_PEOPLE
from simulation.defaults import MAX_LOCAL_POINTS as MAX_POINTS


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--people", "1e12", "--iterations", "1"], "error: run: --people 1000000000000 is more than 10,000,000"),
        (["--people", str(MAX_PEOPLE + 1), "--iterations", "1"], "is more than 10,000,000"),
        (["--people", "1000000", "--iterations", "1000001"], "place 1.00e+12 people, more than 1e+12"),
    ],
)
def test_run_refuses_what_would_exhaust_memory_or_never_end(args, message):
    result = subprocess.run(
        [sys.executable, "-m", "simulation", "run", *args], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr


def test_the_bounds_themselves():
    # 10^7 people: 2 float64 coordinates each = 160 MB per worker and iteration; 10^12 placements.
    assert MAX_PEOPLE * 2 * 8 == 160_000_000
    assert MAX_POINTS == 10**12


def test_local_job_has_the_same_bounds(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "simulation", "local-job", "--people", "20000000", "--iterations", "1"]
        + ["--output", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "is more than 10,000,000" in result.stderr
    assert not (tmp_path / "o").exists()
