"""docs/bad-input.md, row by row: each input given to the code that reads it must produce exactly the row's line."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "bad-input.md"
AREAS = ("context", "deploy region", "cli", "r", "job config", "resourceconfig", "s3 layout", "job output")


def _cell(text: str) -> str:
    text = text.strip()
    return text[1:-1] if text.startswith("`") and text.endswith("`") else text


def rows() -> list[tuple[str, str, str]]:
    found = []
    for line in DOC.read_text().splitlines():
        cells = line.split(" | ")
        if len(cells) == 3 and cells[0].lstrip("| ").strip() in AREAS:
            found.append((cells[0].lstrip("| ").strip(), _cell(cells[1]), _cell(cells[2].rstrip(" |"))))
    return found


ROWS = rows()


def test_the_matrix_covers_every_area():
    assert {area for area, _, _ in ROWS} == set(AREAS)
    assert len(ROWS) >= 35


def _line(kind: str, given: str, tmp_path: Path, good_output: Path, map_job: str = "") -> str:
    if kind == "context":
        from stacks.settings import Settings, SettingsError

        # One key=value, or several separated by spaces (keys that are only wrong together).
        context = dict(pair.partition("=")[::2] for pair in given.split(" "))
        with pytest.raises(SettingsError) as caught:
            Settings.from_context(context)
        return f"error: {caught.value}"
    if kind == "deploy region":
        env = {
            **os.environ,
            "CDK_DEFAULT_REGION": given,
            "CDK_CONTEXT_JSON": json.dumps({"rstudio_mode": "sagemaker"}),
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        }
        result = subprocess.run(
            [sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 2, result.stderr[-2000:]
        (line,) = result.stderr.strip().splitlines()
        return line
    if kind == "cli":
        words = [map_job if word == "<job>" else word for word in given.split()]
        result = subprocess.run(
            [sys.executable, "-m", "simulation", *words], capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 2, result.stdout
        (line,) = result.stderr.strip().splitlines()
        return line.replace(map_job, "<job>") if map_job else line
    if kind in ("job config", "resourceconfig"):
        from simulation.client.config import parse_config
        from simulation.errors import SimulationError
        from simulation.job.hosts import parse_cluster

        text = given
        if kind == "job config" and given.startswith("{") and "subnet_ids" in given:
            text = json.dumps({"platform": "simlab", "region": "eu-west-1", **json.loads(given)})

        def read() -> object:
            if kind == "job config":
                return parse_config("simlab", text)
            return parse_cluster(text, "/opt/ml/config/resourceconfig.json")

        with pytest.raises(SimulationError) as caught:
            read()
        return f"error: {caught.value}"
    if kind == "s3 layout":
        return _s3_line(given, tmp_path)
    return _tampered_line(given, tmp_path, good_output)


def _s3_line(key: str, tmp_path: Path) -> str:
    """A listing that names `key` (S3 allows '..' in keys; botocore would normalise it on the way to moto, so the
    listing is given directly): the download must refuse it before writing anything."""
    from simulation.client import aws, results
    from simulation.client.config import JobConfig
    from simulation.errors import SimulationError

    class Listing:
        def get_paginator(self, _name: str) -> Listing:
            return self

        def paginate(self, **_: object) -> list[dict[str, object]]:
            return [{"Contents": [{"Key": key}]}]

        def download_file(self, *_: object) -> None:
            raise AssertionError("downloaded a key outside the prefix")

    config = JobConfig("simlab", "eu-west-1", "i", "r", "b", ("s",), ("g",), ("ml.c5.xlarge",), "ml.c5.xlarge", 1, 60)
    original = aws.client
    aws.client = lambda *_args, **_kw: Listing()  # type: ignore[assignment]
    try:
        with pytest.raises(SimulationError) as caught:
            results.download_prefix(config, "jobs/sim-1/output/", tmp_path / "dest")
    finally:
        aws.client = original  # type: ignore[assignment]
    return f"error: {caught.value}"


def _tampered_line(case: str, tmp_path: Path, good_output: Path) -> str:
    from tests.processing.test_tampered_output import CASES

    directory = tmp_path / "out"
    if case == "output path that is a file":
        directory.write_text("")
    else:
        shutil.copytree(good_output, directory)
        CASES[case][0](directory)
    result = subprocess.run(
        [sys.executable, "-m", "simulation", "merge", str(directory)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    return line.replace(str(directory), "<out>")


@pytest.fixture(scope="module")
def good_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from simulation.engine import Params
    from simulation.job.local_job import run_local_job
    from tests.processing.test_tampered_output import PEOPLE

    output = tmp_path_factory.mktemp("good") / "out"
    run_local_job(Params(100.0, 100.0, PEOPLE, 5.0), 120_000, 3, hosts=2, output=output)
    return output


@pytest.fixture(scope="module")
def map_job(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A local map job's folder as R's job_lapply(local = TRUE) leaves it before it runs (`<job>` in the rows)."""
    from simulation.job import layout, map_records

    job = tmp_path_factory.mktemp("map") / "job"
    code = job / layout.CODE_PART
    code.mkdir(parents=True)
    (code / layout.MAP_PAYLOAD_FILE).write_bytes(b"a payload")
    (code / layout.MAP_RUNNER_FILE).write_text("# the runner\n")
    map_records.write_spec(code, elements=3, mode="lapply", seed="1", block_size=None, cores=1)
    return str(job)


