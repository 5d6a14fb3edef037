"""`rstudio_users` (both modes) and the sagemaker-mode settings: each bad value is one line naming the key,
and app.py turns it into exit 2 at synth."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from stacks.settings import Settings, SettingsError

ROOT = Path(__file__).resolve().parents[2]


def test_default_is_the_single_rstudio_user_with_its_old_uid():
    (user,) = Settings.from_context({}).users
    assert (user.name, user.admin, user.uid) == ("rstudio", False, 2000)
    (user,) = Settings.from_context({"rstudio_user": "stats"}).users
    assert user.name == "stats"


def test_roles_and_uids_follow_the_list():
    users = Settings.from_context({"rstudio_users": "alice:admin, bob ,carol:user"}).users
    assert [(u.name, u.admin, u.uid) for u in users] == [
        ("alice", True, 2000),
        ("bob", False, 2001),
        ("carol", False, 2002),
    ]
    assert Settings.from_context({"rstudio_users": '["dora:admin"]'}).users[0].admin


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"rstudio_users": "alice:root"}, "'alice:root' has role 'root'; roles are admin or user"),
        ({"rstudio_users": "alice,bob,alice:admin"}, "'alice' is listed twice"),
        ({"rstudio_users": "Alice"}, "'Alice' is not a valid name in ec2 mode"),
        # ec2 names are letters and digits too: each names a Linux account, an IAM role and a job-name prefix
        ({"rstudio_users": "carol_r"}, "'carol_r' is not a valid name in ec2 mode"),
        ({"rstudio_users": "root:admin"}, "'root' is taken on the host"),
        ({"rstudio_users": ""}, "the list is empty"),
        ({"rstudio_mode": "sagemaker", "rstudio_users": ""}, "the list is empty"),
        ({"rstudio_mode": "sagemaker", "rstudio_users": "al-x"}, "'al-x' is not a valid name in sagemaker mode"),
        ({"rstudio_mode": "sagemaker", "rstudio_users": "a_b"}, "'a_b' is not a valid name in sagemaker mode"),
        # "simlab" + "-" + 18 letters = 25 > 24 characters of job-name prefix.
        ({"rstudio_mode": "sagemaker", "rstudio_users": "abcdefghijklmnopqr"}, "at most 17 characters"),
        ({"rstudio_mode": "sagemaker", "rstudio_users": ",".join(f"u{i}" for i in range(61))}, "at most 60"),
    ],
)
def test_bad_user_lists_are_refused_naming_the_key(context, message):
    with pytest.raises(SettingsError) as caught:
        Settings.from_context(context)
    text = str(caught.value)
    assert text.startswith("context key 'rstudio_users': ")
    assert message in text
    assert "\n" not in text


def test_no_workspace_needs_no_users():
    assert Settings.from_context({"rstudio_mode": "none", "rstudio_users": ""}).rstudio_mode == "none"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("rstudio_auth", "ldap"),
        ("rstudio_session_instance_type", "t3.medium"),
        ("rstudio_connect_url", "http://connect.example.com"),
        ("rstudio_package_manager_url", "ftp://x"),
        ("rstudio_license_product", "bad'name"),
    ],
)
def test_sagemaker_settings_are_validated(key, value):
    with pytest.raises(SettingsError, match=f"^context key '{key}': got "):
        Settings.from_context({"rstudio_mode": "sagemaker", key: value})


def test_synth_exits_2_with_one_line_on_a_bad_user_list(tmp_path):
    env = dict(os.environ, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20")
    result = subprocess.run(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env={
            **env,
            "CDK_CONTEXT_JSON": '{"rstudio_mode": "sagemaker", "rstudio_users": "alice:root"}',
            "CDK_OUTDIR": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip() and "!!" not in line]
    assert lines == [
        "error: context key 'rstudio_users': 'alice:root' has role 'root'; roles are admin or user "
        "(name, name:admin, name:user)"
    ]
