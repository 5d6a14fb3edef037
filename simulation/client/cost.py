"""Before paying: a cost estimate (instance-hours x the on-demand price) and, for the bundled simulation, a plan:
predicted compute seconds per host, start-up, wall time and dollars of a job, next to a local run on this
machine (`plan`).

Prices come from `simulation.client.pricing`: the AWS Price List API for the job's region when the caller loaded
them so (`cost` does, with credentials), else the checked-in table (SageMaker Processing list prices of
us-east-1, 2024), each figure naming its source. Storage (the ML volume, ~$0.14 per GB-month), S3 and CloudWatch
Logs are not included; they are small next to instance-hours for simulation jobs. Treat the figure as an order
of magnitude for choosing an instance, not as a bill.
"""

from __future__ import annotations

from typing import Any

from simulation import defaults
from simulation.client import pricing
from simulation.client.values import as_float, as_int
from simulation.errors import SimulationError
from simulation.text import hint

# The checked-in SageMaker Processing prices (us-east-1, 2024): what estimate() uses when given no Prices.
PRICES = pricing.SAGEMAKER_TABLE
PRICE_REGION = pricing.SAGEMAKER_TABLE_REGION


def job_prices(region: str, instance_types: list[str] | tuple[str, ...], source: str = "table") -> pricing.Prices:
    """Prices of these Processing instance types in `region` (see pricing.load for `source`)."""
    return pricing.load(region, [pricing.sagemaker_key(t) for t in instance_types], source=source)


# vCPUs per instance type (AWS's instance type pages; the ml. types are the EC2 types of the same name).
VCPUS: dict[str, int] = {
    "ml.t3.medium": 2,
    "ml.t3.large": 2,
    "ml.t3.xlarge": 4,
    "ml.t3.2xlarge": 8,
    "ml.m5.large": 2,
    "ml.m5.xlarge": 4,
    "ml.m5.2xlarge": 8,
    "ml.m5.4xlarge": 16,
    "ml.m5.12xlarge": 48,
    "ml.m5.24xlarge": 96,
    "ml.c5.xlarge": 4,
    "ml.c5.2xlarge": 8,
    "ml.c5.4xlarge": 16,
    "ml.c5.9xlarge": 36,
    "ml.c5.18xlarge": 72,
    "ml.r5.large": 2,
    "ml.r5.xlarge": 4,
    "ml.r5.2xlarge": 8,
    "ml.r5.4xlarge": 16,
    "ml.r5.12xlarge": 48,
    "ml.r5.24xlarge": 96,
}
# ASSUMPTIONS, not measured (this project has no AWS account); see README "Plan before paying".
# A vCPU of these types is one hyperthread: two share a physical core, which on compute-bound code gives
# roughly 1.2x one thread, so a vCPU runs at about 0.6 of one core of the calibration machine.
VCPU_SPEED = 0.6
# A Processing job spends minutes before its container runs (instances provisioned, image pulled); 180 s is
# the typical order, to be replaced by what `simulation watch` reports for real jobs. Counted as billed
# (conservative).
JOB_STARTUP_SECONDS = 180.0


def estimate(
    instance_type: str, instance_count: Any = 1, hours: Any = 1.0, *, prices: pricing.Prices | None = None
) -> dict[str, Any]:
    """Price of `instance_count` x `hours` of `instance_type`; `usd` is None for a type no source prices."""
    count = as_int(instance_count, "instance count", 1)
    duration = as_float(hours, "hours")
    if duration < 0:
        raise SimulationError(f"hours must not be negative, got {duration}")
    prices = prices or job_prices(PRICE_REGION, [instance_type])
    key = pricing.sagemaker_key(instance_type)
    price = prices.usd(key)
    source = prices.source(key)
    instance_hours = count * duration
    usd = None if price is None else round(instance_hours * price, 4)
    if usd is None:
        text = f"unknown: no price for {instance_type} in {prices.region} (checked-in table and Price List API)"
    else:
        text = f"~${usd:,.2f} ({count} x {duration:g} h x ${price}/h in {prices.region}; {source})"
    return {
        "instance_type": instance_type,
        "instance_count": count,
        "hours": duration,
        "instance_hours": instance_hours,
        "usd_per_hour": price,
        "usd": usd,
        "price_region": prices.region,
        "price_source": source,
        "text": text,
    }


