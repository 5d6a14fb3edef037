"""Where prices come from, for the platform's bill (`cost --platform`) and for jobs (`cost`), in any region.

With AWS credentials: the AWS Price List API (`pricing:GetProducts`, on-demand list prices of the region), with the
date they were read. Without (or when the API does not answer for an item): the checked-in table below, marked with
its date and the region whose prices it holds. Every Prices says which source each item came from, so a reader
never mistakes a table figure for a bill.

Facts behind the queries (AWS Price List API user guide, "Using the AWS Price List Query API"): the API answers
from us-east-1 (also eu-central-1, ap-south-1); products are filtered by service code and attributes such as
`regionCode`, `productFamily`, `instanceType`; each product's `terms.OnDemand.*.priceDimensions.*.pricePerUnit.USD`
is its list price. A product's `usagetype` carries a region prefix that cannot be derived from the region code
(us-east-1 has none), so the code below matches usage types by suffix and takes a price only when exactly one
remains.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

HOURS_PER_MONTH = 730  # AWS's own convention for monthly estimates (24 x 365 / 12)
PRICE_LIST_REGION = "us-east-1"
API = "AWS Price List API"

# ---------------------------------------------------------------------------------------- the checked-in table
# Transcribed by hand from AWS's public pricing pages (Amazon VPC: NAT gateways and AWS PrivateLink; EC2 On-Demand,
# Linux; EBS; EFS; Secrets Manager; CloudWatch alarms; AWS Budgets: "Your first two active budgets are free of
# charge. Each additional active budget costs $0.02 per day", AWS Billing user guide, "Managing your costs with
# AWS Budgets") as this project knew them on TABLE_DATE. They were not re-read from AWS on that date (the build
# machine has no AWS access): with credentials `cost` reads the Price List API instead and says so.
TABLE_DATE = "2026-12-07"
_EVERYWHERE = {"secret_month": 0.40, "alarm_month": 0.10, "budget_day": 0.02}
_US = {
    **_EVERYWHERE,
    "nat_gateway_hour": 0.045,
    "nat_gateway_gb": 0.045,
    "endpoint_az_hour": 0.01,
    "endpoint_gb": 0.01,
    "ebs_gp3_gb_month": 0.08,
    "efs_standard_gb_month": 0.30,
    "ec2:t3.medium": 0.0416,
    "ec2:t3.large": 0.0832,
    "ec2:t3.xlarge": 0.1664,
    "ec2:m6i.large": 0.096,
    "ec2:m6i.xlarge": 0.192,
    "ec2:m6i.2xlarge": 0.384,
    "ec2:m6i.4xlarge": 0.768,
    "ec2:m7i.xlarge": 0.2016,
    "ec2:m6g.xlarge": 0.154,
    "ec2:m7g.xlarge": 0.1632,
    "ec2:c6i.xlarge": 0.17,
    "ec2:r6i.xlarge": 0.252,
}
TABLE: dict[str, dict[str, float]] = {
    "us-east-1": _US,
    "us-east-2": _US,
    "us-west-2": _US,
    "eu-west-1": {
        **_EVERYWHERE,
        "nat_gateway_hour": 0.048,
        "nat_gateway_gb": 0.048,
        "endpoint_az_hour": 0.011,
        "endpoint_gb": 0.01,
        "ebs_gp3_gb_month": 0.088,
        "efs_standard_gb_month": 0.33,
        "ec2:t3.medium": 0.0456,
        "ec2:t3.large": 0.0912,
        "ec2:m6i.large": 0.107,
        "ec2:m6i.xlarge": 0.214,
        "ec2:m6i.2xlarge": 0.428,
    },
    "eu-central-1": {
        **_EVERYWHERE,
        "nat_gateway_hour": 0.052,
        "nat_gateway_gb": 0.052,
        "endpoint_az_hour": 0.012,
        "endpoint_gb": 0.01,
        "ebs_gp3_gb_month": 0.0952,
        "efs_standard_gb_month": 0.36,
        "ec2:t3.medium": 0.048,
        "ec2:t3.large": 0.096,
        "ec2:m6i.large": 0.115,
        "ec2:m6i.xlarge": 0.23,
        "ec2:m6i.2xlarge": 0.46,
    },
}
# SageMaker Processing (and RSession) instances in us-east-1, transcribed from the SageMaker pricing page in 2024
# and not re-checked since; other regions are typically 0-25 % dearer.
SAGEMAKER_TABLE_DATE = "2024"
SAGEMAKER_TABLE_REGION = "us-east-1"
SAGEMAKER_TABLE: dict[str, float] = {
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


@dataclass(frozen=True)
class Price:
    usd: float
    source: str  # "AWS Price List API, read 2026-12-07" or "table of 2026-12-07 (eu-west-1)"


@dataclass
class Prices:
    """What one region's items cost, each with where its figure came from."""

    region: str
    items: dict[str, Price] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def usd(self, key: str) -> float | None:
        price = self.items.get(key)
        return None if price is None else price.usd

    def source(self, key: str) -> str:
        price = self.items.get(key)
        return "no price known" if price is None else price.source

    @property
    def sources(self) -> list[str]:
        return sorted({price.source for price in self.items.values()})


