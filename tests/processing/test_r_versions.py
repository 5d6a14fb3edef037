"""The job image's R and what users meet of it: the version the code states is the Dockerfile's pin, a folder whose
packages were built for another R minor version is warned about, and local-job says when this machine's R is not
the job's."""

from __future__ import annotations

import json
import re
from pathlib import Path

from simulation.job import local_script
from simulation.job.script_folder import JOB_IMAGE_R, code_files, r_version_warnings

ROOT = Path(__file__).resolve().parents[2]


def test_the_stated_job_r_is_the_dockerfiles_pin():
    pin = re.search(r"r-base-core=([0-9.]+)\*", (ROOT / "container" / "Dockerfile").read_text())
    assert pin is not None
    assert pin.group(1) == JOB_IMAGE_R


def _folder(tmp_path: Path, built: dict[str, str], lock: str | None = None) -> Path:
    folder = tmp_path / "my_sim"
    folder.mkdir()
    (folder / "main.R").write_text("1\n")
    for name, version in built.items():
        (folder / "renv" / "library" / name).mkdir(parents=True)
        (folder / "renv" / "library" / name / "DESCRIPTION").write_text(
            f"Package: {name}\nBuilt: R {version}; x86_64-pc-linux-gnu; 2025-06-01; unix\n"
        )
    if lock is not None:
        (folder / "renv.lock").write_text(json.dumps({"R": {"Version": lock, "Repositories": []}}))
    return folder


def test_packages_and_lockfile_of_another_minor_version_are_named(tmp_path):
    folder = _folder(tmp_path, {"data.table": "4.5.1", "Rcpp": "4.5.0", "jsonlite": "4.2.3"}, lock="4.5.1")
    lines = r_version_warnings(code_files(folder), folder, job_r="4.2.2")
    assert lines == [
        "renv.lock records R 4.5.1; jobs run R 4.2.2: restore the library for R 4.2 (or build an image with the "
        "packages: python -m simulation image build --r-packages ...)",
        f"2 package(s) in {folder} were built for R 4.5 (Rcpp, data.table); jobs run R 4.2.2, where they may fail to "
        "load: build an image with them (python -m simulation image build --r-packages ...) or ship their sources",
    ]


def test_a_patch_release_is_the_same_r(tmp_path):
    folder = _folder(tmp_path, {"jsonlite": "4.2.3"}, lock="4.2.0")
    assert r_version_warnings(code_files(folder), folder, job_r="4.2.2") == []


def test_local_job_says_when_this_machines_r_is_not_the_jobs(tmp_path, monkeypatch):
    folder = _folder(tmp_path, {})
    monkeypatch.setattr(local_script.records, "r_version", lambda: "4.5.1")
    notes = local_script.r_notes(code_files(folder), folder, container=None)
    assert notes == [
        f"this machine's R 4.5.1 ran the script; jobs run R {JOB_IMAGE_R} (the job image): try it there with "
        "--container"
    ]
    assert local_script.r_notes(code_files(folder), folder, container="img") == []  # the image's own R ran
