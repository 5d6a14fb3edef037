"""A newcomer's first local jobs: the seed of an unseeded run is the first line, an interrupted run's hint is the exact
command that finishes it, each run gets its own default folder (so `make run` then `local-job --hosts 2` works), and
--hosts is bounded by the run's blocks and a maximum, in one line."""

from __future__ import annotations

import json
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path

from simulation import engine
from simulation.job import local_job

ROOT = Path(__file__).resolve().parents[2]
SLOW = ["--width", "1000", "--height", "1000", "--people", "20000", "--radius", "45"]  # 100 iterations a block


def simulation(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simulation", *args], cwd=cwd, capture_output=True, text=True, timeout=600
    )


def test_unseeded_interrupted_local_job_resumes_with_the_printed_command(tmp_path):
    command = [sys.executable, "-m", "simulation", "local-job", "--hosts", "2", "--workers-per-host", "1"]
    command += [*SLOW, "--iterations", "800"]
    job = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert job.stderr is not None
    first = job.stderr.readline()
    seed = re.fullmatch(
        r"local-job: seed (\d+) \(fresh entropy: pass --seed \1 to repeat or resume this run\); .*\n", first
    )
    assert seed, first
    for line in job.stderr:  # the hosts report each finished block: stop once the first is in
        if " done in " in line:
            break
    job.send_signal(signal.SIGINT)
    _, err = job.communicate(timeout=120)
    assert job.returncode == 1, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: local job did not finish (")
    hint = last.split("; resume with: ", 1)[1]
    # the same command again (what the old hint said) draws another seed: another run, another folder
    words = shlex.split(hint)
    assert words[:4] == ["python", "-m", "simulation", "local-job"]
    assert words[words.index("--seed") + 1] == seed.group(1)
    resumed = subprocess.run([sys.executable, *words[1:]], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    kept = re.search(r"(\d+) blocks computed now, (\d+) resumed", resumed.stdout)
    assert kept, resumed.stdout
    assert int(kept.group(2)) > 0
    folder = tmp_path / "out" / "local-job" / f"1000x1000-n20000-r45-i800-seed{seed.group(1)}"
    summary = json.loads((folder / "summary.json").read_text())
    expected = engine.run(engine.Params(1000.0, 1000.0, 20000, 45.0), 800, int(seed.group(1)), workers=1)
    assert summary["mean"] == expected["mean"]
    assert summary["sd"] == expected["sd"]


def test_a_seeded_run_says_no_seed_line_but_where_it_writes(tmp_path):
    done = simulation("local-job", "--hosts", "1", "--iterations", "100", "--seed", "4", "--people", "50", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[0] == "local-job: 1 host(s), output out/local-job/1000x1000-n50-r6-i100-seed4"


def test_make_run_then_local_job_with_other_hosts_and_no_seed(tmp_path):
    """`make run`'s job (seed 42, 3 hosts) and then a 2-host run without a seed each get their own folder; the
    same run with other hosts reuses its own (the result does not depend on the host count)."""
    values = ["--people", "200", "--iterations", "3000"]
    made = simulation("local-job", "--hosts", "3", *values, "--seed", "42", cwd=tmp_path)
    other = simulation("local-job", "--hosts", "2", *values, cwd=tmp_path)
    again = simulation("local-job", "--hosts", "2", *values, "--seed", "42", cwd=tmp_path)
    for done in (made, other, again):
        assert done.returncode == 0, done.stderr
    folders = sorted(p.name for p in (tmp_path / "out" / "local-job").iterdir())
    assert len(folders) == 2
    assert "1000x1000-n200-r6-i3000-seed42" in folders
    assert "3 blocks computed now, 0 resumed" in other.stdout
    assert "0 blocks computed now, 3 resumed" in again.stdout


def test_default_folders_differ_for_any_different_value():
    params = engine.Params(1000.0, 1000.0, 1000, 6.0)
    base = local_job.default_output(params, 100, 1)
    assert base == Path("out/local-job/1000x1000-n1000-r6-i100-seed1")
    # values a short %g format would print alike stay apart
    near = engine.Params(1000.0000001, 1000.0, 1000, 6.0)
    assert local_job.default_output(near, 100, 1) != base
    assert local_job.default_output(params, 100, 2) != base
    assert local_job.default_output(params, 101, 1) != base


def test_hosts_beyond_the_blocks_or_the_maximum_are_one_line(tmp_path):
    many = simulation("local-job", "--hosts", "500", cwd=tmp_path)
    assert many.returncode == 2
    assert many.stderr.splitlines() == [
        "error: local-job: --hosts 500 is more than 32 (each emulated host is a process of its own); a SageMaker job "
        "takes more: submit --instance-count 500"
    ]
    idle = simulation("local-job", "--hosts", "20", "--iterations", "10000", cwd=tmp_path)
    assert idle.returncode == 2
    assert idle.stderr.splitlines() == [
        "error: local-job: --hosts 20 is more than this run's 10 block(s) (block k goes to host k mod hosts, so 10 "
        "would have nothing to do); use --hosts 10 or fewer, or more --iterations"
    ]
    assert not (tmp_path / "out").exists()  # refused before anything started


def test_without_hosts_a_one_block_run_uses_one_host(tmp_path):
    done = simulation("local-job", "--iterations", "100", "--seed", "1", "--people", "50", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["hosts"] == ["algo-1"]