def ec2_key(instance_type: str) -> str:
    return f"ec2:{instance_type}"


def sagemaker_key(instance_type: str) -> str:
    return f"sagemaker:{instance_type}"


def table(region: str, keys: Iterable[str] | None = None) -> Prices:
    """The checked-in prices for `region` (us-east-1's, said so, where the table has none for it)."""
    prices = Prices(region)
    own = TABLE.get(region)
    for key in keys if keys is not None else [*_US, *map(sagemaker_key, SAGEMAKER_TABLE)]:
        if key.startswith("sagemaker:"):
            usd = SAGEMAKER_TABLE.get(key.split(":", 1)[1])
            where, date = SAGEMAKER_TABLE_REGION, SAGEMAKER_TABLE_DATE
        elif own is not None and key in own:
            usd, where, date = own[key], region, TABLE_DATE
        else:
            usd, where, date = _US.get(key), "us-east-1", TABLE_DATE
        if usd is not None:
            suffix = "" if where == region else f"; {where}'s price, {region} may cost up to ~25 % more"
            prices.items[key] = Price(usd, f"table of {date} ({where}{suffix})")
    return prices


# ------------------------------------------------------------------------------------------- the Price List API
@dataclass(frozen=True)
class Query:
    """One item: the products of `service` in the region matching `filters`, then the one whose usage type
    ends with `usage` (with or without a region prefix)."""

    service: str
    filters: Mapping[str, str]
    usage: str


def query(key: str) -> Query:
    if key.startswith("ec2:"):
        instance_type = key.split(":", 1)[1]
        return Query(
            "AmazonEC2",
            {
                "instanceType": instance_type,
                "operatingSystem": "Linux",
                "tenancy": "Shared",
                "preInstalledSw": "NA",
                "capacitystatus": "Used",
                "licenseModel": "No License required",
                "operation": "RunInstances",
            },
            f"BoxUsage:{instance_type}",
        )
    if key.startswith("sagemaker:"):
        instance_type = key.split(":", 1)[1]
        return Query("AmazonSageMaker", {"instanceName": instance_type}, f"Processing:{instance_type}")
    return QUERIES[key]


QUERIES: dict[str, Query] = {
    "nat_gateway_hour": Query("AmazonEC2", {"productFamily": "NAT Gateway"}, "NatGateway-Hours"),
    "nat_gateway_gb": Query("AmazonEC2", {"productFamily": "NAT Gateway"}, "NatGateway-Bytes"),
    "endpoint_az_hour": Query("AmazonVPC", {"productFamily": "VpcEndpoint"}, "VpcEndpoint-Hours"),
    "endpoint_gb": Query("AmazonVPC", {"productFamily": "VpcEndpoint"}, "VpcEndpoint-Bytes"),
    "ebs_gp3_gb_month": Query("AmazonEC2", {"productFamily": "Storage", "volumeApiName": "gp3"}, "EBS:VolumeUsage.gp3"),
    "efs_standard_gb_month": Query("AmazonEFS", {"productFamily": "Storage"}, "TimedStorage-ByteHrs"),
    "secret_month": Query("AWSSecretsManager", {}, "AWSSecretsManager-Secrets"),
    "alarm_month": Query("AmazonCloudWatch", {"productFamily": "Alarm"}, "CW:AlarmMonitorUsage"),
}


