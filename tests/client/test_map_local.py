"""simjobs::job_lapply(local = TRUE) driven by Rscript: the local Processing emulation, real R, no AWS.

The contract is checked against independent derivations: future.apply's own future_lapply(future.seed = ) under
plan(sequential) for the random numbers (bit for bit, for any number of hosts, cores and blocks), and base R's
lapply for the values of functions without randomness.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simulation.job import layout

pytestmark = pytest.mark.r


def run_r(library: Path, code: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    script = cwd / "driver.R"
    script.write_text("suppressPackageStartupMessages({library(simjobs); library(future.apply)})\n" + code)
    env = {
        **os.environ,
        "R_LIBS": str(library),
        "RETICULATE_PYTHON": sys.executable,
        # nothing here may reach AWS
        "AWS_CONFIG_FILE": str(cwd / "absent"),
        "AWS_SHARED_CREDENTIALS_FILE": str(cwd / "absent"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    return subprocess.run(
        ["Rscript", str(script)], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def ok(done: subprocess.CompletedProcess[str]) -> list[str]:
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    return done.stdout.splitlines()


def local_jobs(cwd: Path) -> list[Path]:
    root = cwd / "out" / "local-map"
    return sorted(root.iterdir()) if root.is_dir() else []


def test_values_equal_future_lapply_bit_for_bit_whatever_the_hosts_cores_and_blocks(r_library, tmp_path):
    lines = ok(
        run_r(
            r_library,
            """
draw <- function(i, sd) c(i = i, u = runif(1), z = rnorm(1, sd = sd), s = sample.int(1000L, 1L))
X <- setNames(as.list(1:23), paste0("e", 1:23))
plan(sequential)
set.seed(99); expected <- future_lapply(X, draw, sd = 2, future.seed = 42); after_future <- .Random.seed
runs <- list(
  one_host = list(instance_count = 1),
  two_hosts = list(instance_count = 2),
  three_hosts_single_elements = list(instance_count = 3, block_size = 1),
  uneven_blocks = list(instance_count = 2, block_size = 5)
)
for (name in names(runs)) {
  set.seed(99)
  got <- do.call(job_lapply, c(list(X, draw, sd = 2, seed = 42, local = TRUE), runs[[name]]))
  cat(name, identical(got, expected), identical(.Random.seed, after_future), "\\n")
}
# an L'Ecuyer-CMRG seed of 7 integers is taken as future.apply takes it
RNGkind("L'Ecuyer-CMRG"); set.seed(5); lecuyer <- .Random.seed; RNGkind("Mersenne-Twister")
cat("lecuyer", identical(job_lapply(1:4, function(i) runif(1), seed = lecuyer, local = TRUE),
                         future_lapply(1:4, function(i) runif(1), future.seed = lecuyer)), "\\n")
# a session that never drew a number: the RNG kind and state left as future_lapply leaves them
rm(.Random.seed); RNGkind("Mersenne-Twister")
invisible(future_lapply(1:2, function(i) i, future.seed = 1)); kind_future <- RNGkind()
rm(.Random.seed); RNGkind("Mersenne-Twister")
invisible(job_lapply(1:2, function(i) i, seed = 1, local = TRUE))
cat("fresh-session", identical(RNGkind(), kind_future), "\\n")
""",
            tmp_path,
        )
    )
    assert lines == [
        "one_host TRUE TRUE ",
        "two_hosts TRUE TRUE ",
        "three_hosts_single_elements TRUE TRUE ",
        "uneven_blocks TRUE TRUE ",
        "lecuyer TRUE ",
        "fresh-session TRUE ",
    ]
    plans = {
        json.loads((job / "code" / layout.MAP_SPEC_FILE).read_text())["block_size"] for job in local_jobs(tmp_path)
    }
    assert {1, 5} <= plans  # the runs did use different block plans


def test_a_drawn_seed_is_printed_returned_and_gives_the_same_values_again(r_library, tmp_path):
    done = run_r(
        r_library,
        """
