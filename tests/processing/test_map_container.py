"""Map jobs in the real job image (podman, no network): job_lapply(local = TRUE, container = ) and a future batch run
there as on SageMaker, with the values of this machine's R; the R packages the client assumes of the bundled image
(`simulation.client.map.BUNDLED_R_PACKAGES`) are the ones the image has."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from simulation.client.map import BUNDLED_R_PACKAGES
from tests.processing.test_container import image  # noqa: F401  (the session's image fixture)

pytestmark = [pytest.mark.container, pytest.mark.r]
ROOT = Path(__file__).resolve().parents[2]
BASE_R = {
    "base", "compiler", "datasets", "graphics", "grDevices", "grid", "methods", "parallel", "splines", "stats",
    "stats4", "tcltk", "tools", "utils",
}  # fmt: skip


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("rlib")
    done = subprocess.run(
        ["R", "CMD", "INSTALL", "--no-test-load", "-l", str(target), str(ROOT / "R" / "simjobs")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return target


def test_the_images_r_packages_are_the_ones_the_client_assumes(image):  # noqa: F811
    done = subprocess.run(
        ["podman", "run", "--rm", "--network=none", "--entrypoint=Rscript", image, "-e",
         "cat(rownames(installed.packages()), sep = '\\n')"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert set(done.stdout.split()) - BASE_R == set(BUNDLED_R_PACKAGES)


def test_a_map_and_a_future_batch_in_the_image_equal_this_machines_values(image, library, tmp_path):  # noqa: F811
    script = tmp_path / "driver.R"
    script.write_text(
        f"""
suppressPackageStartupMessages({{library(simjobs); library(future.apply)}})
draw <- function(i) c(i, rnorm(1), runif(1))
got <- job_lapply(1:7, draw, seed = 11, local = TRUE, instance_count = 2, container = "{image}")
cat(identical(got, future_lapply(1:7, draw, future.seed = 11)), "\\n")
plan(simjobs::sagemaker_local, workers = 2, container = "{image}")
x <- future_lapply(1:4, function(i) {{ message("in the image"); i * 2 }}, future.seed = 1)
cat(identical(x, as.list(c(2, 4, 6, 8))), "\\n")
r <- tryCatch(job_lapply(1:2, function(i) jsonlite::toJSON(i), seed = 1, local = TRUE, container = "{image}"),
              error = conditionMessage)
cat(r, "\\n")
"""
    )
    done = subprocess.run(
        ["Rscript", str(script)],
        cwd=tmp_path,
        env={**os.environ, "R_LIBS": str(library), "RETICULATE_PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines() == [
        "TRUE ",
        "TRUE ",
        f"R package 'jsonlite' is not installed in the image {image}; build an image that has it with "
        'build_image(r_packages = c("jsonlite")) and pass it as image = ',
    ]
    assert done.stderr.count("in the image") == 4  # relayed from the futures evaluated in the image