def _usage_matches(usage: str, key: str) -> bool:
    # Outposts and "-TS-" products share a usage type's suffix but not its price.
    return (usage == key or usage.endswith(f"-{key}")) and "Outposts" not in usage and "-TS-" not in usage


def on_demand_usd(product: Mapping[str, Any]) -> float | None:
    """The first tier's on-demand USD price of one Price List product (its lowest range, beginRange 0)."""
    prices = []
    for term in product.get("terms", {}).get("OnDemand", {}).values():
        for dimension in term.get("priceDimensions", {}).values():
            if str(dimension.get("beginRange", "0")) in ("0", "0.0"):
                usd = dimension.get("pricePerUnit", {}).get("USD")
                if usd is not None:
                    prices.append(float(usd))
    return prices[0] if len(set(prices)) == 1 else None


def products(client: Any, service: str, filters: Mapping[str, str], region: str) -> list[dict[str, Any]]:
    terms = [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}]
    terms += [{"Type": "TERM_MATCH", "Field": name, "Value": value} for name, value in filters.items()]
    found: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"ServiceCode": service, "Filters": terms, "FormatVersion": "aws_v1", "MaxResults": 100}
    while True:
        page = client.get_products(**kwargs)
        found += [json.loads(item) if isinstance(item, str) else item for item in page.get("PriceList", [])]
        if not page.get("NextToken"):
            return found
        kwargs["NextToken"] = page["NextToken"]


def from_price_list(client: Any, region: str, keys: Iterable[str], today: str | None = None) -> Prices:
    """Each item the API prices unambiguously; the rest from the table (a note says which)."""
    read = f"{API}, read {today or datetime.now(timezone.utc).date().isoformat()}"
    prices = Prices(region)
    missing = []
    cache: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for key in keys:
        q = query(key)
        cache_key = (q.service, json.dumps(dict(q.filters), sort_keys=True))
        if cache_key not in cache:
            cache[cache_key] = products(client, q.service, q.filters, region)
        usable = {
            on_demand_usd(p)
            for p in cache[cache_key]
            if _usage_matches(str(p.get("product", {}).get("attributes", {}).get("usagetype", "")), q.usage)
        }
        usable.discard(None)
        if len(usable) == 1:
            prices.items[key] = Price(float(usable.pop()), read)  # type: ignore[arg-type]
        else:
            missing.append(key)
    if missing:
        fallback = table(region, missing)
        prices.items.update(fallback.items)
        prices.notes.append(f"{API} gave no single price for {', '.join(missing)}: table figures used")
    return prices


def load(
    region: str,
    keys: Iterable[str],
    *,
    source: str = "auto",
    client_factory: Callable[[], Any] | None = None,
) -> Prices:
    """Prices of `keys` in `region`: `source` "table", "api" (fails loudly) or "auto" (the API, else the table)."""
    keys = list(dict.fromkeys(keys))
    if source == "table":
        return table(region, keys)
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        client = (client_factory or _pricing_client)()
        return from_price_list(client, region, keys)
    except (BotoCoreError, ClientError) as error:
        if source == "api":
            from simulation.errors import SimulationError

            raise SimulationError(f"{API} did not answer ({_reason(error)})") from None
        prices = table(region, keys)
        prices.notes.append(f"{API} not used ({_reason(error)}): checked-in table figures")
        return prices


def _reason(error: Exception) -> str:
    from botocore.exceptions import ClientError

    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", "error"))
    return type(error).__name__


def _pricing_client() -> Any:
    from botocore.config import Config

    from simulation.client import aws

    # One quick try: with no route to AWS the table answers at once instead of after retries.
    config = Config(connect_timeout=3, read_timeout=10, retries={"max_attempts": 1})
    return aws.session().client("pricing", region_name=PRICE_LIST_REGION, config=config)
