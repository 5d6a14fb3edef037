"""results: a job's S3 output prefix, filled by a real local-job run or by the real entrypoint, merges to the
same numbers as the processing code's own merge, with summary.json (+ manifest) and a PNG."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from simulation.cli import main
from simulation.client import job_results, submit_r_script, submit_simulation
from simulation.job.merge import merge_output
from tests.client.helpers import PARAMS, ROOT, run_local_job


@pytest.fixture(scope="module")
def local_output(tmp_path_factory) -> tuple[Path, dict]:
    output = tmp_path_factory.mktemp("local-job") / "out"
    return output, run_local_job(output, hosts=3)


def test_results_of_a_prefix_filled_by_local_job_match_its_merge(aws, local_output, tmp_path, capsys):
    output, printed = local_output
    job = submit_simulation(**PARAMS)
    aws.upload_tree(output, f"jobs/{job}/output/")
    dest = tmp_path / "fetched"
    capsys.readouterr()
    assert main(["results", job, "--output", str(dest), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    reference = merge_output(output)
    for key in ("mean", "sd", "se", "ci95", "iterations", "people", "seed", "analytic_mean"):
        assert summary[key] == reference.summary[key], key
    assert summary["mean"] == printed["mean"]
    assert summary["hosts"] == ["algo-1", "algo-2", "algo-3"]
    assert summary["manifest"]["block_count"] == 3
    assert summary["job"] == job
    written = json.loads((dest / "summary.json").read_text())
    assert written["mean"] == reference.summary["mean"]
    assert "manifest" in written
    png = (dest / "histogram.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(png) > 5000
    # the downloaded prefix is the local-job folder, file for file
    local_files = sorted(p.relative_to(output).as_posix() for p in output.rglob("*") if p.is_file())
    fetched = sorted(p.relative_to(dest / "output").as_posix() for p in (dest / "output").rglob("*") if p.is_file())
    assert fetched == local_files


def test_a_two_host_job_run_from_the_captured_request_gives_the_same_mean(aws, emulate, local_output, tmp_path):
    _, printed = local_output
    job = submit_simulation(**PARAMS, resources={"instance_count": 2})
    emulate(aws, aws.recorder.request("CreateProcessingJob"), tmp_path / "hosts")
    summary = job_results(job, str(tmp_path / "r"))
    assert summary["mean"] == printed["mean"]
    assert summary["hosts"] == ["algo-1", "algo-2"]
    assert summary["manifest"]["image_tags"] == ["abc123"]  # the tag we put in the job's environment
    values = 2 * merge_output(tmp_path / "r" / "output").pair_counts / PARAMS["people"]
    assert np.isclose(values.mean(), summary["mean"], rtol=1e-12)


def test_results_print_the_mean_for_a_person(aws, local_output, capsys, tmp_path):
    output, printed = local_output
    job = submit_simulation(**PARAMS)
    aws.upload_tree(output, f"jobs/{job}/output/")
    capsys.readouterr()
    assert main(["results", job, "--output", str(tmp_path / "x")]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0] == f"{job}:"
    assert text.splitlines()[1].startswith(f"mean violations per person: {printed['mean']:.6f} (95% CI ")
    assert "; 2500 iterations of 100 people in 300 x 200, radius 6, seed 11" in text


@pytest.mark.r
def test_an_r_script_job_runs_and_its_mean_file_is_read(aws, emulate, tmp_path):
    code = tmp_path / "code"
    code.mkdir()
    (code / "main.R").write_text(
        "args <- commandArgs(trailingOnly = TRUE)\n"
        "n <- as.numeric(args[length(args)])\n"
        "writeLines(format(mean(seq_len(n)), nsmall = 1), file.path(Sys.getenv('OUTPUT_DIR'), "
        "'output_result_mean.txt'))\n"
    )
    job = submit_r_script(str(code / "main.R"), args=["--n", 9.0])
    emulate(aws, aws.recorder.request("CreateProcessingJob"), tmp_path / "hosts")
    summary = job_results(job, str(tmp_path / "r"))
    assert summary["mean"] == 5.0
    assert "output_result_mean.txt" in summary["files"]


def test_a_job_with_missing_blocks_names_them(aws, local_output, tmp_path, capsys):
    output, _ = local_output
    job = submit_simulation(**PARAMS)
    aws.upload_tree(output, f"jobs/{job}/output/")
    aws.client("s3").delete_object(Bucket=aws.bucket, Key=f"jobs/{job}/output/blocks/block-000001.json")
    capsys.readouterr()
    assert main(["results", job, "--output", str(tmp_path / "y")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "1 of 3 blocks missing (000001)" in err


def test_results_of_a_job_that_wrote_nothing(aws, capsys):
    job = submit_simulation(iterations=5)
    capsys.readouterr()
    assert main(["results", job]) == 2
    assert f"job {job} completed but wrote nothing" in capsys.readouterr().err


@pytest.mark.r
def test_the_own_script_example_runs_as_a_job(aws, emulate, tmp_path):
    example = ROOT / "R" / "examples" / "own_script" / "main.R"
    job = submit_r_script(str(example), args=[100, 100, 50, 20])
    emulate(aws, aws.recorder.request("CreateProcessingJob"), tmp_path / "hosts")
    summary = job_results(job, str(tmp_path / "r"))
    assert summary["files"] == ["iterations/algo-1.csv", "output_result_mean.txt"]
    # The script is unseeded, so no exact value; its expectation is known. 50 people in 100 x 100, radius 6:
    # p = (pi r^2 W H - 4/3 r^3 (W + H) + r^4 / 2) / (W H)^2 = 0.010740 (closed form for r <= min(W, H)), so
    # the mean violations per person is (N - 1) p = 0.5263. One iteration's value 2 * pairs / N has
    # pairs ~ 1225 p = 13.2 (sd about sqrt(13.2) = 3.6, nearly Poisson), so sd 0.15 and, over 20 iterations, se
    # 0.033: eight standard errors (0.27) is a bound a correct script misses with probability below 1e-12.
    p = (math.pi * 36 * 100 * 100 - 4 / 3 * 216 * 200 + 1296 / 2) / (100 * 100) ** 2
    assert p == pytest.approx(0.010740, abs=1e-6)
    assert abs(summary["mean"] - 49 * p) < 0.27
