"""Job client: run the simulation (or your own R script) on SageMaker Processing from R or the shell.

Every function takes plain strings and numbers (R's doubles are fine where a whole number is meant) and
returns plain dicts/lists/strings, so reticulate hands R named lists:

    client <- reticulate::import("simulation.client")
    job <- client$submit_simulation(people = 1000, iterations = 10000, wait = TRUE)
    client$job_results(job)$mean
"""

from simulation.client.config import JobConfig, load_config
from simulation.client.cost import estimate as estimate_cost
from simulation.client.images import build_image
from simulation.client.jobs import (
    job_logs,
    job_status,
    list_jobs,
    stop_job,
    submit_r_script,
    submit_simulation,
    wait_for_job,
)
from simulation.client.results import job_results
from simulation.client.sdk import script_processor
from simulation.client.sweep import collect as sweep_results
from simulation.client.sweep import run_sweep

__all__ = [
    "JobConfig",
    "build_image",
    "estimate_cost",
    "job_logs",
    "job_results",
    "job_status",
    "list_jobs",
    "load_config",
    "run_sweep",
    "script_processor",
    "stop_job",
    "submit_r_script",
    "submit_simulation",
    "sweep_results",
    "wait_for_job",
]
