"""R/examples/map_lapply.R and map_future.R: the blog's simulation as readers write it, run in local mode as the
examples are written (one changed line, one added line), giving the same mean as the plain vapply version under
future.apply's sequential plan with the same seed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.r
EXAMPLES = Path(__file__).resolve().parents[2] / "R" / "examples"
ARGS = ["1000", "1000", "200", "30"]


def rscript(library: Path, script: Path, cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["Rscript", str(script), *args],
        cwd=cwd,
        env={**os.environ, "R_LIBS": str(library), "RETICULATE_PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


def plain(script: Path) -> str:
    """The example as it was before the platform: vapply on this machine (sequential future.apply for the seed)."""
    text = script.read_text()
    if script.name == "map_lapply.R":
        changed = [line for line in text.splitlines() if "job_lapply(" in line and not line.startswith("#")]
        assert len(changed) == 1  # one changed line
        before = next(line for line in text.splitlines() if line.startswith("# was: "))[len("# was: ") :]
        assert before.startswith("violations <- vapply(")
        return text.replace(
            changed[0], before.replace("vapply(", "future.apply::future_vapply(")[:-1] + ", future.seed = 42)"
        )
    added = [line for line in text.splitlines() if line.startswith("plan(")]
    assert len(added) == 1  # one added line
    return text.replace(added[0], "plan(sequential)")


@pytest.mark.parametrize("name", ["map_lapply.R", "map_future.R"])
def test_the_example_runs_in_local_mode_and_equals_the_plain_version(r_library, tmp_path, name):
    script = EXAMPLES / name
    mean = rscript(r_library, script, tmp_path, *ARGS)
    reference = tmp_path / "plain.R"
    reference.write_text(plain(script))
    assert mean == rscript(r_library, reference, tmp_path, *ARGS)
    assert 0.0 < float(mean) < 1.0
    assert (tmp_path / "out" / "local-map").is_dir()  # it did run as a local job
