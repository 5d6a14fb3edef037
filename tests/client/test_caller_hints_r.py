"""From R (real Rscript, the simjobs package): the hints name R functions, not shell commands; an unseeded
submission says its seed first; an interrupted local_job() ends with the exact R call that finishes it, which then
does. SIMLAB_CALLER is set only for the duration of each call."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from simulation import engine
from tests.client.helpers import rscript

pytestmark = pytest.mark.r
SLOW = "width = 1000, height = 1000, people = 20000, radius = 45"  # 100 iterations a block, ~1 s each here


def test_submit_from_r_says_its_seed_first_and_r_s_next_steps(aws, r_library, tmp_path):
    done = rscript(
        aws,
        r_library,
        """
job <- submit_simulation(people = 100, iterations = 100)
cat(job, "\\n")
cat("between calls: [", Sys.getenv("SIMLAB_CALLER"), "]\\n", sep = "")
cat(system2(Sys.getenv("RETICULATE_PYTHON"), c("-c", shQuote("import os; print(os.environ.get('SIMLAB_CALLER'))")),
            stdout = TRUE), "\\n")
""",
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    job, between, child = done.stdout.splitlines()
    job = job.strip()
    lines = done.stderr.splitlines()
    seed = re.fullmatch(r'seed (\d+) \(pass seed = "\1" to reproduce this sample\)', lines[0])
    assert seed, lines
    assert lines[1].startswith("plan: ")
    assert f'  follow it: wait_for_job("{job}")' in lines
    assert "python -m simulation" not in done.stderr
    assert "--seed" not in done.stderr
    # the marker lives only as long as a call: R's own shell commands (system2) get the shell's hints
    assert between == "between calls: []"
    assert child.strip() == "None"


def _r_env(library: Path) -> dict[str, str]:
    return {**os.environ, "R_LIBS": str(library), "RETICULATE_PYTHON": sys.executable}


def test_an_interrupted_local_job_from_r_says_the_r_call_that_finishes_it(r_library, tmp_path):
    (tmp_path / "start.R").write_text(
        "suppressPackageStartupMessages(library(simjobs))\n"
        f"local_job({SLOW}, iterations = 800, hosts = 2, workers_per_host = 1)\n"
    )
    job = subprocess.Popen(
        ["Rscript", "start.R"],
        cwd=tmp_path,
        env=_r_env(r_library),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: the SIGINT below reaches R and the hosts, as Ctrl-C does
    )
    assert job.stderr is not None
    first = job.stderr.readline()
    seed = re.fullmatch(r'seed (\d+) \(pass seed = "\1" to reproduce this sample\)\n', first)
    assert seed, first
    for line in job.stderr:  # the hosts report each finished block: stop once the first is in
        if " done in " in line:
            break
    os.killpg(job.pid, signal.SIGINT)
    _, err = job.communicate(timeout=300)
    said = [line for line in err.splitlines() if "resume with: " in line]
    assert said, err
    assert said[-1].startswith("Error: local job did not finish (interrupted); ")  # not the hosts' "run again"
    call = said[-1].split("resume with: ", 1)[1]
    assert call == (
        f"local_job(hosts = 2, width = 1000, height = 1000, people = 20000, radius = 45, iterations = 800, "
        f'seed = "{seed.group(1)}", workers_per_host = 1)'
    )
    assert "python -m simulation" not in err

    (tmp_path / "resume.R").write_text(
        "suppressPackageStartupMessages(library(simjobs))\n"
        f"result <- {call}\n"
        'cat(sprintf("%.17g", result$mean), result$seed, "\\n")\n'
    )
    resumed = subprocess.run(
        ["Rscript", "resume.R"], cwd=tmp_path, env=_r_env(r_library), capture_output=True, text=True, timeout=900
    )
    assert resumed.returncode == 0, resumed.stderr
    mean, seed_back = resumed.stdout.split()
    assert seed_back == seed.group(1)
    expected = engine.run(engine.Params(1000.0, 1000.0, 20000, 45.0), 800, int(seed.group(1)), workers=1)
    assert float(mean) == expected["mean"]
    folder = tmp_path / "out" / "local-job" / f"1000x1000-n20000-r45-i800-seed{seed.group(1)}"
    assert (folder / "summary.json").is_file()  # the interrupted run's folder, finished
