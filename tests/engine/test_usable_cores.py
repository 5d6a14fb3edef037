"""One "usable cores here" (simulation.defaults.usable_cores): a local run, each host of a job, local-job's hosts
and the planner's local prediction all take their default worker count from it."""

from __future__ import annotations

import os

import pytest

from simulation import defaults
from simulation.cli import main
from simulation.client import cost
from simulation.engine import Params, run
from simulation.job import local_job
from simulation.job.processing import build_parser


@pytest.fixture
def three_of_64_cores(monkeypatch):
    """A process pinned to 3 cores of a 64-core machine (taskset, a container's cpuset)."""
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 64)


def test_the_affinity_counts_not_the_machine(three_of_64_cores):
    assert defaults.usable_cores() == 3


def test_without_an_affinity_the_machine_counts(monkeypatch):
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 5)
    assert defaults.usable_cores() == 5


def test_a_local_run_defaults_to_the_usable_cores(three_of_64_cores):
    # 5 blocks of 1000 iterations (N = 1000): enough blocks for every core
    assert run(Params(), 5000, seed=1, workers=None)["workers"] == 3


def test_a_job_host_defaults_to_the_usable_cores(three_of_64_cores):
    base = ["--width", "10", "--height", "10", "--people", "2", "--radius", "1", "--iterations", "1", "--seed", "0"]
    assert build_parser().parse_args(["simulate", *base]).workers == 3
    assert build_parser().parse_args(["sweep", "--spec", "x.json"]).workers == 3


def test_the_planner_predicts_a_local_run_on_the_usable_cores(three_of_64_cores):
    assert cost.plan("ml.c5.xlarge", people=1000, iterations=1000)["local_cores"] == 3


def test_local_job_shares_the_usable_cores_among_its_hosts(three_of_64_cores, monkeypatch, tmp_path):
    seen = {}

    class Stop(Exception):
        pass

    def fake_run_local_job(*args, **kwargs):
        seen.update(kwargs)
        raise Stop

    monkeypatch.setattr(local_job, "run_local_job", fake_run_local_job)
    with pytest.raises(Stop):
        # 2 blocks of 1000 iterations: one for each host (more hosts than blocks are refused)
        main(["local-job", "--hosts", "2", "--iterations", "2000", "--output", str(tmp_path / "out")])
    assert seen["workers_per_host"] == 1  # 3 cores // 2 hosts


def test_r_s_local_job_shares_them_alike(three_of_64_cores, monkeypatch, tmp_path):
    from simulation.client import local

    seen = {}

    def fake_run_local_job(*args, **kwargs):
        seen.update(kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(local_job, "run_local_job", fake_run_local_job)
    with pytest.raises(KeyboardInterrupt):
        local.local_job(iterations=3000, seed=1, hosts=3, output=str(tmp_path / "out"))
    assert seen["workers_per_host"] == 1  # 3 cores // 3 hosts
