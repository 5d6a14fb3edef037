"""plan(simjobs::sagemaker_local): the future backend through the local Processing emulation, against the reference
backend plan(sequential) on the checks future.tests makes (future_conformance.R), plus furrr and batching.

future.tests and doFuture are on CRAN only, which this machine cannot reach: the conformance checks are written out
in future_conformance.R instead, and foreach code is covered through doFuture nowhere (docs/r.md says so).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.client.test_map_local import local_jobs, ok, run_r

pytestmark = pytest.mark.r
CONFORMANCE = Path(__file__).with_name("future_conformance.R")


def test_every_conformance_check_observes_what_sequential_gives(r_library, tmp_path):
    done = subprocess.run(
        ["Rscript", str(CONFORMANCE), "simjobs::sagemaker_local", "workers = 2, instance_count = 2"],
        cwd=tmp_path,
        env={**os.environ, "R_LIBS": str(r_library), "RETICULATE_PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = [line.rstrip() for line in done.stdout.splitlines()]
    failed = [line for line in results if not line.endswith(" TRUE")]
    assert failed == []
    assert len(results) == 28


def test_furrr_with_seeds_equals_sequential_and_one_call_is_one_job(r_library, tmp_path):
    lines = ok(
        run_r(
            r_library,
            """
library(furrr)
plan(sequential)
ref <- future_map_dbl(1:7, ~ .x + rnorm(1), .options = furrr_options(seed = 123))
plan(simjobs::sagemaker_local, workers = 3, instance_count = 2)
got <- future_map_dbl(1:7, ~ .x + rnorm(1), .options = furrr_options(seed = 123))
cat(identical(ref, got), nbrOfWorkers(), "\\n")
""",
            tmp_path,
        )
    )
    assert lines == ["TRUE 3 "]
    assert len(local_jobs(tmp_path)) == 1  # furrr made 3 futures (one per worker): one batch, one job


def test_a_batch_waits_until_full_or_asked_and_resolved_does_not_block(r_library, tmp_path):
    lines = ok(
        run_r(
            r_library,
            """
plan(simjobs::sagemaker_local, workers = 3)
a <- future({ Sys.sleep(4); 1 })
b <- future(2)
cat(is.null(a$batch), nbrOfFreeWorkers(), "\\n")     # queued: two of three places taken
cat(resolved(a), "\\n")                             # asking submits the batch, and does not wait for it
cat(identical(a$batch, b$batch), value(b) + value(a), "\\n")
c <- lapply(1:3, function(i) future(i))             # a full batch is submitted at once
cat(!is.null(c[[1]]$batch), identical(c[[1]]$batch, c[[3]]$batch), "\\n")
""",
            tmp_path,
        )
    )
    assert lines == ["TRUE 1 ", "FALSE ", "TRUE 3 ", "TRUE TRUE "]
    assert len(local_jobs(tmp_path)) == 2


def test_a_future_whose_host_dies_is_a_future_error_naming_the_job(r_library, tmp_path):
    lines = ok(
        run_r(
            r_library,
            """
plan(simjobs::sagemaker_local, workers = 2)
f <- future(tools::pskill(Sys.getpid(), 9L))
g <- future(5)
e <- tryCatch(value(f), error = identity)
cat(class(e)[1], grepl("could not be evaluated on its host: the element ended its R process", conditionMessage(e)),
    value(g), "\\n")
""",
            tmp_path,
        )
    )
    assert lines == ["FutureError TRUE 5 "]
