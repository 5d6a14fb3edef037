"""cost: what a job will cost (and take) before it is submitted, and with `--platform` what the platform itself costs
per month before it is deployed. Prices: the AWS Price List API of the region when credentials allow, else the
checked-in table; every figure names its source."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from simulation.cli.commands.common import print_json
from simulation.client import cost, platform_cost, pricing
from simulation.client.config import PLATFORM_ENV, load_config
from simulation.errors import SimulationError
from simulation.options import add_engine_options

# `--platform` alone asks for the platform's bill; `--platform NAME` names the platform whose job config to use.
BILL = "\0bill"
# What `cost` plans when any of these is given: the run `submit` starts with the same options (those not given
# take simulation.defaults in both, filled in by cost.plan).
WORKLOAD = ("people", "iterations", "width", "height", "radius")
REGION_ENV = ("AWS_REGION", "AWS_DEFAULT_REGION", "CDK_DEFAULT_REGION")


def register(subparsers: Any) -> None:
    price = subparsers.add_parser(
        "cost",
        help="price a job (time, dollars, a local run) before submitting, or the platform per month (--platform)",
        description="Without --platform NAME's job config: --instance-type prices instance-hours or plans the "
        "bundled simulation. `cost --platform` alone prints the platform's fixed monthly cost for the settings "
        "cdk deploy would use (cdk.json and -c overrides).",
    )
    price.add_argument(
        "--platform",
        nargs="?",
        const=BILL,
        help=f"alone: the platform's monthly bill; with NAME: whose job config to use (default ${PLATFORM_ENV} or "
        "simlab)",
    )
    price.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    price.add_argument("--region", help="price in this region (default: the job config's, else your AWS region)")
    price.add_argument(
        "--prices",
        choices=("auto", "api", "table"),
        default="auto",
        help="auto: the AWS Price List API when credentials allow, else the checked-in table (default)",
    )
    price.add_argument(
        "--instance-type", help="an ml.* type (default: the platform's default, read from its job config in AWS)"
    )
    price.add_argument("--instance-count", type=float, default=1, help="instances (hosts) of the job")
    duration = price.add_mutually_exclusive_group()
    duration.add_argument("--hours", type=float, help="price this many instance-hours (no workload)")
    duration.add_argument("--minutes", type=float, help="the same in minutes")
    workload = price.add_argument_group("workload (any of these: predict the bundled simulation instead)")
    add_engine_options(workload, WORKLOAD, form="text")
    bill = price.add_argument_group("the platform's bill (--platform alone)")
    bill.add_argument(
        "-c", "--context", action="append", default=[], metavar="KEY=VALUE", help="a setting, as with cdk -c"
    )
    bill.add_argument("--cdk-json", type=Path, help="settings file (default ./cdk.json)")
    bill.add_argument("--host-hours", type=float, help="ec2 mode: the RStudio host's hours per month")
    bill.add_argument(
        "--home-gb",
        type=float,
        default=platform_cost.HOME_GB_PER_USER,
        help="GB of home directory per user (default %(default)g)",
    )
    price.set_defaults(handler=_cost)


def default_region(config_region: str | None = None) -> str:
    """The job config's region (where jobs run), else the caller's AWS region, else us-east-1."""
    if config_region:
        return config_region
    for name in REGION_ENV:
        if os.environ.get(name):
            return os.environ[name]
    from simulation.client import aws

    return aws.session().region_name or pricing.PRICE_LIST_REGION


def _cost(args: argparse.Namespace) -> int:
    if args.platform == BILL:
        return _bill(args)
    if args.context or args.cdk_json or args.host_hours is not None:
        print("error: cost: -c, --cdk-json and --host-hours belong to cost --platform (the bill)", file=sys.stderr)
        return 2
    for unit in ("hours", "minutes"):  # said in the unit given
        if getattr(args, unit) is not None and not getattr(args, unit) >= 0:
            raise SimulationError(f"cost: --{unit} must not be negative, got {getattr(args, unit):g}")
    instance_type = args.instance_type
    config_region = None
    if instance_type is None:
        try:
            config = load_config(args.platform)
        except SimulationError as error:
            raise SimulationError(
                f"cost: without --instance-type the platform's default type is read from AWS, which failed ({error}); "
                "or name one: --instance-type ml.c5.xlarge"
            ) from None
        instance_type, config_region = config.default_instance_type, config.region
    region = args.region or default_region(config_region)
    prices = cost.job_prices(region, [instance_type], source=args.prices)
    workload = {k: getattr(args, k) for k in WORKLOAD if getattr(args, k) is not None}
    if workload:
        if args.hours is not None or args.minutes is not None:
            print(
                "error: cost: --hours/--minutes price instance-hours; a workload is timed by the model", file=sys.stderr
            )
            return 2
        estimate = cost.plan(instance_type, args.instance_count, **workload, prices=prices)
    else:
        hours = args.hours if args.hours is not None else (args.minutes / 60 if args.minutes is not None else 1.0)
        estimate = cost.estimate(instance_type, args.instance_count, hours, prices=prices)
    if args.json:
        print_json(estimate)
    else:
        print(estimate["text"])
    return 0


def _bill(args: argparse.Namespace) -> int:
    settings = platform_cost.load_settings(args.context, args.cdk_json)
    region = args.region or default_region()
    prices = pricing.load(region, platform_cost.price_keys(settings), source=args.prices)
    bill = platform_cost.platform_bill(settings, prices, hours_on=args.host_hours, home_gb_per_user=args.home_gb)
    if args.json:
        print_json(bill)
    else:
        print(platform_cost.describe(bill))
    return 0
