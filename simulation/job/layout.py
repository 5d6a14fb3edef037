"""The job output layout: every file name, folder and S3 key a job, the client, the merge and the stacks agree on.

This module is the contract's one home (docs/contracts.md section 2): the entrypoint writes these paths, the
merge and the client read them, and the jobs stack scopes its IAM statements to `JOBS_PREFIX`. It imports
nothing outside the standard library, so the CDK app can import it without the engine's dependencies.

Output prefix of a run (= /opt/ml/processing/output on every host = the job's S3 output prefix
= `local-job --output DIR`):
    run.json                  what was run; identical on every host
    blocks/block-000007.json  one per finished block, written by the host that computed it
    hosts/algo-2.json         per-host manifest
    summary.json, output_result_mean.txt   the merged result
    iterations.csv, histogram.png          written with it by local-job and merge (results: in its own folder)
    points/point-003/         for a sweep: one sub-run with this same layout per parameter set

In the platform bucket, everything of a job lives under `jobs/<job-name>/`: `code/` (a user's folder),
`config/sweep.json` (a sweep's spec), `output/` (the prefix above); a sweep's manifest is `jobs/<sweep>/sweep.json`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

FORMAT = 1  # of run.json and block files; a reader refuses other formats
RUN_FILE = "run.json"
SUMMARY_FILE = "summary.json"
MEAN_FILE = "output_result_mean.txt"  # the original R job's output, kept for existing readers
# Beside summary.json wherever a result is put together (local-job, merge, results): one row per iteration, and
# the distribution's plot
ITERATIONS_FILE = "iterations.csv"
PLOT_FILE = "histogram.png"
# A user's R script writes its per-iteration values to iterations/<CURRENT_HOST>.csv (one name per host: all
# hosts write into one prefix); local-job and results put them together into ITERATIONS_FILE and the rest.
SCRIPT_ITERATIONS_DIR = "iterations"
BLOCKS_DIR = "blocks"
HOSTS_DIR = "hosts"
POINTS_DIR = "points"
# local-job only: the emulated hosts' /opt/ml trees, inside the output folder so that a hard kill loses nothing
# they finished; the merge reads only the names above, and a job's S3 prefix never holds it.
STAGING_DIR = ".staging"

# In the platform bucket
JOBS_PREFIX = "jobs/"
CODE_PART = "code"
CONFIG_PART = "config"
OUTPUT_PART = "output"
# A resumed job's input: the output prefix of the job it resumes, whose finished blocks it takes over
RESUME_PART = "resume"
SWEEP_SPEC_FILE = "sweep.json"  # under config/: the points a sweep job computes
SWEEP_MANIFEST_FILE = "sweep.json"  # under jobs/<sweep>/: the points and jobs of a sweep, for collecting it
# A map job (R's job_lapply and future backend): its code input holds the payload R wrote and the R runner that
# evaluates it; each finished block is blocks/block-NNNNNN.rds (the values) plus block-NNNNNN.json (its record,
# written last: a block is done when its record is there).
MAP_COMMAND = "map"
MAP_SPEC_FILE = "map.json"
MAP_PAYLOAD_FILE = "map.rds"
MAP_RUNNER_FILE = "map_host.R"

# Job environment, set by the client, read by the entrypoint
IMAGE_TAG_ENV = "SIMLAB_IMAGE_TAG"
# Clients released before the rename set this one; the entrypoint still reads it (docs/contracts.md, names).
LEGACY_IMAGE_TAG_ENV = "SIMULATION_IMAGE_TAG"
PLATFORM_ENV = "SIMLAB_PLATFORM"
JOB_NAME_ENV = "SIMLAB_JOB_NAME"
OPT_ML_ROOT_ENV = "OPT_ML_ROOT"

ENTRYPOINT = ("python3", "-m", "simulation.processing")


def block_path(directory: Path, block: int) -> Path:
    return directory / BLOCKS_DIR / f"block-{block:06d}.json"


def map_values_path(directory: Path, block: int) -> Path:
    """The R values of a map job's block, beside its record `block_path(directory, block)`."""
    return directory / BLOCKS_DIR / f"block-{block:06d}.rds"


def point_dir(directory: Path, point: int) -> Path:
    return directory / POINTS_DIR / f"point-{point:03d}"


def host_manifest_path(directory: Path, host: str) -> Path:
    return directory / HOSTS_DIR / f"{host}.json"


def image_tag_from_env() -> str | None:
    return os.environ.get(IMAGE_TAG_ENV) or os.environ.get(LEGACY_IMAGE_TAG_ENV)


# --- the platform bucket -----------------------------------------------------------------------------------------


def job_prefix(job_name: str, part: str) -> str:
    """`jobs/<job>/<part>/`: code, config or output of one job."""
    return f"{JOBS_PREFIX}{job_name}/{part}/"


def sweep_manifest_key(sweep_id: str) -> str:
    return f"{JOBS_PREFIX}{sweep_id}/{SWEEP_MANIFEST_FILE}"


def sweep_spec_key(sweep_id: str) -> str:
    return job_prefix(sweep_id, CONFIG_PART) + SWEEP_SPEC_FILE


# --- the /opt/ml tree of a Processing host -----------------------------------------------------------------------


@dataclass(frozen=True)
class OptMl:
    """Where SageMaker Processing puts things on a host; `OPT_ML_ROOT` relocates it (local jobs, tests)."""

    root: Path = Path("/opt/ml")

    @classmethod
    def from_env(cls) -> OptMl:
        return cls(Path(os.environ.get(OPT_ML_ROOT_ENV) or "/opt/ml"))

    @property
    def resource_config(self) -> Path:
        return self.root / "config" / "resourceconfig.json"

    @property
    def input_dir(self) -> Path:
        return self.root / "processing" / "input"

    @property
    def code_dir(self) -> Path:
        return self.input_dir / CODE_PART

    @property
    def output_dir(self) -> Path:
        return self.root / "processing" / OUTPUT_PART

    @property
    def message_file(self) -> Path:
        return self.root / "output" / "message"


# The container paths the client names in a CreateProcessingJob request.
CONTAINER = PurePosixPath("/opt/ml/processing")
CODE_DIR = str(CONTAINER / "input" / CODE_PART)
CONFIG_DIR = str(CONTAINER / "input" / CONFIG_PART)
OUTPUT_DIR = str(CONTAINER / OUTPUT_PART)
SWEEP_SPEC_PATH = f"{CONFIG_DIR}/{SWEEP_SPEC_FILE}"
RESUME_DIR = str(CONTAINER / "input" / RESUME_PART)

# A block's file name, and nothing else: write_atomic's temporary names (`.block-000007.json.x1y2.tmp`) are
# uploaded too while a job's output is uploaded continuously, and must never count as blocks.
BLOCK_NAME = re.compile(r"^block-(\d{6})\.json$")


def block_number(name: str) -> int | None:
    """7 for `block-000007.json`; None for anything else (temporary files, other files)."""
    match = BLOCK_NAME.match(name)
    return int(match.group(1)) if match else None
