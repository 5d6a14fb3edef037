"""The bill before the deploy: what the platform costs per month while it stands, line by line, for the settings a
`cdk deploy` would use (cdk.json's context and `-c key=value` overrides, validated by the same rules as synth), plus
what is paid per use and the job prices. Prices from `simulation.client.pricing` (Price List API or the dated table).

What is counted as fixed: NAT gateways, interface endpoints (each in `endpoint_azs` zones), the RStudio host at its
expected on-hours and its volume, login secrets and the idle-stop alarm (ec2 mode), the users' home directories on
EFS at an assumed size, the SageMaker domain's RStudioServerPro app (free on its default "system" instance: AWS's
"RStudio on Amazon SageMaker AI billing and cost", rstudio-billing.html: "The default 'system' instance is free of
charge"), and the budget. Data processed, S3, logs, CloudFront and RSessions depend on use and are listed apart.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from simulation.client import pricing
from simulation.errors import SimulationError

HOURS = pricing.HOURS_PER_MONTH
DAYS_PER_MONTH = HOURS / 24
# Assumptions the bill states in its lines (and `cost --platform` lets the admin change).
WORKDAYS_PER_MONTH = 22
WORK_HOURS_PER_DAY = 8
HOME_GB_PER_USER = 10.0


def load_settings(overrides: Iterable[str] = (), cdk_json: Path | None = None) -> Any:
    """Settings as `cdk synth` builds them: cdk.json's "context" (./cdk.json, else the checkout's), then each
    `key=value` override, validated by the CDK app's own rules (stacks/settings.py)."""
    Settings, SettingsError = _settings_classes()
    path = cdk_json or next((p for p in (Path("cdk.json"), CHECKOUT / "cdk.json") if p.exists()), Path("cdk.json"))
    context: dict[str, Any] = {}
    if path.exists():
        try:
            context = dict(json.loads(path.read_text()).get("context", {}))
        except (json.JSONDecodeError, AttributeError) as error:
            raise SimulationError(f"{path} is not a CDK settings file: {error}") from None
    elif cdk_json is not None:
        raise SimulationError(f"{path} does not exist")
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SimulationError(f"-c wants key=value, got '{item}'")
        context[key.strip()] = value
    try:
        return Settings.from_context(context)
    except SettingsError as error:
        raise SimulationError(str(error)) from None


# The repository checkout this package runs from (an editable install), which holds the CDK app.
CHECKOUT = Path(__file__).resolve().parents[2]


def _settings_classes() -> tuple[Any, Any]:
    if not (CHECKOUT / "stacks" / "settings.py").exists():
        raise SimulationError(
            "cost --platform reads the CDK app's settings (stacks/settings.py, cdk.json): run it from an install "
            "of the repository checkout (make setup)"
        )
    if str(CHECKOUT) not in sys.path:
        sys.path.append(str(CHECKOUT))
    from stacks.settings import Settings, SettingsError

    return Settings, SettingsError


def host_hours(settings: Any) -> float:
    """Expected monthly hours of the ec2 RStudio host: always on without idle stop; with it, the working days'
    hours plus the idle wait before each stop."""
    if settings.rstudio_idle_stop_minutes <= 0:
        return float(HOURS)
    return float(WORKDAYS_PER_MONTH * (WORK_HOURS_PER_DAY + settings.rstudio_idle_stop_minutes / 60))


def price_keys(settings: Any) -> list[str]:
    keys = [*pricing.QUERIES, "budget_day"]
    keys += [pricing.sagemaker_key(t) for t in settings.job_instance_types]
    if settings.rstudio_mode == "ec2":
        keys.append(pricing.ec2_key(settings.rstudio_instance_type))
    if settings.rstudio_mode == "sagemaker":
        keys.append(pricing.sagemaker_key(settings.rstudio_session_instance_type))
    return keys


