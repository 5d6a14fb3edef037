"""One Resources value for every front door: checked when made, resolved against the platform's limits."""

from __future__ import annotations

import json

import pytest

from simulation.client import Resources
from simulation.client.config import parse_config
from simulation.errors import SimulationError

CONFIG = {
    "platform": "simlab",
    "image_uri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/cdk-assets:abc123",
    "execution_role_arn": "arn:aws:iam::123456789012:role/x",
    "bucket": "b",
    "subnet_ids": ["subnet-1"],
    "security_group_ids": ["sg-1"],
    "allowed_instance_types": ["ml.c5.xlarge", "ml.m5.4xlarge"],
    "default_instance_type": "ml.c5.xlarge",
    "max_instances": 4,
    "max_runtime_seconds": 7200,
    "ecr_repository_uri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/users",
}
config = parse_config("simlab", json.dumps(CONFIG))


def test_defaults_come_from_the_platform():
    # by hand from CONFIG: its default type, one host, 10 GB, min(4 h, the platform's 2 h), the bundled image
    resolved = Resources().resolve(config)
    assert (resolved.instance_type, resolved.instance_count, resolved.volume_size_gb) == ("ml.c5.xlarge", 1, 10)
    assert resolved.max_runtime_seconds == 7200
    assert resolved.image_uri == CONFIG["image_uri"]
    assert Resources().resolve(config, default_count=3).instance_count == 3


def test_values_from_r_are_normalized_when_made():
    made = Resources.of({"instance_count": 2.0, "volume_size_gb": "20", "max_runtime_seconds": 60.0, "name": "n"})
    assert made == Resources(instance_count=2, volume_size_gb=20, max_runtime_seconds=60, name="n")


@pytest.mark.parametrize(
    ("resources", "message"),
    [
        ({"instance_count": 2.5}, "instance count must be a whole number, got 2.5"),
        ({"instance_count": 0}, "instance count must be at least 1, got 0"),
        ({"volume_size_gb": 16385}, "volume size must be at most 16384, got 16385"),
        ({"name": "-x"}, "invalid job name '-x'"),
        ({"instance_typ": "ml.c5.xlarge"}, "unknown resource 'instance_typ'"),
    ],
)
def test_bad_values_are_one_line_naming_them(resources, message):
    with pytest.raises(SimulationError, match=message.replace(".", r"\.")):
        Resources.of(resources)


@pytest.mark.parametrize(
    ("resources", "message"),
    [
        (Resources(instance_count=5), "instance count must be at most 4, got 5"),
        (Resources(instance_type="ml.p4d.24xlarge"), "instance type 'ml.p4d.24xlarge' is not allowed"),
        (Resources(max_runtime_seconds=7201), r"max runtime \(seconds\) must be at most 7200, got 7201"),
        (Resources(image="docker.io/library/r-base:4"), "image docker.io/library/r-base:4 is in a foreign registry"),
        # a repository whose name merely starts with the platform's is another repository
        (Resources(image=CONFIG["ecr_repository_uri"] + "-other:1"), "-other:1 is not allowed; jobs run only"),
    ],
)
def test_platform_limits_are_enforced_when_resolved(resources, message):
    with pytest.raises(SimulationError, match=message):
        resources.resolve(config)


def test_users_images_come_from_the_platforms_repository():
    tagged = CONFIG["ecr_repository_uri"] + ":v3"
    pinned = CONFIG["ecr_repository_uri"] + "@sha256:" + "a" * 64
    assert Resources(image=tagged).resolve(config).image_uri == tagged
    assert Resources(image=pinned).resolve(config).image_uri == pinned
