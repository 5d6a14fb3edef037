"""Job client: run the simulation (or your own R script) on SageMaker Processing from R or the shell.

Every function takes plain strings and numbers (R's doubles are fine where a whole number is meant) and
returns plain dicts/lists/strings, so reticulate hands R named lists. What a job runs on is one `Resources`
value (or a named list/dict of its fields), the same for a simulation, an R script and a sweep:

    client <- reticulate::import("simulation.client")
    job <- client$submit_simulation(people = 1000, iterations = 10000,
                                    resources = client$Resources(instance_count = 2), wait = TRUE)
    client$job_results(job)$mean

Modules, in the order a job meets them: config (discovery), values, resources, request, submit, sweep,
status, watch, results (+ plots), cost; local runs the same simulation (or script) on this machine instead;
aws holds the boto3 session and retry policy.
"""

from simulation.client.config import JobConfig, load_config
from simulation.client.cost import estimate as estimate_cost
from simulation.client.cost import plan as plan_simulation
from simulation.client.images import build_image
from simulation.client.local import local_job, run_simulation
from simulation.client.resources import Resources
from simulation.client.results import collect_sweep as sweep_results
from simulation.client.results import job_results
from simulation.client.resume import resume_job
from simulation.client.sdk import script_processor
from simulation.client.status import job_status, list_jobs, stop_job
from simulation.client.submit import submit_r_script, submit_simulation
from simulation.client.sweep import run_sweep
from simulation.client.watch import job_logs, wait_for_job

__all__ = [
    "JobConfig",
    "Resources",
    "build_image",
    "estimate_cost",
    "job_logs",
    "job_results",
    "job_status",
    "list_jobs",
    "load_config",
    "local_job",
    "plan_simulation",
    "resume_job",
    "run_simulation",
    "run_sweep",
    "script_processor",
    "stop_job",
    "submit_r_script",
    "submit_simulation",
    "sweep_results",
    "wait_for_job",
]
