"""`run` as a newcomer meets it: an unseeded run says its seed first, a long run says how long before it starts,
and Ctrl-C keeps the blocks finished so far as a run of their own (the command that gives exactly it is printed)."""

from __future__ import annotations

import json
import re
import shlex
import signal
import subprocess
import sys
import time

import pytest

from simulation import engine
from simulation.engine import RunInterrupted

PARAMS = engine.Params(1000.0, 1000.0, 1000, 6.0)  # block size 1000


def simulation(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "simulation", *args], capture_output=True, text=True, timeout=600)


def test_an_unseeded_run_prints_its_seed_first_and_that_seed_repeats_it():
    done = simulation("run", "--people", "100", "--iterations", "50", "--json")
    assert done.returncode == 0, done.stderr
    first = done.stderr.splitlines()[0]
    seed = re.fullmatch(r"run: seed (\d+) \(fresh entropy: pass --seed \1 to repeat this run\)", first)
    assert seed, first
    result = json.loads(done.stdout)
    assert result["seed"] == int(seed.group(1))
    again = simulation("run", "--people", "100", "--iterations", "50", "--seed", seed.group(1), "--json")
    assert again.stderr == ""  # a seeded short run says nothing before its result
    assert json.loads(again.stdout)["mean"] == result["mean"]


def test_interrupting_the_engine_keeps_the_finished_blocks_as_a_run_of_their_own():
    def stop_after_three_blocks(done: int, total: int) -> None:
        if done >= 3000:
            raise KeyboardInterrupt

    with pytest.raises(RunInterrupted) as caught:
        engine.run(PARAMS, 10_000, 17, workers=1, progress=stop_after_three_blocks)
    kept = caught.value.result
    assert caught.value.planned == 10_000
    assert kept is not None
    assert (kept["iterations"], kept["blocks"]) == (3000, 3)
    # blocks draw the same numbers whatever the run's length: the kept part is the 3000-iteration run
    shorter = engine.run(PARAMS, 3000, 17, workers=1)
    for key in ("mean", "sd", "se", "ci95", "iterations", "seed"):
        assert kept[key] == shorter[key], key


def test_a_billion_iterations_say_the_expected_time_first_and_ctrl_c_keeps_what_finished():
    simulation("run", "--iterations", "10", "--seed", "1")  # the kernel in numba's cache: starts in about a second
    command = [sys.executable, "-m", "simulation", "run", "--iterations", "1000000000", "--seed", "3", "--json"]
    for wait in (5, 30):
        job = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert job.stderr is not None
        first = job.stderr.readline()
        said = re.fullmatch(
            r"run: expected ~([0-9.]+) (min|h) on (\d+) core\(s\) .*Ctrl-C keeps the finished blocks.*\n", first
        )
        assert said, first
        # the model's figure: 1000 people cost 13 ns each per iteration on one core (performance.md), 10^12 of
        # them 13,000 s, shared by the cores, plus 0.9 s to start
        seconds = 13e-9 * 1e12 / int(said.group(3)) + 0.9
        assert float(said.group(1)) == pytest.approx(seconds / (60 if said.group(2) == "min" else 3600), abs=0.1)
        time.sleep(wait)
        job.send_signal(signal.SIGINT)
        out, err = job.communicate(timeout=300)
        assert job.returncode == 130, err
        if "nothing to keep" not in err:
            break
    kept = json.loads(out)
    assert kept["interrupted"] is True
    assert kept["iterations"] % 1000 == 0
    assert kept["iterations"] > 0
    said = re.search(r"their result below is that of `([^`]+)`", err)
    assert said, err
    words = shlex.split(said.group(1))
    assert words[words.index("--iterations") + 1] == str(kept["iterations"])
    repeat = simulation(*words[3:], "--json")
    assert repeat.returncode == 0, repeat.stderr
    for key in ("mean", "sd", "ci95", "iterations", "seed"):
        assert json.loads(repeat.stdout)[key] == kept[key], key
