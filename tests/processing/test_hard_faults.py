"""A local job killed hard (SIGKILL to its whole process group, as a closed terminal's SIGHUP or the OOM killer
would) loses nothing its hosts finished: the re-run resumes, and equals an uninterrupted run bit for bit."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from simulation.job import layout

ARGS = ["--hosts", "2", "--workers-per-host", "1", "--width", "300", "--height", "300", "--people", "400"]
ARGS += ["--radius", "5", "--iterations", "300000", "--seed", "7"]  # 300 blocks of 1000 iterations


def local_job(output: Path, **popen: object) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "simulation", "local-job", *ARGS, "--output", str(output)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)  # type: ignore[call-overload]


def staged_blocks(output: Path) -> list[Path]:
    return list((output / layout.STAGING_DIR).glob(f"*/processing/output/{layout.BLOCKS_DIR}/block-*.json"))


def counts(output: Path) -> dict[str, list[int]]:
    return {
        p.name: json.loads(p.read_text())["pair_counts"] for p in sorted((output / layout.BLOCKS_DIR).glob("*.json"))
    }


def test_sigkill_of_the_process_group_then_rerun_equals_an_uninterrupted_run(tmp_path):
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    job = local_job(killed, start_new_session=True)
    deadline = time.monotonic() + 120
    while len(staged_blocks(killed)) < 6:
        assert job.poll() is None, f"finished before it could be killed: {job.communicate()}"
        assert time.monotonic() < deadline, "no block finished within 2 minutes"
        time.sleep(0.05)
    os.killpg(job.pid, signal.SIGKILL)  # the launcher and every host at once: no handler runs
    job.communicate(timeout=30)
    assert job.returncode == -signal.SIGKILL
    assert not (killed / layout.BLOCKS_DIR).exists() or len(counts(killed)) < 300  # really stopped mid-run
    survived = len(staged_blocks(killed))
    assert survived >= 6

    rerun = local_job(killed)
    out, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err
    assert f"{300 - survived} blocks computed now, {survived} resumed" in out
    uninterrupted = local_job(clean)
    assert uninterrupted.communicate(timeout=600)[0]
    assert uninterrupted.returncode == 0

    assert (killed / layout.MEAN_FILE).read_bytes() == (clean / layout.MEAN_FILE).read_bytes()
    assert counts(killed) == counts(clean)
    a, b = (json.loads((d / layout.SUMMARY_FILE).read_text()) for d in (killed, clean))
    for key in ("mean", "sd", "se", "ci95", "iterations", "blocks"):
        assert a[key] == b[key], key
    assert not (killed / layout.STAGING_DIR).exists()  # tidied once the run is complete
