"""The same outputs on every path: a local job, `merge` of its folder and `results` of the same blocks as a
SageMaker job (moto + the captured request run on this machine) write the same files, the per-iteration CSV
byte for byte; an R script's hosts' files become those outputs too; and submit_r_script warns when the folder's
packages were built for another R than the job image's."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from simulation.cli import main
from simulation.client import job_results, submit_r_script, submit_simulation
from simulation.job import local_script
from simulation.job.script_folder import JOB_IMAGE_R
from tests.client.helpers import PARAMS, ROOT, rscript, run_local_job

OUTPUTS = ["histogram.png", "iterations.csv", "output_result_mean.txt", "summary.json"]
EXAMPLE = ROOT / "R" / "examples" / "own_script" / "main.R"


def test_local_job_merge_and_results_write_the_same_outputs(aws, emulate, tmp_path, capsys):
    local = tmp_path / "local"
    printed = run_local_job(local, hosts=2)
    raw = tmp_path / "raw"
    shutil.copytree(local, raw, ignore=shutil.ignore_patterns(*OUTPUTS))  # what a job's hosts upload
    assert main(["merge", str(raw)]) == 0
    job = submit_simulation(**PARAMS, resources={"instance_count": 2})
    emulate(aws, aws.recorder.request("CreateProcessingJob"), tmp_path / "hosts")
    fetched = tmp_path / "fetched"
    job_results(job, str(fetched))
    capsys.readouterr()
    for folder in (local, raw, fetched):  # beside run.json and the blocks in the job's own folders
        assert sorted(p.name for p in folder.iterdir() if p.is_file() and p.name != "run.json") == OUTPUTS, folder
        assert json.loads((folder / "summary.json").read_text())["mean"] == printed["mean"]
    csv = (local / "iterations.csv").read_text()
    assert csv.splitlines()[0] == "iteration,block,host,pair_count,violations_per_person"
    assert len(csv.splitlines()) == PARAMS["iterations"] + 1
    assert (raw / "iterations.csv").read_text() == csv
    assert (fetched / "iterations.csv").read_text() == csv
    assert float((fetched / "output_result_mean.txt").read_text()) == printed["mean"]


@pytest.mark.r
def test_the_r_example_as_a_two_host_job_gives_what_local_job_gives(aws, emulate, tmp_path):
    args = ["1000", "1000", "200", "12"]
    job = submit_r_script(str(EXAMPLE), args=args, resources={"instance_count": 2})
    emulate(aws, aws.recorder.request("CreateProcessingJob"), tmp_path / "hosts")
    summary = job_results(job, str(tmp_path / "r"))
    assert summary["iterations"] == 12
    assert summary["hosts"] == ["algo-1", "algo-2"]
    assert summary["files"] == ["iterations/algo-1.csv", "iterations/algo-2.csv"]
    local = local_script.run_local_r_script(str(EXAMPLE), None, args, hosts=2, output=tmp_path / "local")
    assert local.summary is not None
    assert local.summary["mean"] == summary["mean"]
    assert (tmp_path / "r" / "iterations.csv").read_text() == (tmp_path / "local" / "iterations.csv").read_text()
    assert (tmp_path / "r" / "histogram.png").is_file()


def _package(library: Path, name: str, built: str) -> None:
    (library / name).mkdir(parents=True)
    (library / name / "DESCRIPTION").write_text(
        f"Package: {name}\nVersion: 1.0\nBuilt: R {built}; x86_64-pc-linux-gnu; 2025-06-01 10:00:00 UTC; unix\n"
    )


def test_submit_r_script_warns_about_packages_built_for_another_r(aws, tmp_path, capsys):
    folder = tmp_path / "my_sim"
    folder.mkdir()
    (folder / "main.R").write_text("library(fastthing, lib.loc = 'lib')\n")
    _package(folder / "lib", "fastthing", "4.5.1")
    _package(folder / "lib", "samething", JOB_IMAGE_R)  # the job's own minor version: fine
    submit_r_script(str(folder / "main.R"))
    err = capsys.readouterr().err
    warnings = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert warnings == [
        f"warning: 1 package(s) in {folder} were built for R 4.5 (fastthing); jobs run R {JOB_IMAGE_R}, where they "
        "may fail to load: build an image with them (python -m simulation image build --r-packages ...) or ship "
        "their sources"
    ]
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "main.R").write_text("1\n")
    (clean / "renv.lock").write_text(json.dumps({"R": {"Version": JOB_IMAGE_R}, "Packages": {}}))
    submit_r_script(str(clean / "main.R"))
    assert "warning:" not in capsys.readouterr().err


@pytest.mark.r
def test_r_users_see_the_r_version_warning(aws, r_library, tmp_path):
    folder = tmp_path / "my_sim"
    folder.mkdir()
    (folder / "main.R").write_text("1\n")
    _package(folder / "lib", "fastthing", "4.5.1")
    done = rscript(aws, r_library, f'job <- submit_r_script("{folder / "main.R"}")\ncat("job", job, "\\n")\n', tmp_path)
    assert done.returncode == 0, done.stderr
    said = done.stdout + done.stderr
    assert f"warning: 1 package(s) in {folder} were built for R 4.5 (fastthing); jobs run R {JOB_IMAGE_R}" in said
    assert "build an image with them (build_image(r_packages = ...)) or ship their sources" in said  # R's way
