"""The landing mode's leftovers: the VPC, subnets and NAT gateway the landing zone's own stack made stay after the
platform's destroy, as on AWS. They are kept by design (the landing zone's network), not "moto cannot delete", and
the platform's own leftovers of the same kinds keep their label. On reports made by hand (no emulator)."""

from __future__ import annotations

import rehearsal.__main__ as cli
from rehearsal.leftovers import LANDING_ZONE, apart, classify, unexpected
from rehearsal.run import Report, Step

LANDING_ZONE_IDS = {"vpc-lz", "subnet-p", "subnet-w1", "subnet-w2", "subnet-j1", "subnet-j2", "nat-lz"}
LEFT = {
    "vpcs": ["vpc-lz"],
    "subnets": ["subnet-j1", "subnet-j2", "subnet-p", "subnet-w1", "subnet-w2"],
    "nat gateways": ["nat-lz"],
    "buckets": ["rehearsal-data-x"],
    "iam roles": ["rehearsal-JobsExecution"],
}


def test_the_landing_zone_s_network_is_kept_by_design_not_an_emulator_limit():
    grouped = classify(apart(LEFT, LANDING_ZONE_IDS))
    assert LANDING_ZONE.startswith("kept by design (the landing zone's own network")
    assert grouped[LANDING_ZONE] == {
        "vpcs of the landing zone": ["vpc-lz"],
        "subnets of the landing zone": ["subnet-j1", "subnet-j2", "subnet-p", "subnet-w1", "subnet-w2"],
        "nat gateways of the landing zone": ["nat-lz"],
    }
    # what moto really cannot delete is still said so; the landing zone's pieces are not among it
    assert grouped["moto cannot delete (a real destroy does)"] == {"iam roles": ["rehearsal-JobsExecution"]}
    assert unexpected(apart(LEFT, LANDING_ZONE_IDS)) == {}


def test_a_platform_vpc_beside_the_landing_zone_keeps_the_emulator_s_label():
    left = {**LEFT, "vpcs": ["vpc-lz", "vpc-platform"], "subnets": [*LEFT["subnets"], "subnet-platform"]}
    grouped = classify(apart(left, LANDING_ZONE_IDS))
    assert grouped["moto cannot delete (a real destroy does)"]["vpcs"] == ["vpc-platform"]
    assert grouped["moto cannot delete (a real destroy does)"]["subnets"] == ["subnet-platform"]
    assert grouped[LANDING_ZONE]["vpcs of the landing zone"] == ["vpc-lz"]


def test_the_printed_table_says_why_the_landing_zone_s_network_is_left(tmp_path):
    steps = [Step(name, True, f"{name} detail", 1.0) for name in ("synth", "deploy", "destroy")]
    text = cli.table([Report("landing", tmp_path, steps, apart(LEFT, LANDING_ZONE_IDS))])
    lines = text.splitlines()
    title = lines.index(f"  {LANDING_ZONE}:")
    assert lines[title + 1] == "    vpcs of the landing zone: 1 (vpc-lz)"
    assert "vpc-lz" not in "\n".join(line for line in lines if "moto cannot delete" in line)
    moto = lines.index("  moto cannot delete (a real destroy does):")
    assert lines[moto + 1 :][:1] == ["    iam roles: 1 (rehearsal-JobsExecution)"]
    assert lines[-1] == "rehearsal PASSED: landing, every step ok"
