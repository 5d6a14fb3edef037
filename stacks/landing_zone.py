"""The landing-zone settings' checks that need more than one key: bring-your-own network (all four keys or
none, one subnet per zone, no subnet in both roles), where interface_endpoints=none makes sense, and the cost tags.

Each check returns the one line that names the key (the caller raises it as a SettingsError), or None. What
cannot be known at synth (which VPC a subnet is in, its routes, what resolves privately) is checked at deploy
by stacks/network/checks.py.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stacks.settings import Settings

NETWORK_KEYS = ("vpc_id", "workspace_subnet_ids", "job_subnet_ids", "availability_zones")
# The platform tags every resource with these itself (`platform`; per-user resources also `user`): an admin's tag
# of the same key would silently replace the one budgets and the client's job listing read.
RESERVED_TAG_KEYS = ("platform", "user")
# AWS tag rules (Tagging AWS resources, "Tag naming limits and requirements"): keys up to 128 and values up to 256
# characters of letters, digits, spaces and _ . : / = + - @; keys starting "aws:" belong to AWS.
TAG_KEY = r"[\w .:/=+\-@]{1,128}"
TAG_VALUE = r"[\w .:/=+\-@]{0,256}"


def landing_zone_problem(settings: Settings) -> str | None:
    for check in (_network, _endpoints, _tags):
        problem = check(settings)
        if problem:
            return problem
    return None


def _line(key: str, got: str, allowed: str) -> str:
    return f"context key '{key}': got '{got}'; allowed: {allowed}"


def _network(s: Settings) -> str | None:
    given = {key: getattr(s, key) for key in NETWORK_KEYS}
    if not any(given.values()):
        return None
    for key, value in given.items():
        if not value:
            others = [k for k in NETWORK_KEYS if k != key]
            return _line(
                key,
                "",
                f"given together with {', '.join(others[:-1])} and {others[-1]} (bring your own network: all four "
                "keys or none)",
            )
    zones = s.availability_zones
    regions = {zone[:-1] for zone in zones}
    if len(set(zones)) < 2 or len(set(zones)) != len(zones) or len(regions) != 1:
        return _line(
            "availability_zones",
            ",".join(zones),
            "2 or more different zones of one region (jobs, endpoints and the SageMaker domain span two), e.g. "
            "eu-west-1a,eu-west-1b",
        )
    for key in ("workspace_subnet_ids", "job_subnet_ids"):
        subnets = getattr(s, key)
        if len(subnets) != len(zones) or len(set(subnets)) != len(subnets):
            return _line(
                key,
                ",".join(subnets),
                f"one subnet per availability zone ({len(zones)}: {','.join(zones)}), in that order",
            )
    shared = [subnet for subnet in s.job_subnet_ids if subnet in s.workspace_subnet_ids]
    if shared:
        return _line(
            "job_subnet_ids",
            shared[0],
            "subnets that are not also workspace subnets (job subnets must have no route out; the workspace's "
            "reach the internet)",
        )
    return None


def _endpoints(s: Settings) -> str | None:
    if s.interface_endpoints == "none" and not s.vpc_id and s.rstudio_mode != "none":
        return _line(
            "interface_endpoints",
            "none",
            "'none' only with vpc_id (a landing-zone VPC whose network team provides the endpoints); the "
            "platform's own VPC is new, so nothing else can serve it: use 'all'",
        )
    return None


def _tags(s: Settings) -> str | None:
    seen: set[str] = set()
    for item in s.tags:
        key, sep, value = item.partition("=")
        if not sep or not re.fullmatch(TAG_KEY, key) or not re.fullmatch(TAG_VALUE, value):
            return _line(
                "tags",
                item,
                "Key=value pairs such as CostCenter=4711,Owner=stats-team (keys up to 128, values up to 256 "
                "characters of letters, digits, spaces and _ . : / = + - @)",
            )
        if key.lower().startswith("aws:") or key.lower() in RESERVED_TAG_KEYS or key in seen:
            return _line(
                "tags",
                item,
                f"keys other than {' and '.join(RESERVED_TAG_KEYS)} (the platform sets those itself), not starting "
                "with aws: and each given once",
            )
        seen.add(key)
    return None
