"""Per-user logins on the EC2 host: one secret and one output per user, no password anywhere in
the template, the users and roles in the user data, and the bootstrap's user handling run for real in bash
with the account commands (useradd, usermod, gpasswd, ...) replaced by recorders."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from stacks.workspace import bootstrap
from tests.conftest import synthesize
from tests.infra.helpers import render_join, resources

CONTEXT = {"rstudio_users": "alice:admin,bob,carol2:user", "rstudio_access": "ssm"}
ARN_A = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:simlab-a-AbCdEf"
ARN_B = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:simlab-b-GhIjKl"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> dict[str, Any]:
    return synthesize(CONTEXT, tmp_path_factory.mktemp("users.out")).template_json["workspace"]


def test_one_generated_secret_per_user_readable_by_the_host(workspace):
    secrets = resources(workspace, "AWS::SecretsManager::Secret")
    assert len(secrets) == 3
    for secret in secrets.values():
        assert "GenerateSecretString" in secret["Properties"]
        assert "SecretString" not in secret["Properties"]
    # The first user keeps the single-user release's secret (same logical ID prefix "RStudioLogin").
    assert sum(1 for k in secrets if k.startswith("RStudioLogin") and not k.startswith("RStudioLoginBob")) >= 1
    granted = json.dumps([r for r in resources(workspace, "AWS::IAM::Policy").values()])
    for logical_id in secrets:
        assert logical_id in granted


def test_an_output_per_user_prints_their_password(workspace):
    outputs = {k: render_join(v["Value"], "ARN") for k, v in workspace["Outputs"].items()}
    commands = {k: v for k, v in outputs.items() if k.startswith("RStudioPasswordCommand")}
    assert sorted(commands) == [
        "RStudioPasswordCommandAlice2000",
        "RStudioPasswordCommandBob2001",
        "RStudioPasswordCommandCarol22002",
    ]
    for command in commands.values():
        assert command.startswith("aws secretsmanager get-secret-value ")


def test_user_data_names_users_roles_and_uids_and_no_password(workspace):
    (instance,) = resources(workspace, "AWS::EC2::Instance").values()
    script = render_join(instance["Properties"]["UserData"]["Fn::Base64"], "TOKEN")
    line = next(x for x in script.splitlines() if x.startswith("export SIMLAB_USERS="))
    assert line == "export SIMLAB_USERS='alice:admin:2000:TOKEN bob:user:2001:TOKEN carol2:user:2002:TOKEN'"


def _run_bootstrap(tmp_path: Path, users: str, before: str = "") -> tuple[list[str], Path]:
    """Source bootstrap.sh and run create_users with every account command recorded instead of run."""
    calls = tmp_path / "calls"
    homes = tmp_path / "home"
    homes.mkdir(exist_ok=True)
    stubs = "\n".join(
        f'{cmd}() {{ echo "{cmd} $*" >> "{calls}"; }}' for cmd in ("groupadd", "useradd", "usermod", "gpasswd", "chown")
    )
    program = f"""
set -euo pipefail
source {bootstrap.SCRIPT}
source {bootstrap.SETUP}
{stubs}
getent() {{ return 2; }}
id() {{ return 1; }}
{before}
create_users > /dev/null
each_user
"""
    env = {
        "PATH": os.environ["PATH"],
        "SIMLAB_REGION": "eu-west-1",
        "SIMLAB_PLATFORM": "simlab",
        "SIMLAB_JOB_CONFIG_PARAMETER": "/simlab/job-config",
        "SIMLAB_USERS": users,
        "SIMLAB_USER_ROLE_ARN": "arn:aws:iam::123456789012:role/simlab-{user}-rstudio",
        "SIMLAB_FILE_SYSTEM_ID": "fs-1",
        "SIMLAB_PACKAGE_S3_URL": "s3://b/k",
        "SIMLAB_STACK_NAME": "simlab-workspace",
        "SIMLAB_LOGICAL_ID": "Host",
        "SIMLAB_RSTUDIO_VERSION": "1",
        "SIMLAB_RSTUDIO_DEB_URL": "https://example.invalid/r.deb",
        "SIMLAB_RSTUDIO_KEY_URL": "https://example.invalid/k.asc",
        "SIMLAB_RSTUDIO_KEY_FINGERPRINT": "0" * 40,
        "SIMLAB_ARCH": "amd64",
        "SIMLAB_LISTEN_ADDRESS": "127.0.0.1",
        "SIMLAB_SECURE_COOKIES": "0",
        "SIMLAB_PIP_CONSTRAINTS": "boto3==1.0",
        "SIMLAB_HOME_ROOT": str(homes),
        "SIMLAB_SUDOERS": str(tmp_path / "sudoers"),
    }
    result = subprocess.run(["bash", "-c", program], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    recorded = calls.read_text().splitlines() if calls.exists() else []
    return recorded + ["--- each_user", *result.stdout.splitlines()], homes


def test_bootstrap_creates_each_user_and_gives_sudo_and_docker_to_admins_only(tmp_path):
    calls, homes = _run_bootstrap(tmp_path, f"alice:admin:2000:{ARN_A} bob:user:2001:{ARN_B}")
    accounts = [c for c in calls if c.startswith(("useradd", "usermod"))]
    assert accounts == [
        f"useradd --uid 2000 --gid 2000 --shell /bin/bash --home-dir {homes}/alice --no-create-home alice",
        "usermod -aG docker,simlab-admins alice",
        f"useradd --uid 2001 --gid 2001 --shell /bin/bash --home-dir {homes}/bob --no-create-home bob",
    ]
    assert [c for c in calls if c.startswith("gpasswd")] == [
        "gpasswd -d bob docker",
        "gpasswd -d bob simlab-admins",
        "gpasswd -d bob sudo",
        "gpasswd -d bob admin",
    ]
    assert (tmp_path / "sudoers").read_text() == "%simlab-admins ALL=(ALL:ALL) ALL\n"
    for name in ("alice", "bob"):
        assert (homes / name).stat().st_mode & 0o777 == 0o750
    # The ARNs keep their colons through the parsing.
    assert calls[calls.index("--- each_user") + 1 :] == [f"alice admin 2000 {ARN_A}", f"bob user 2001 {ARN_B}"]


def test_bootstrap_gives_an_existing_home_back_to_its_user_after_a_uid_change(tmp_path):
    (tmp_path / "home" / "bob").mkdir(parents=True)  # owned by the test's uid, not 2001
    calls, _ = _run_bootstrap(tmp_path, f"bob:user:2001:{ARN_B}")
    assert f"chown -R bob:bob {tmp_path}/home/bob" in calls
