"""Plan before paying: the job/local prediction of `cost`, its JSON, its errors, and submit printing it first."""

from __future__ import annotations

import json
import math

import pytest

from simulation.cli import main
from simulation.client import cost
from simulation.engine import throughput


def test_plan_follows_blocks_hosts_vcpus_and_the_documented_constants():
    """By hand: 10^8 iterations of N = 1000 are 100,000 blocks of 1000; 2 hosts take 50,000 each; 16 vCPUs take
    ceil(50,000 / 16) = 3125 blocks each, every block 1000 x 1000 people-iterations at NS_PER_PERSON[1000] ns on
    one calibration core, slowed to VCPU_SPEED per vCPU."""
    planned = cost.plan("ml.c5.4xlarge", 2, people=1000, iterations=100_000_000, local_cores=2)
    block = 1000 * 1000 * throughput.NS_PER_PERSON[1000] * 1e-9
    assert planned["compute_seconds_per_host"] == pytest.approx(3125 * block / cost.VCPU_SPEED)
    assert planned["startup_seconds"] == cost.JOB_STARTUP_SECONDS
    job_seconds = cost.JOB_STARTUP_SECONDS + 3125 * block / cost.VCPU_SPEED + throughput.LOCAL_STARTUP_SECONDS
    assert planned["predicted_seconds"] == pytest.approx(job_seconds)
    assert planned["usd"] == pytest.approx(round(2 * job_seconds / 3600 * cost.PRICES["ml.c5.4xlarge"], 4))
    # locally: 1000 blocks over 2 cores at full speed, after the local start-up
    assert planned["local_seconds"] == pytest.approx(50_000 * block + throughput.LOCAL_STARTUP_SECONDS)
    assert planned["local_faster"] is False
    assert "the job is" in planned["text"]


def test_small_workloads_are_faster_here_and_the_text_says_so():
    planned = cost.plan("ml.c5.xlarge", 1, people=1000, iterations=10_000)
    assert planned["local_faster"] is True
    assert planned["local_seconds"] < planned["predicted_seconds"]
    assert "faster here: run it locally" in planned["text"]


def test_larger_n_costs_more_per_person_and_a_radius_beyond_the_cell_costs_more_still():
    per_person = [throughput.ns_per_person(p) for p in (_square(1000), _square(100_000), _square(1_000_000))]
    assert per_person == sorted(per_person)
    wide = throughput.ns_per_person(_square(1000, radius=45.0))
    assert wide > per_person[0]


def test_unknown_instance_type_is_said_and_local_still_predicted():
    planned = cost.plan("ml.unknown", 1, people=1000, iterations=1000)
    assert planned["predicted_seconds"] is None
    assert planned["usd"] is None
    assert planned["local_seconds"] > 0
    assert planned["text"].startswith("unknown: ml.unknown")


def test_cost_cli_json_has_the_prediction_keys(aws, capsys):
    assert (
        main(["cost", "--instance-type", "ml.c5.4xlarge", "--people", "1000", "--iterations", "100000", "--json"]) == 0
    )
    planned = json.loads(capsys.readouterr().out)
    for key in ("predicted_seconds", "usd", "local_seconds", "compute_seconds_per_host", "startup_seconds"):
        assert isinstance(planned[key], float), key
    assert isinstance(planned["local_faster"], bool)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--people", "1"], "people must be at least 2"),
        (["--iterations", "0"], "iterations must be"),
        (["--people", "100", "--hours", "2"], "--hours/--minutes price instance-hours"),
        (["--radius", "nan", "--people", "10"], "radius"),
    ],
)
def test_cost_cli_bad_workloads_are_one_line(aws, capsys, args, message):
    assert main(["cost", "--instance-type", "ml.c5.xlarge", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert message in err


def test_submit_prints_the_plan_before_creating_the_job(aws, capsys):
    assert main(["submit", "--iterations", "1000", "--people", "500"]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("seed ")  # an unseeded submission's first line (tests/client/test_caller_hints.py)
    assert lines[1].startswith("plan: 1 x ml.c5.xlarge (4 vCPUs each): ~")
    assert lines[2].startswith("submitted ")


def _square(people: int, radius: float = 6.0):
    from simulation.engine import Params

    side = 1000.0 * math.sqrt(people / 1000)
    return Params(side, side, people, radius)