x <- job_lapply(1:5, function(i) rnorm(1), local = TRUE)
seed <- attr(x, "seed")
again <- job_lapply(1:5, function(i) rnorm(1), seed = seed, local = TRUE)
cat(is.integer(seed), identical(unclass(unlist(x)), unlist(again)), is.null(attr(again, "seed")), "\\n")
cat(seed, "\\n")
""",
        tmp_path,
    )
    first, seed = ok(done)
    assert first == "TRUE TRUE TRUE "
    assert f"job_lapply: seed {seed.strip()} (pass seed = {seed.strip()} to get these results again)" in done.stderr


def test_globals_and_packages_of_fun_are_found_and_shipped(r_library, tmp_path):
    lines = ok(
        run_r(
            r_library,
            """
offset <- 100
helper <- function(x) x + offset              # a global function using a global
scale_of <- function() stats::sd(c(2, 4))      # pkg::fun
FUN <- function(i) helper(i) * scale_of() + median(c(i, i))
got <- job_lapply(1:3, FUN, seed = 1, local = TRUE, instance_count = 2)
cat(identical(got, lapply(1:3, FUN)), "\\n")
# a closure's own environment travels with it
make <- function(k) function(i) i * k
cat(identical(job_lapply(1:3, make(7), seed = 1, local = TRUE), list(7, 14, 21)), "\\n")
# extra arguments, and FUN by name
cat(identical(job_lapply(c(a = 4, b = 9), "sqrt", seed = 1, local = TRUE), list(a = 2, b = 3)), "\\n")
cat(identical(job_lapply(1:2, function(i, y) i + y, y = 10, seed = 1, local = TRUE), list(11, 12)), "\\n")
""",
            tmp_path,
        )
    )
    assert lines == ["TRUE "] * 4


def test_failed_elements_stop_with_one_line_or_are_kept_and_nothing_is_lost(r_library, tmp_path):
    done = run_r(
        r_library,
        """
f <- function(i) { if (i == 3) stop("three\\nfailed"); if (i == 5) quit("no"); i * 2 }
kept <- job_lapply(1:6, f, seed = 1, local = TRUE, instance_count = 2, errors = "keep")
print(attr(kept, "failed"))
cat(unlist(kept[-c(3, 5)]), inherits(kept[[3]], "simjobs_element_error"), kept[[3]]$element, "\\n")
message("---")
job_lapply(1:6, f, seed = 1, local = TRUE, instance_count = 2)
""",
        tmp_path,
    )
    assert done.returncode == 1
    out = done.stdout.splitlines()
    assert out[:3] == [
        "  element                                                           message",
        "1       3                                                     three\\nfailed",
        "2       5 the element called quit(); a map element cannot end its R process",
    ]
    assert out[-1] == "2 4 8 12 TRUE 3 "
    error = done.stderr.split("---\n", 1)[1].strip().splitlines()
    job = local_jobs(tmp_path)[-1]
    assert error[-2:] == [
        "Error: element 3 failed: three failed (and 1 more failed elements); the other values are kept: "
        f'job_results("{job}", errors = "keep")',
        "Execution halted",
    ]
    # and they are: from the folder the error names
    again = ok(
        run_r(r_library, f'x <- job_results("{job}", errors = "keep"); cat(unlist(x[c(1, 2, 4, 6)]), "\\n")', tmp_path)
    )
    assert again == ["2 4 8 12 "]
    # the shell shows the same folder's progress and failures, and runs it again (nothing left to compute)
    shown = subprocess.run(
        [sys.executable, "-m", "simulation", "results", str(job)], capture_output=True, text=True, check=False
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines() == [
        f"{job}: map of 6 elements, 6 done (complete), 2 failed, seed 1",
        "  element 3: three failed",
        "  element 5: the element called quit(); a map element cannot end its R process",
    ]
    rerun = subprocess.run(
        [sys.executable, "-m", "simulation", "local-job", "--map", str(job), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert (summary["complete"], summary["hosts"], len(summary["failed"])) == (True, {"algo-1": 3, "algo-2": 3}, 2)
    assert "(3 already done)" in rerun.stderr  # every block of the folder is taken, none computed again


def test_an_interrupted_local_job_resumes_computing_only_the_missing_blocks(r_library, tmp_path):
    started = ok(
        run_r(
            r_library,
            """
