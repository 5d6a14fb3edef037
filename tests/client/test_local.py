"""simulation.client.local: `run` and `local-job` for Python and R callers, with the defaults filled in, values from R
(doubles, digits) checked naming the argument, and a fresh seed said before the run starts."""

from __future__ import annotations

import pytest

from simulation import defaults, engine
from simulation.client import local_job, run_simulation
from simulation.engine import Params
from simulation.errors import SimulationError


def test_run_simulation_is_the_engine_s_run_with_the_defaults_filled_in():
    result = run_simulation(people=100.0, iterations=1500.0, seed="5", workers=2.0)
    expected = engine.run(Params(defaults.WIDTH, defaults.HEIGHT, 100, defaults.RADIUS), 1500, 5, workers=1)
    assert result["mean"] == expected["mean"]
    assert (result["width"], result["radius"], result["iterations"], result["workers"]) == (1000.0, 6.0, 1500, 2)


def test_an_unseeded_run_says_its_seed_before_it_starts(capsys):
    result = run_simulation(people=50, iterations=1000)
    err = capsys.readouterr().err
    seed = result["seed"]
    assert err.splitlines()[0] == f"seed {seed} (pass --seed {seed} to reproduce this sample)"
    assert run_simulation(people=50, iterations=1000, seed=str(seed))["mean"] == result["mean"]
    assert capsys.readouterr().err == ""  # a given seed is not announced


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"people": 2.5}, "people must be a whole number, got 2.5"),
        ({"iterations": 0}, "iterations must be at least 1, got 0"),
        ({"radius": "wide"}, "radius must be a number, got 'wide'"),
        ({"seed": -1}, "seed must be at least 0, got -1"),
        ({"workers": 0}, "workers must be at least 1, got 0"),
        ({"people": 20_000_000}, "run: --people 20000000 is more than 10,000,000 (the memory one machine has)"),
    ],
)
def test_bad_values_are_one_line_naming_the_argument(kwargs, message):
    with pytest.raises(SimulationError) as raised:
        run_simulation(**kwargs)
    assert str(raised.value) == message


def test_local_job_hosts_share_the_blocks_and_agree_with_run(tmp_path):
    summary = local_job(people=100, iterations=2500, seed=9, hosts=2, output=tmp_path / "out", workers_per_host=1)
    assert summary["hosts"] == ["algo-1", "algo-2"]
    assert summary["output"] == str(tmp_path / "out")
    assert summary["mean"] == run_simulation(people=100, iterations=2500, seed=9)["mean"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"script": "main.R", "people": 5}, "local-job: people is for the bundled simulation, not an R script"),
        ({"script": "main.R", "workers_per_host": 2}, "local-job: workers_per_host is for the bundled simulation"),
        ({"folder": "code"}, "local-job: a folder needs a script"),
        ({"args": [1]}, "local-job: arguments need a script"),
        ({"hosts": 0}, "hosts must be at least 1, got 0"),
    ],
)
def test_local_job_refuses_mixed_or_incomplete_requests_in_one_line(kwargs, message, tmp_path):
    with pytest.raises(SimulationError, match=f"^{message}"):
        local_job(output=tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists()
