"""The boot rehearsal (docs/rehearsal.md, make rehearse-boot): the ec2 workspace deployed into moto, then the host's
user data run in a systemd container whose only network is its own loopback. The heaviest test of the suite
(about 6 minutes on an idle 2-core machine, most of it pip and the bootstrap itself); selectable with `-m boot`.
"""

from __future__ import annotations

import os
import shutil

import pytest

from rehearsal.boot.run import Report, rehearse_boot

pytestmark = pytest.mark.boot

STEPS = [
    "stand-ins",
    "image",
    "machine",
    "deploy",
    "first boot",
    "host",
    "as each user",
    "isolation",
    "reboot",
    "every boot",
    "bad signature",
]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    for tool in ("podman", "debootstrap", "nsenter"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed: make system-deps")
    if os.geteuid() != 0:
        pytest.skip("the boot rehearsal needs root (podman with systemd, nsenter)")
    return rehearse_boot(tmp_path_factory.mktemp("boot"), say=lambda _: None)


def detail(report: Report, name: str) -> str:
    return next(step.detail for step in report.steps if step.name == name)


def test_every_step_succeeds(report: Report) -> None:
    failed = [f"{s.name}: {s.detail}" for s in report.steps if not s.ok]
    assert failed == []
    assert [s.name for s in report.steps] == STEPS


def test_the_host_has_its_users_their_homes_passwords_and_groups(report: Report) -> None:
    host = detail(report, "host")
    assert "/home is the mounted volume" in host
    assert "alice uid 2000, 0750 home on the volume, password from its secret, admin: sudo and docker" in host
    assert "bob uid 2001, 0750 home on the volume, password from its secret, user: neither sudo nor docker" in host
    assert "ssm-user (uid " in host
    assert ") without sudo or docker" in host
    assert "Received SUCCESS signal with UniqueId i-" in host
    assert "alice acts as assumed-role/rehearsal-alice-rstudio/alice" in host
    assert "bob acts as assumed-role/rehearsal-bob-rstudio/bob" in host


def test_each_user_loads_simjobs_and_submits_their_own_job(report: Report) -> None:
    users = detail(report, "as each user")
    for name in ("alice", "bob"):
        assert f"library(simjobs) and submit_simulation as {name}: rehearsal-{name}-" in users
        assert f"(tag user={name})" in users


def test_bob_reaches_neither_the_metadata_service_nor_alices_secret_or_objects(report: Report) -> None:
    isolation = detail(report, "isolation")
    assert "as bob: metadata service refused" in isolation
    assert "root reaches it" in isolation
    assert "as bob: alice's secret AccessDenied" in isolation
    assert "each writes their own prefix; as bob: alice's object denied (read and write)" in isolation


def test_a_second_run_changes_nothing(report: Report) -> None:
    assert "unchanged" in detail(report, "reboot")


def test_links_a_user_plants_in_their_home_reach_nothing_root_owns(report: Report) -> None:
    assert "bob's links (~/.aws, ~/examples into a root directory) reached nothing" in detail(report, "reboot")


def test_at_every_boot_rstudio_starts_only_after_the_metadata_rule(report: Report) -> None:
    boot = detail(report, "every boot")
    assert "at boot, RStudio starts only after the metadata rule: IMDS as bob refused again" in boot
    assert "without the rule, RStudio stays down" in boot


def test_each_home_holds_its_users_own_files(report: Report) -> None:
    assert "each home holds its user's own AWS config (0600), welcome.R and examples" in detail(report, "host")


def test_a_broken_signature_fails_the_deploy_with_the_reason(report: Report) -> None:
    bad = detail(report, "bad signature")
    assert "Received FAILURE signal with UniqueId i-" in bad
    assert "-failed-at-rstudio-signature" in bad
    assert "does not match its signed MD5" in bad