def plan(
    instance_type: str,
    instance_count: Any = 1,
    *,
    people: Any = None,
    iterations: Any = None,
    width: Any = None,
    height: Any = None,
    radius: Any = None,
    local_cores: int | None = None,
    prices: pricing.Prices | None = None,
    run_here: str | None = None,
) -> dict[str, Any]:
    """Predicted time and price of the bundled simulation as a job, and of the same run on this machine.

    Values left as None take `simulation.defaults`, as `submit_simulation` does: the plan is of the run a
    submission with the same arguments starts. `run_here` is how the caller runs it locally, named when that is
    faster (default: the caller's own way, `run` in the shell, run_simulation() in R).

    Job: JOB_STARTUP_SECONDS, then each host's share of the blocks on one worker per vCPU at VCPU_SPEED of a
    calibration core (`simulation.engine.throughput`), plus loading the kernel. Local: `simulation run` on
    `local_cores` (default: this machine's) cores at calibration speed.
    """
    from simulation.engine import Params, throughput

    count = as_int(instance_count, "instance count", 1)
    run = defaults.fill(width=width, height=height, people=people, radius=radius, iterations=iterations)
    try:
        params = Params(
            float(run["width"]), float(run["height"]), as_int(run["people"], "people", 2), float(run["radius"])
        )
    except (TypeError, ValueError) as error:
        raise SimulationError(f"width, height and radius must be numbers: {error}") from None
    n_iter = as_int(run["iterations"], "iterations", 1)
    cores = local_cores or defaults.usable_cores()
    local = throughput.local_prediction(params, n_iter, cores)
    vcpus = VCPUS.get(instance_type)
    result: dict[str, Any] = {
        "instance_type": instance_type,
        "instance_count": count,
        "vcpus_per_instance": vcpus,
        "people": params.people,
        "iterations": n_iter,
        "width": params.width,
        "height": params.height,
        "radius": params.radius,
        "ns_per_person_iteration": round(throughput.ns_per_person(params), 3),
        "vcpu_speed": VCPU_SPEED,
        "startup_seconds": JOB_STARTUP_SECONDS,
        **local,
    }
    if vcpus is None:
        result.update(compute_seconds_per_host=None, predicted_seconds=None, usd=None, local_faster=True)
        result["text"] = (
            f"unknown: {instance_type} is not in the vCPU table; locally ~{_duration(local['local_seconds'])}"
        )
        return result
    compute = throughput.compute_seconds(params, n_iter, count, vcpus, VCPU_SPEED)
    host_seconds = compute + throughput.LOCAL_STARTUP_SECONDS  # the container also loads the kernel
    predicted = JOB_STARTUP_SECONDS + host_seconds
    price = estimate(instance_type, count, predicted / 3600, prices=prices)
    faster_locally = local["local_seconds"] < predicted
    result.update(
        compute_seconds_per_host=compute,
        predicted_seconds=predicted,
        usd=price["usd"],
        usd_per_hour=price["usd_per_hour"],
        local_faster=faster_locally,
    )
    usd = "price unknown" if price["usd"] is None else f"~${price['usd']:,.4f}"
    verdict = (
        f"faster here: run it locally ({run_here or hint('python -m simulation run ...', 'run_simulation(...)')})"
        if faster_locally
        else f"the job is ~{local['local_seconds'] / predicted:,.1f}x faster than here"
    )
    result["text"] = (
        f"{count} x {instance_type} ({vcpus} vCPUs each): ~{_duration(compute)} of compute per host after "
        f"~{_duration(JOB_STARTUP_SECONDS)} of start-up, ~{_duration(predicted)} in all, {usd} "
        f"({price['price_region']}; {price['price_source']}); "
        f"this machine ({cores} cores): ~{_duration(local['local_seconds'])}"
        f" — {verdict}"
    )
    return result


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.3g} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"
