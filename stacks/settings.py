"""Typed platform settings, built once from CDK context (cdk.json and `-c key=value`) and validated at synth.

Every key has a default here, so `cdk synth` works with an empty context. A bad value raises SettingsError
with one line naming the key, the value and what is allowed; app.py turns that into exit code 2.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from stacks.context import SettingsError as SettingsError
from stacks.context import coerce
from stacks.landing_zone import landing_zone_problem
from stacks.studio import versions
from stacks.users import LINUX_NAME, RESERVED_NAMES, RStudioUser, UsersError, parse_users
from stacks.workspace import posit

# The broadest allowed viewer networks. A /8 is the largest block IANA ever gave one organisation, and a /32 the
# standard minimum IPv6 allocation to a provider (an LIR): anything broader spans unrelated organisations, and a few
# such blocks (0.0.0.0/1 + 128.0.0.0/1) are the whole internet.
MIN_ALLOWED_PREFIX = {4: 8, 6: 32}

# SageMaker Processing accepts at most 5 days (432,000 s) per job.
MAX_PROCESSING_RUNTIME_SECONDS = 432_000

DEFAULT_JOB_INSTANCE_TYPES = (
    "ml.m5.large",
    "ml.m5.xlarge",
    "ml.m5.2xlarge",
    "ml.m5.4xlarge",
    "ml.c5.xlarge",
    "ml.c5.2xlarge",
    "ml.c5.4xlarge",
    "ml.c5.9xlarge",
    "ml.c5.18xlarge",
)


@dataclass(frozen=True)
class Settings:
    # Prefix for stack names, SSM paths (/<platform_name>/job-config) and tags.
    platform_name: str = "simlab"
    # Which RStudio workspace to deploy: "ec2" (RStudio Server on an EC2 host), "sagemaker" (RStudio on a
    # SageMaker Domain, Posit Workbench), or "none" (only network, data and job infrastructure).
    rstudio_mode: str = "ec2"
    # Who logs in (both modes): `name`, `name:user` or `name:admin`. Empty: rstudio_user alone, as a user.
    rstudio_users: tuple[str, ...] = ()
    # How users reach RStudio Server in ec2 mode: "cloudfront" (HTTPS URL) or "ssm" (port forwarding).
    rstudio_access: str = "cloudfront"
    # Viewer CIDRs allowed through CloudFront. Empty means nobody until the admin names their networks.
    rstudio_allowed_cidrs: tuple[str, ...] = ()
    rstudio_instance_type: str = "m6i.xlarge"
    # SSM parameter holding the RStudio host's AMI ID. Empty: Canonical's current Ubuntu 24.04 LTS (a new image
    # replaces the host on the next deploy). To pin, name a dated Canonical parameter or one of your own.
    rstudio_ami_parameter: str = ""
    rstudio_volume_gb: int = 100
    rstudio_user: str = "rstudio"
    # RStudio Server release the ec2 host installs (Posit's Ubuntu 24.04 build). The host installs it only if
    # Posit's signature verifies against the pinned key (stacks/workspace/posit.py, verify-deb.sh).
    rstudio_server_version: str = posit.RSTUDIO_VERSION
    # Optional second pin: the SHA-256 of that .deb for the host's architecture; empty: the signature alone.
    rstudio_server_sha256: str = ""
    # Optional custom domain for the CloudFront URL, with its ACM certificate (us-east-1): allows TLS 1.2+ only.
    rstudio_domain_name: str = ""
    rstudio_certificate_arn: str = ""
    # sagemaker mode: how users sign in ("iam": presigned URLs from IAM; "sso": IAM Identity Center, whose user
    # names must equal the rstudio_users names), RSessions' default instance type, optional Posit URLs, and the
    # License Manager product name of the Posit Workbench licence the preflight looks for.
    rstudio_auth: str = "iam"
    rstudio_session_instance_type: str = "ml.t3.medium"
    rstudio_connect_url: str = ""
    rstudio_package_manager_url: str = ""
    rstudio_license_product: str = "RSW-SageMaker"
    # sagemaker mode: the Posit Workbench version of the domain's RStudioServerPro app and of the RSession image
    # (AWS requires them to match). Versions and their AWS facts: stacks/studio/versions.py.
    rstudio_workbench_version: str = versions.DEFAULT_WORKBENCH_VERSION
    # Stop the RStudio host (ec2) or delete RSession apps (sagemaker) after this many idle minutes; 0: never.
    rstudio_idle_stop_minutes: int = 120
    rstudio_idle_cpu_percent: float = 5.0
    # Processing jobs may only use these instance types (enforced by IAM and by the client).
    job_instance_types: tuple[str, ...] = DEFAULT_JOB_INSTANCE_TYPES
    job_default_instance_type: str = "ml.c5.xlarge"
    # The client refuses more instances than this per job (IAM has no condition key for instance count).
    job_max_instances: int = 20
    job_max_runtime_seconds: int = 86_400
    vpc_cidr: str = "10.42.0.0/16"
    # NAT gateways give the RStudio host's subnet a way out to install software; job subnets never get one.
    nat_gateways: int = 1
    # Bring your own network (docs/landing-zone.md): an existing VPC and its subnets, all four keys or none, one
    # workspace and one job subnet per zone in the order of availability_zones. Taken as given (no lookup, so
    # synth needs no credentials); a deploy-time check refuses job subnets that route to the internet. With them
    # the platform creates no VPC, NAT, internet gateway or flow logs, and vpc_cidr and nat_gateways are unused.
    vpc_id: str = ""
    workspace_subnet_ids: tuple[str, ...] = ()
    job_subnet_ids: tuple[str, ...] = ()
    availability_zones: tuple[str, ...] = ()
    # "all": the interface endpoints the mode needs, with private DNS; "none": the landing zone provides them
    # centrally (a deploy-time check lists the required services that do not resolve privately).
    interface_endpoints: str = "all"
    # Availability zones that get an interface endpoint (each one costs per zone-hour).
    endpoint_azs: int = 2
    # Every IAM role the app creates gets this permissions boundary (and, if set, this path).
    permissions_boundary_arn: str = ""
    iam_role_path: str = ""
    # Cost tags on every taggable resource, `Key=value` pairs (or a JSON object in cdk.json), next to `platform`.
    tags: tuple[str, ...] = ()
    # Keep the bucket, EFS home directories and user images on `cdk destroy` unless this is true.
    delete_data_on_destroy: bool = False
    # Optional monthly cost budget for the platform (its `platform` cost-allocation tag) in USD, 0 = none, and
    # who gets its alerts (at 80% actual and 100% forecast).
    budget_monthly_usd: int = 0
    budget_alert_email: str = ""

    # Filled by from_context: the keys the admin set, which tells an explicitly empty rstudio_users from an unset one.
    overrides: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def users(self) -> tuple[RStudioUser, ...]:
        """The validated `rstudio_users` (validate() has already refused bad entries)."""
        entries = self.rstudio_users
        if not entries and "rstudio_users" not in self.overrides:
            entries = (self.rstudio_user,)
        return parse_users(entries, mode=self.rstudio_mode, platform_name=self.platform_name)

    @property
    def tag_map(self) -> dict[str, str]:
        """The validated `tags` as key -> value."""
        return dict(item.split("=", 1) for item in self.tags)

    @property
    def job_config_parameter_name(self) -> str:
        return f"/{self.platform_name}/job-config"

    @classmethod
    def from_context(cls, context: Mapping[str, Any]) -> Settings:
        """Build settings from a CDK context mapping (keys with ':' or '@' belong to CDK and are skipped)."""
        known = {f.name: f for f in fields(cls) if f.name != "overrides"}
        values: dict[str, Any] = {}
        for key, raw in context.items():
            if ":" in key or key.startswith("@"):
                continue
            if key not in known:
                raise SettingsError(f"unknown context key '{key}'; known keys: {', '.join(sorted(known))}")
            values[key] = coerce(key, raw, known[key].default)
        settings = cls(**values, overrides=dict(context))
        settings.validate()
        return settings

    def validate(self) -> None:
        """Every RULES entry, then the checks that need more than one key or a better message."""
        for rule in RULES:
            rule.check(self)
        for cidr in self.rstudio_allowed_cidrs:
            _check_viewer_cidr(cidr)
        if self.rstudio_mode != "none":
            try:
                self.users  # noqa: B018 - parsing is the check
            except UsersError as error:
                # Without rstudio_users the one user is rstudio_user: name the key the admin actually set.
                key = "rstudio_users" if self.rstudio_users or "rstudio_users" in self.overrides else "rstudio_user"
                raise SettingsError(f"context key '{key}': {error}") from None
        _check(
            self,
            "job_default_instance_type",
            self.job_default_instance_type in self.job_instance_types,
            f"one of job_instance_types ({', '.join(self.job_instance_types)})",
        )
        _check(
            self,
            "rstudio_certificate_arn",
            (not self.rstudio_certificate_arn) == (not self.rstudio_domain_name)
            and (
                not self.rstudio_certificate_arn
                or bool(
                    re.fullmatch(r"arn:aws[\w-]*:acm:us-east-1:\d{12}:certificate/[\w-]+", self.rstudio_certificate_arn)
                )
            ),
            "an ACM certificate ARN in us-east-1 (CloudFront's region), given together with rstudio_domain_name",
        )
        _check(
            self,
            "budget_alert_email",
            (self.budget_monthly_usd == 0 and not self.budget_alert_email)
            or (
                self.budget_monthly_usd > 0 and bool(re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", self.budget_alert_email))
            ),
            "an e-mail address when budget_monthly_usd is set, else empty",
        )
        # Checked where it is used (sagemaker mode) and wherever it is set: an unused default that AWS retires
        # later must not break an ec2 deploy.
        if self.rstudio_mode == "sagemaker" or "rstudio_workbench_version" in self.overrides:
            try:
                versions.check_version(self.rstudio_workbench_version, versions.today())
            except versions.VersionRefused as refused:
                _check(self, "rstudio_workbench_version", False, str(refused))
        problem = landing_zone_problem(self)
        if problem:
            raise SettingsError(problem)
        if self.rstudio_mode == "ec2" and self.nat_gateways == 0 and not self.vpc_id:
            raise SettingsError(
                "context key 'nat_gateways': got '0'; the ec2 RStudio host needs at least 1 to install "
                "software (or set rstudio_mode=none)"
            )


@dataclass(frozen=True)
class Rule:
    """One key's check: `ok(value)` or one line naming the key, the value and what is `allowed`.

    With `each`, the key holds a list and every item is checked (the message names the item)."""

    key: str
    ok: Callable[[Any], bool]
    allowed: str
    each: bool = False

    def check(self, settings: Settings) -> None:
        value = getattr(settings, self.key)
        for item in value if self.each else (value,):
            _check(settings, self.key, self.ok(item), self.allowed, item if self.each else None)


def _matches(pattern: str) -> Callable[[Any], bool]:
    return lambda value: bool(re.fullmatch(pattern, value))


def _one_of(*choices: str) -> Callable[[Any], bool]:
    return lambda value: value in choices


def _between(low: float, high: float) -> Callable[[Any], bool]:
    return lambda value: low <= value <= high


def _empty_or(pattern: str) -> Callable[[Any], bool]:
    return lambda value: not value or bool(re.fullmatch(pattern, value))


def _vpc_cidr(value: str) -> bool:
    try:
        vpc = ipaddress.ip_network(value, strict=True)
    except ValueError:
        return False
    return vpc.version == 4 and 16 <= vpc.prefixlen <= 20


_ML_TYPE = r"ml\.[a-z0-9-]+\.[a-z0-9]+"
SUBNET_ID = r"subnet-[0-9a-f]{8,17}"
RULES: tuple[Rule, ...] = (
    Rule(
        "platform_name",
        # '-' separates a platform's name from its users' and jobs' in job names, log streams and S3 keys: a
        # platform `simlab-dev` would share `simlab-*` with platform `simlab` (stacks/jobs/access.py JobScope).
        _matches(r"[a-z][a-z0-9]{1,19}"),
        "2-20 lowercase letters and digits, starting with a letter "
        "(no '-': it separates a platform's job names from its users')",
    ),
    Rule("rstudio_mode", _one_of("ec2", "sagemaker", "none"), "one of ec2, sagemaker, none"),
    Rule("rstudio_auth", _one_of("iam", "sso"), "one of iam, sso"),
    Rule("rstudio_session_instance_type", _matches(_ML_TYPE), "a SageMaker instance type such as ml.t3.medium"),
    Rule("rstudio_connect_url", _empty_or(r"https://[^\s'\"]+"), "empty or an https:// URL"),
    Rule("rstudio_package_manager_url", _empty_or(r"https://[^\s'\"]+"), "empty or an https:// URL"),
    Rule(
        "rstudio_license_product",
        _matches(r"[\w .+-]{1,100}"),
        "a License Manager product name such as RSW-SageMaker",
    ),
    Rule("rstudio_access", _one_of("cloudfront", "ssm"), "one of cloudfront, ssm"),
    Rule("rstudio_instance_type", _matches(r"[a-z][a-z0-9-]*\.[a-z0-9]+"), "an EC2 instance type such as m6i.xlarge"),
    Rule(
        "rstudio_ami_parameter",
        _empty_or(r"/[\w.\-/]+"),
        "empty (Canonical's current Ubuntu LTS) or an SSM parameter name such as /simlab/rstudio-ami",
    ),
    Rule("rstudio_volume_gb", _between(30, 16_384), "an integer from 30 to 16384"),
    Rule(
        "rstudio_user",
        lambda name: bool(LINUX_NAME.fullmatch(name)) and name not in RESERVED_NAMES,
        f"a Linux user name (lowercase, up to 32 characters), not {', '.join(RESERVED_NAMES)}",
    ),
    Rule("rstudio_idle_stop_minutes", _between(0, 10_080), "0 (off) or minutes up to 10080 (a week)"),
    Rule("rstudio_idle_cpu_percent", lambda value: 0 < value < 100, "a percentage between 0 and 100"),
    Rule("job_instance_types", lambda types: len(types) > 0, "a non-empty list of ml.* types"),
    Rule("job_instance_types", _matches(_ML_TYPE), "SageMaker instance types such as ml.c5.xlarge", each=True),
    Rule("job_max_instances", _between(1, 100), "an integer from 1 to 100"),
    Rule(
        "job_max_runtime_seconds",
        _between(60, MAX_PROCESSING_RUNTIME_SECONDS),
        f"an integer from 60 to {MAX_PROCESSING_RUNTIME_SECONDS} (SageMaker's limit)",
    ),
    Rule("vpc_cidr", _vpc_cidr, "an IPv4 CIDR from /16 to /20, e.g. 10.42.0.0/16"),
    Rule("nat_gateways", _between(0, 2), "an integer from 0 to 2"),
    Rule("vpc_id", _empty_or(r"vpc-[0-9a-f]{8,17}"), "empty or a VPC ID such as vpc-0123456789abcdef0"),
    Rule("workspace_subnet_ids", _matches(SUBNET_ID), "subnet IDs such as subnet-0123456789abcdef0", each=True),
    Rule("job_subnet_ids", _matches(SUBNET_ID), "subnet IDs such as subnet-0123456789abcdef0", each=True),
    Rule(
        "availability_zones",
        _matches(r"[a-z]{2}(-[a-z]+)+-\d[a-z]"),
        "availability zone names such as eu-west-1a",
        each=True,
    ),
    Rule("interface_endpoints", _one_of("all", "none"), "one of all, none"),
    Rule("endpoint_azs", _between(1, 2), "1 or 2 (availability zones that get each interface endpoint)"),
    Rule(
        "permissions_boundary_arn",
        _empty_or(r"arn:aws[a-z-]*:iam::(\d{12}|aws):policy/([\w+=,.@-]+/)*[\w+=,.@-]{1,128}"),
        "empty or an IAM managed policy ARN such as arn:aws:iam::123456789012:policy/OrgBoundary",
    ),
    Rule(
        "iam_role_path",
        lambda value: not value or (len(value) <= 512 and bool(re.fullmatch(r"/([\w+=,.@-]+/)*", value))),
        "empty or an IAM path that starts and ends with '/', such as /simlab/",
    ),
    Rule(
        "rstudio_server_version",
        _matches(posit.VERSION_PATTERN),
        f"an RStudio Server release as Posit writes it, e.g. {posit.RSTUDIO_VERSION} or "
        f"{posit.RSTUDIO_VERSION.replace('-', '+')}",
    ),
    Rule(
        "rstudio_server_sha256",
        _empty_or(r"[0-9a-f]{64}"),
        "empty or 64 lowercase hexadecimal digits (the SHA-256 Posit publishes for the .deb)",
    ),
    Rule(
        "rstudio_domain_name",
        _empty_or(r"([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"),
        "empty or a lowercase DNS name such as rstudio.example.org",
    ),
    Rule("budget_monthly_usd", _between(0, 1_000_000), "0 (no budget) to 1000000"),
)


def _check_viewer_cidr(cidr: str) -> None:
    try:
        network = ipaddress.ip_network(cidr, strict=True)
    except ValueError:
        raise SettingsError(
            f"context key 'rstudio_allowed_cidrs': got '{cidr}'; allowed: IPv4 or IPv6 CIDRs "
            "with no host bits set, e.g. 203.0.113.0/24"
        ) from None
    if network.prefixlen < MIN_ALLOWED_PREFIX[network.version]:
        raise SettingsError(
            f"context key 'rstudio_allowed_cidrs': got '{cidr}'; allowed: IPv4 networks of "
            f"/{MIN_ALLOWED_PREFIX[4]} or narrower, IPv6 of /{MIN_ALLOWED_PREFIX[6]} or narrower (broader ones "
            "span unrelated organisations; 0.0.0.0/1 + 128.0.0.0/1 is the internet)"
        )


def _check(settings: Settings, key: str, ok: bool, allowed: str, value: Any = None) -> None:
    if not ok:
        shown = getattr(settings, key) if value is None else value
        if isinstance(shown, tuple):
            shown = ",".join(shown)
        raise SettingsError(f"context key '{key}': got '{shown}'; allowed: {allowed}")