slow <- function(i) { Sys.sleep(0.3); i + runif(1) }
job <- job_lapply(1:12, slow, seed = 3, local = TRUE, instance_count = 2, block_size = 1, wait = FALSE)
cat(job, "\\n")
""",
            tmp_path,
        )
    )
    job = Path(started[0].strip())
    state = json.loads((job / "local.json").read_text())
    assert state["status"] == "running"
    deadline = time.monotonic() + 120
    while len(list((job / ".staging").glob("*/processing/output/blocks/block-*.json"))) < 3:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    os.killpg(state["pid"], signal.SIGKILL)  # the whole local job at once: no handler runs
    time.sleep(0.5)
    finished = {
        path.name: path.stat().st_mtime_ns
        for path in (job / ".staging").glob("*/processing/output/blocks/block-*.json")
    }
    assert 3 <= len(finished) < 12
    lines = ok(
        run_r(
            r_library,
            f"""
cat(job_status("{job}")$status, "\\n")
cat(resume_job("{job}", wait = TRUE), "\\n")
x <- job_results("{job}")
slow <- function(i) {{ Sys.sleep(0.3); i + runif(1) }}
cat(identical(x, future_lapply(1:12, slow, future.seed = 3)), "\\n")
""",
            tmp_path,
        )
    )
    assert lines == ["Failed ", f"{job} ", "TRUE "]
    hosts = [json.loads(p.read_text()) for p in sorted((job / "output" / "hosts").glob("*.json"))]
    assert sum(len(h["blocks_done"]) for h in hosts) == 12
    # the killed run's finished blocks are the very files it wrote (taken over, not computed again)
    blocks = job / "output" / "blocks"
    assert {name: (blocks / name).stat().st_mtime_ns for name in finished} == finished


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("job_lapply(1:3, 42)", "FUN must be a function or the name of one, not a numeric (42)"),
        ('job_lapply(1:3, "no_such_function_anywhere")', "FUN must be a function or the name of one, not a character"),
        (
            "con <- file(tempfile(), 'w'); job_lapply(1:3, function(i) writeLines('x', con), local = TRUE)",
            "global 'con' of FUN is or holds a connection or another pointer into this R session (externalptr), "
            "which cannot be shipped to a job; open it inside FUN instead",
        ),
        (
            "options(simjobs.globals.maxSize = 1e6); big <- runif(2e5); "
            "job_lapply(1:3, function(i) big[i], local = TRUE)",
            "FUN, its globals and X take 1.5 MiB, more than the 976.6 KiB a job ships (largest: 'big', 1.5 MiB); "
            "raise options(simjobs.globals.maxSize) or ship less",
        ),
        (
            "job_lapply(1:3, function(i) simjobsNoSuchPackage::f(i), local = TRUE)",
            "R package 'simjobsNoSuchPackage' is not installed in this R; install it with "
            'install.packages(c("simjobsNoSuchPackage"))',
        ),
        (
            "job_lapply(1:3, sqrt, seed = 1.5, local = TRUE)",
            "seed must be NULL, a whole number (as set.seed() takes) or a L'Ecuyer-CMRG seed of 7 integers",
        ),
        ('job_lapply(1:3, sqrt, errors = "ignore", local = TRUE)', "'arg' should be one of "),
        (
            "job_lapply(1:3, sqrt, container = 'img')",
            "container = runs an emulated host in an image on this machine: it needs local = TRUE",
        ),
    ],
)
def test_bad_input_is_one_line_before_anything_is_created(r_library, tmp_path, code, message):
    done = run_r(r_library, code + "\n", tmp_path)
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.startswith("Error")]
    assert len(lines) == 1, done.stderr
    assert message in lines[0]
    assert local_jobs(tmp_path) == []


def test_an_empty_x_is_an_empty_list_without_a_job_or_a_seed(r_library, tmp_path):
    lines = ok(
        run_r(
            r_library,
            """
set.seed(1); before <- .Random.seed
cat(identical(job_lapply(list(), sqrt), list()), identical(job_lapply(integer(0), sqrt, local = TRUE), list()),
    identical(.Random.seed, before), "\\n")
""",
            tmp_path,
        )
    )
    assert lines == ["TRUE TRUE TRUE "]
    assert local_jobs(tmp_path) == []