def _needs_an_engine(given: str) -> None:
    if "no/such:image" in given and shutil.which("podman") is None:
        pytest.skip("the row's line is podman's: apt-get install podman")


@pytest.fixture(scope="module")
def r_lines(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Every R row's input run in one R session (simjobs installed into a temporary library), as R prints an
    uncaught error: `Error: <message>`. No AWS region, credentials or endpoint: nothing may reach AWS."""
    work = tmp_path_factory.mktemp("r-rows")
    installed = subprocess.run(
        ["R", "CMD", "INSTALL", "--no-test-load", "-l", str(work), str(ROOT / "R" / "simjobs")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr
    inputs = [given for kind, given, _ in ROWS if kind == "r"]
    script = ["suppressPackageStartupMessages(library(simjobs))"]
    for given in inputs:
        script.append(
            f"cat(tryCatch({{ {given}; 'no error' }}, error = function(e) paste('Error:', conditionMessage(e))), '\\n')"
        )
    (work / "rows.R").write_text("\n".join(script) + "\n")
    outside = ("AWS_", "SIMLAB_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(outside)}
    env.update(
        R_LIBS=str(work),
        RETICULATE_PYTHON=sys.executable,
        AWS_CONFIG_FILE=str(work / "absent"),
        AWS_SHARED_CREDENTIALS_FILE=str(work / "absent"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    done = subprocess.run(
        ["Rscript", "rows.R"], cwd=work, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    # a local map job's folder (out/local-map/<name>, under the session's working folder) is `<job>` in the rows
    lines = [re.sub(r'"/[^"]*/out/local-map/[^"/]+"', '"<job>"', line.strip()) for line in done.stdout.splitlines()]
    assert len(lines) == len(inputs), done.stdout
    return dict(zip(inputs, lines, strict=True))


def _params() -> list[object]:
    return [
        pytest.param(kind, given, line, id=f"{kind}: {given[:40]}", marks=[pytest.mark.r] if kind == "r" else [])
        for kind, given, line in ROWS
    ]


@pytest.mark.parametrize(("kind", "given", "line"), _params())
def test_each_row_is_what_the_code_says(kind, given, line, tmp_path, good_output, monkeypatch, request):
    _needs_an_engine(given)
    if kind == "r":
        assert request.getfixturevalue("r_lines")[given] == line
        return
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    map_job = request.getfixturevalue("map_job") if "<job>" in given else ""
    assert _line(kind, given, tmp_path, good_output, map_job) == line
