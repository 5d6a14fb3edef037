"""What the job client's commands share: the --platform/--json options, the resource options, JSON printing."""

from __future__ import annotations

import argparse
import json
from typing import Any

from simulation.client.config import PLATFORM_ENV
from simulation.client.resources import DEFAULT_VOLUME_GB, Resources
from simulation.options import RUN_OPTIONS, add_engine_options


def platform_options(json_flag: bool = False) -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--platform",
        help=f"platform name: its job config is SSM /<platform>/job-config (default ${PLATFORM_ENV} or simlab)",
    )
    if json_flag:
        parent.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    return parent


def add_resource_options(parser: argparse.ArgumentParser) -> None:
    """The fields of `Resources` as options; `resources_of(args)` turns them back into one value."""
    parser.add_argument("--instance-type", help="an allowed ml.* type (default: the platform's default)")
    parser.add_argument("--instance-count", type=float, default=None, help="hosts (default 1; sweep: one per point)")
    parser.add_argument("--volume-size", type=float, default=None, help=f"GB per host (default {DEFAULT_VOLUME_GB})")
    parser.add_argument("--max-runtime", type=float, default=None, help="seconds before AWS stops the job")
    parser.add_argument("--name", help="a short name for the job (letters, digits, hyphens)")
    parser.add_argument(
        "--image", help="the bundled job image (default) or one in the platform's user repository (`image build`)"
    )


def resources_of(args: argparse.Namespace) -> Resources:
    return Resources(
        instance_type=args.instance_type,
        instance_count=args.instance_count,
        volume_size_gb=args.volume_size,
        max_runtime_seconds=args.max_runtime,
        name=args.name,
        image=args.image,
    )


def add_param_options(parser: argparse.ArgumentParser, sweep_mode: bool = False) -> None:
    """The engine options as text (a sweep's as comma-separated lists): the client checks them once for every
    front door and fills in `simulation.defaults`, and `submit --resume` can tell that none was given."""
    add_engine_options(parser, RUN_OPTIONS, form="list" if sweep_mode else "text")


PARAM_OPTIONS = RUN_OPTIONS


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, sort_keys=True, default=str))
