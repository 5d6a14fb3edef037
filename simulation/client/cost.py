"""A cost estimate before submitting: instance-hours x an approximate on-demand price.

PRICES are SageMaker Processing on-demand list prices in USD per instance-hour for us-east-1 (N. Virginia),
transcribed from the AWS SageMaker pricing page as of 2024 and not re-checked since: verify before relying on them.
Other regions are typically 0-25 % dearer (eu-west-1 about +10 %). Storage (the ML volume, ~$0.14 per
GB-month), S3 and CloudWatch Logs are not included; they are small next to instance-hours for simulation
jobs. Treat the figure as an order of magnitude for choosing an instance, not as a bill.
"""

from __future__ import annotations

from typing import Any

from simulation.client.values import as_float, as_int
from simulation.errors import SimulationError

PRICE_REGION = "us-east-1"
PRICE_DATE = "2024"

PRICES: dict[str, float] = {
    "ml.t3.medium": 0.05,
    "ml.t3.large": 0.10,
    "ml.t3.xlarge": 0.20,
    "ml.t3.2xlarge": 0.399,
    "ml.m5.large": 0.115,
    "ml.m5.xlarge": 0.23,
    "ml.m5.2xlarge": 0.461,
    "ml.m5.4xlarge": 0.922,
    "ml.m5.12xlarge": 2.765,
    "ml.m5.24xlarge": 5.53,
    "ml.c5.xlarge": 0.204,
    "ml.c5.2xlarge": 0.408,
    "ml.c5.4xlarge": 0.816,
    "ml.c5.9xlarge": 1.836,
    "ml.c5.18xlarge": 3.672,
    "ml.r5.large": 0.151,
    "ml.r5.xlarge": 0.302,
    "ml.r5.2xlarge": 0.605,
    "ml.r5.4xlarge": 1.21,
    "ml.r5.12xlarge": 3.629,
    "ml.r5.24xlarge": 7.258,
}


def estimate(instance_type: str, instance_count: Any = 1, hours: Any = 1.0) -> dict[str, Any]:
    """Price of `instance_count` x `hours` of `instance_type`; `usd` is None for a type not in the table."""
    count = as_int(instance_count, "instance count", 1)
    duration = as_float(hours, "hours")
    if duration < 0:
        raise SimulationError(f"hours must not be negative, got {duration}")
    price = PRICES.get(instance_type)
    instance_hours = count * duration
    usd = None if price is None else round(instance_hours * price, 4)
    if usd is None:
        text = f"unknown: {instance_type} is not in the price table ({PRICE_REGION}, {PRICE_DATE})"
    else:
        text = f"~${usd:,.2f} ({count} x {duration:g} h x ${price}/h, {PRICE_REGION} list price {PRICE_DATE})"
    return {
        "instance_type": instance_type,
        "instance_count": count,
        "hours": duration,
        "instance_hours": instance_hours,
        "usd_per_hour": price,
        "usd": usd,
        "price_region": PRICE_REGION,
        "price_date": PRICE_DATE,
        "text": text,
    }
