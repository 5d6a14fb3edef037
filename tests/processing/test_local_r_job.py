"""`local-job --r-script`: a user's R script as the `rscript` entrypoint of N emulated hosts (real Rscript), their
outputs gathered as the job's S3 prefix would hold them; bad inputs one line and a non-zero exit."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("Rscript") is None, reason="needs R: apt-get install r-base-core")

# Each host writes what it was told: its index, the host list, its arguments and a value read from the shipped
# folder; files named by host, as the README asks, so no two hosts write one name.
PER_HOST = r"""
args <- commandArgs(trailingOnly = TRUE)
stopifnot(args[1] == "--args")
scale <- as.numeric(readLines(file.path("data", "scale.txt")))
index <- as.integer(Sys.getenv("HOST_INDEX"))
value <- scale * sum(as.numeric(args[-1])) + index
writeLines(c(Sys.getenv("CURRENT_HOST"), Sys.getenv("HOSTS"), format(value), getwd() == normalizePath(".")),
           file.path(Sys.getenv("OUTPUT_DIR"), paste0("part-", index, ".txt")))
"""


def local_job(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simulation", "local-job", *args],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    code = tmp_path / "my_sim"
    (code / "data").mkdir(parents=True)
    (code / "main.R").write_text(PER_HOST)
    (code / "data" / "scale.txt").write_text("10\n")
    (code / ".Rhistory").write_text("secret <- 1\n")  # hidden: never shipped, as with submit --r-script
    return code


def test_each_host_runs_the_script_with_the_jobs_environment_and_outputs_are_gathered(folder, tmp_path):
    done = local_job(
        "--r-script",
        str(folder / "main.R"),
        "--hosts",
        "2",
        "--output",
        "out",
        "--json",
        "--",
        "1",
        "2.5",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["files"] == ["part-0.txt", "part-1.txt"]
    assert result["hosts"] == 2
    assert result["mean"] is None  # the script wrote no output_result_mean.txt
    out = tmp_path / "out"
    # 10 * (1 + 2.5) + HOST_INDEX, by hand
    assert (out / "part-0.txt").read_text().splitlines() == ["algo-1", "algo-1,algo-2", "35", "TRUE"]
    assert (out / "part-1.txt").read_text().splitlines() == ["algo-2", "algo-1,algo-2", "36", "TRUE"]


def test_a_script_in_a_subfolder_with_folder_and_its_mean_file(tmp_path):
    code = tmp_path / "project"
    (code / "scripts").mkdir(parents=True)
    (code / "inputs.csv").write_text("x\n1\n2\n3\n4\n")
    (code / "scripts" / "mean.R").write_text(
        'x <- read.csv("inputs.csv")$x\n'
        'writeLines(format(mean(x) * as.numeric(commandArgs(TRUE)[2])), file.path(Sys.getenv("OUTPUT_DIR"), '
        '"output_result_mean.txt"))\n'
    )
    done = local_job(
        "--r-script", "scripts/mean.R", "--folder", str(code), "--hosts", "1", "--output", "o", "--", "4", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "output_result_mean.txt: 10.0"  # mean(1..4) * 4 = 10
    assert (tmp_path / "o" / "output_result_mean.txt").read_text() == "10\n"


def test_two_hosts_writing_one_name_differently_is_one_line_and_exit_1(tmp_path):
    code = tmp_path / "s"
    code.mkdir()
    (code / "main.R").write_text(
        'writeLines(Sys.getenv("CURRENT_HOST"), file.path(Sys.getenv("OUTPUT_DIR"), "output_result_mean.txt"))\n'
    )
    done = local_job("--r-script", str(code / "main.R"), "--hosts", "2", "--output", "o", cwd=tmp_path)
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:") or "Traceback" in line]
    assert errors == [
        "error: hosts algo-1 and algo-2 both wrote output_result_mean.txt with different content; "
        "name each host's files by CURRENT_HOST or HOST_INDEX (R/examples/own_script/main.R writes "
        "iterations/<CURRENT_HOST>.csv)"
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--r-script", "nope.R"], "error: R script nope.R does not exist"),
        (
            ["--r-script", "s/main.R", "--people", "5"],
            "error: local-job: --people is for the bundled simulation, not --r-script",
        ),
        (["--folder", "s"], "error: local-job: --folder needs --r-script"),
        (["--r-script", "s/main.R", "--folder", "elsewhere"], "error: folder elsewhere does not exist"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, message):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "main.R").write_text("1\n")
    done = local_job(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [message]


def test_a_failing_script_names_the_host_and_rs_error(tmp_path):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "main.R").write_text('stop("no data for this host")\n')
    done = local_job("--r-script", "s/main.R", "--hosts", "1", "--output", "o", cwd=tmp_path)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: local R-script job did not finish (algo-1 exited with 1: Rscript main.R exited")
    assert "no data for this host" in last
