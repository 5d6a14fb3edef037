"""sweep: one multi-host job or one job per point, run through the real entrypoint, give the same table."""

from __future__ import annotations

import csv
import json
import math

import pytest

from simulation.cli import main
from simulation.client import sweep
from simulation.errors import SimulationError

GRID = {"people": "100,200", "radius": "3,6", "width": 300, "height": 200, "iterations": 1500, "seed": 3}


def test_grid_accepts_strings_lists_and_r_doubles():
    assert sweep.parse_values("250, 500,1000,2000,500", "people", integer=True) == [250, 500, 1000, 2000]
    assert sweep.parse_values([3.0, 6.0], "people", integer=True) == [3, 6]
    assert sweep.parse_values(6, "radius") == [6.0]
    points = sweep.grid(1000, 1000, "250,500", [3, 6])
    assert [(p["people"], p["radius"]) for p in points] == [(250, 3.0), (250, 6.0), (500, 3.0), (500, 6.0)]
    with pytest.raises(SimulationError, match="people must be a whole number"):
        sweep.parse_values("250,2.5", "people", integer=True)
    with pytest.raises(SimulationError, match="radius must be a positive finite number"):
        sweep.grid(1000, 1000, 250, "3,-1")


def test_one_multi_host_job_and_one_job_per_point_give_the_same_table(aws, emulate, tmp_path, capsys):
    manifest = sweep.run_sweep(**GRID, mode="job", resources={"instance_count": 2})
    sent = aws.recorder.request("CreateProcessingJob")
    sweep_id = manifest["sweep"]
    assert manifest["jobs"] == [sweep_id]
    assert sent["ProcessingJobName"] == sweep_id
    assert sent["AppSpecification"]["ContainerArguments"] == [
        "sweep",
        "--spec",
        "/opt/ml/processing/input/config/sweep.json",
    ]
    assert sent["ProcessingInputs"][0]["S3Input"]["S3Uri"] == f"s3://{aws.bucket}/jobs/{sweep_id}/config/"
    assert sent["ProcessingInputs"][0]["S3Input"]["LocalPath"] == "/opt/ml/processing/input/config"
    assert {"Key": "sweep", "Value": sweep_id} in sent["Tags"]
    body = aws.client("s3").get_object(Bucket=aws.bucket, Key=f"jobs/{sweep_id}/config/sweep.json")["Body"].read()
    spec = json.loads(body)
    assert spec["seed"] == 3
    assert spec["iterations"] == 1500
    assert len(spec["points"]) == 4
    emulate(aws, sent, tmp_path / "one-job")

    capsys.readouterr()
    assert main(["results", sweep_id, "--output", str(tmp_path / "a"), "--json"]) == 0
    one_job = json.loads(capsys.readouterr().out)

    aws.recorder.clear()
    per_point = sweep.run_sweep(**GRID, mode="jobs")
    requests = [payload for _, name, payload in aws.recorder.calls if name == "CreateProcessingJob"]
    assert [r["ProcessingJobName"] for r in requests] == per_point["jobs"]
    assert [r["ProcessingJobName"][-5:] for r in requests] == ["-p000", "-p001", "-p002", "-p003"]
    for index, request in enumerate(requests):
        assert request["AppSpecification"]["ContainerArguments"][0] == "simulate"
        emulate(aws, request, tmp_path / f"point-{index}")
    capsys.readouterr()
    assert main(["results", per_point["sweep"], "--output", str(tmp_path / "b")]) == 0
    assert "people  radius       mean" in capsys.readouterr().out

    with (tmp_path / "b" / "sweep.csv").open() as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == 4
    for row, one in zip(table, one_job["rows"], strict=True):
        assert float(row["mean"]) == one["mean"]  # bit for bit, whatever the job layout
        people, radius = int(row["people"]), float(row["radius"])
        expected = (people - 1) * _close_pair_probability(300.0, 200.0, radius)
        assert float(row["analytic_mean"]) == pytest.approx(expected, rel=1e-12)
        # the simulation agrees with the known expectation (fixed seed: deterministic, not flaky)
        assert abs(float(row["mean"]) - expected) < 5 * float(row["se"])
        assert float(row["ci95_low"]) < float(row["mean"]) < float(row["ci95_high"])
    png = (tmp_path / "b" / "sweep.png").read_bytes()
    assert png[:4] == b"\x89PNG"
    assert len(png) > 10000


def test_a_bad_grid_point_stops_the_sweep_before_any_call(aws, capsys):
    assert main(["sweep", "--people", "100,1", "--radius", "6"]) == 2
    assert "people must be at least 2" in capsys.readouterr().err
    assert aws.recorder.operations() == []


def test_unknown_sweep_id_is_a_clear_error(aws, capsys):
    assert main(["results", "simlab-sweep-nothing"]) == 2
    assert "no processing job named 'simlab-sweep-nothing'" in capsys.readouterr().err


def _close_pair_probability(width: float, height: float, radius: float) -> float:
    """P(two uniform points of a W x H rectangle lie within r), closed form for r <= min(W, H): integrate
    the triangular densities 2 (W - u) / W^2 and 2 (H - v) / H^2 of the coordinate differences over the
    quarter disc u^2 + v^2 < r^2 (the classical result for a rectangle, e.g. Ghosh 1951), derived by hand."""
    w, h, r = width, height, radius
    return (math.pi * r * r * w * h - 4 / 3 * r**3 * (w + h) + r**4 / 2) / (w * w * h * h)