def platform_bill(
    settings: Any,
    prices: pricing.Prices,
    *,
    hours_on: float | None = None,
    home_gb_per_user: float = HOME_GB_PER_USER,
) -> dict[str, Any]:
    from stacks.network.services import created_services

    items: list[dict[str, Any]] = []

    def line(name: str, key: str | None, quantity: float, detail: str = "") -> None:
        usd = 0.0 if key is None else prices.usd(key)
        items.append(
            {
                "name": name,
                "monthly_usd": None if usd is None else round(quantity * usd, 2),
                "detail": detail,
                "price_source": "" if key is None else prices.source(key),
            }
        )

    mode = settings.rstudio_mode
    if settings.vpc_id:
        line("NAT gateways: none (the landing zone's network, its own bill)", None, 0)
    elif settings.nat_gateways:
        per_gb = prices.usd("nat_gateway_gb")
        line(
            f"NAT gateways: {settings.nat_gateways} x {HOURS} h",
            "nat_gateway_hour",
            settings.nat_gateways * HOURS,
            "" if per_gb is None else f"plus ${per_gb}/GB processed",
        )
    endpoints = created_services(mode, settings.interface_endpoints)
    if endpoints:
        line(
            f"Interface endpoints: {len(endpoints)} x {settings.endpoint_azs} AZ"
            f"{'s' * (settings.endpoint_azs > 1)} x {HOURS} h",
            "endpoint_az_hour",
            len(endpoints) * settings.endpoint_azs * HOURS,
            ", ".join(endpoints),
        )
    else:
        why = "provided by the landing zone" if settings.interface_endpoints == "none" else "the mode needs none"
        line(f"Interface endpoints: none ({why})", None, 0)
    users = settings.users if mode != "none" else ()
    if mode == "ec2":
        hours = host_hours(settings) if hours_on is None else hours_on
        stop = settings.rstudio_idle_stop_minutes
        when = f"{hours:g} h on (idle stop after {stop} min)" if stop else f"{hours:g} h (no idle stop)"
        line(
            f"RStudio host {settings.rstudio_instance_type}: {when}",
            pricing.ec2_key(settings.rstudio_instance_type),
            hours,
        )
        line(
            f"RStudio host volume: {settings.rstudio_volume_gb} GB gp3", "ebs_gp3_gb_month", settings.rstudio_volume_gb
        )
        line(f"Login secrets: {len(users)}", "secret_month", len(users))
        if stop:
            line("Idle-stop alarm", "alarm_month", 1)
    if mode in ("ec2", "sagemaker"):
        gb = home_gb_per_user * len(users)
        line(
            f"EFS home directories: {gb:g} GB ({home_gb_per_user:g} GB x {len(users)} users)",
            "efs_standard_gb_month",
            gb,
        )
    if mode == "sagemaker":
        line("RStudioServerPro app on the 'system' instance: free (AWS does not charge for it)", None, 0)
    if settings.budget_monthly_usd > 0:
        line(
            "AWS Budget (free if among the account's first two budgets)",
            "budget_day",
            DAYS_PER_MONTH,
            "$0.02 per day otherwise",
        )
    known = [i["monthly_usd"] for i in items if i["monthly_usd"] is not None]
    notes = list(prices.notes)
    if mode == "none" and not settings.vpc_id and settings.nat_gateways:
        notes.append("rstudio_mode=none puts nothing behind the NAT gateway: -c nat_gateways=0 drops its cost")
    unknown = [i["name"] for i in items if i["monthly_usd"] is None]
    if unknown:
        notes.append(f"no price known for: {'; '.join(unknown)} (not in the total)")
    return {
        "platform": settings.platform_name,
        "rstudio_mode": mode,
        "region": prices.region,
        "monthly_usd": round(sum(known), 2),
        "items": items,
        "per_use": _per_use(settings, prices),
        "job_prices": [
            {
                "instance_type": t,
                "usd_per_hour": prices.usd(pricing.sagemaker_key(t)),
                "price_source": prices.source(pricing.sagemaker_key(t)),
            }
            for t in settings.job_instance_types
        ],
        "price_sources": prices.sources,
        "notes": notes,
    }


def _per_use(settings: Any, prices: pricing.Prices) -> list[dict[str, Any]]:
    found = []

    def use(name: str, key: str, unit: str) -> None:
        found.append({"name": name, "usd": prices.usd(key), "unit": unit, "price_source": prices.source(key)})

    if not settings.vpc_id and settings.nat_gateways:
        use("NAT gateway data processed", "nat_gateway_gb", "GB")
    if settings.interface_endpoints == "all" and settings.rstudio_mode != "none":
        use("Interface endpoint data processed", "endpoint_gb", "GB")
    if settings.rstudio_mode == "sagemaker":
        use(
            f"RSession ({settings.rstudio_session_instance_type})",
            pricing.sagemaker_key(settings.rstudio_session_instance_type),
            "hour",
        )
    return found


def describe(bill: Mapping[str, Any]) -> str:
    """The bill as lines for a terminal."""
    lines = [f"{bill['platform']} (rstudio_mode={bill['rstudio_mode']}) in {bill['region']}: fixed cost per month"]
    for item in bill["items"]:
        usd = "      ?" if item["monthly_usd"] is None else f"{item['monthly_usd']:>9,.2f}"
        detail = f" ({item['detail']})" if item["detail"] else ""
        lines.append(f"  ${usd}  {item['name']}{detail}")
    lines.append(f"  ${bill['monthly_usd']:>9,.2f}  total")
    if bill["per_use"]:
        lines.append("Per use, not in the total:")
        lines += [f"  ${u['usd']} per {u['unit']}: {u['name']}" for u in bill["per_use"] if u["usd"] is not None]
    priced = [j for j in bill["job_prices"] if j["usd_per_hour"] is not None]
    lines.append(
        "Job prices per instance-hour: " + ", ".join(f"{j['instance_type']} ${j['usd_per_hour']}" for j in priced)
    )
    lines.append("Prices: " + " | ".join(bill["price_sources"]))
    lines += [f"Note: {note}" for note in bill["notes"]]
    return "\n".join(lines)
