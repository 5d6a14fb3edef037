"""The client reads the AWS and platform environment on every call: a changed region, credentials or platform
takes effect at the next call, in Python and from R (where Python's os.environ is a copy made when it started)."""

from __future__ import annotations

import pytest

from simulation.client import aws as client_aws
from simulation.client import list_jobs, load_config
from simulation.errors import SimulationError
from tests.client.helpers import rscript


def test_a_changed_region_reaches_the_next_call(aws, monkeypatch):
    assert load_config().bucket == aws.bucket  # eu-west-1, where the job config is
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")  # a region where this platform is not deployed
    with pytest.raises(SimulationError, match=r"^no job configuration at SSM parameter /simlab/job-config: "):
        load_config()
    monkeypatch.setenv("AWS_DEFAULT_REGION", aws.region)
    assert load_config().bucket == aws.bucket


def test_a_region_set_after_the_no_region_error_is_used(aws, monkeypatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION", raising=False)
    with pytest.raises(SimulationError, match=r"^no AWS region configured: set AWS_DEFAULT_REGION"):
        list_jobs()
    monkeypatch.setenv("AWS_DEFAULT_REGION", aws.region)
    assert list_jobs() == []


def test_new_credentials_reach_the_next_call(aws, monkeypatch):
    assert load_config().platform == "simlab"
    sts = client_aws.client("sts")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAOTHERUSER0000000")
    assert client_aws.client("sts") is not sts  # a new session: the old one holds the old credentials
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    assert load_config().platform == "simlab"


def test_the_caller_s_environment_replaces_python_s_copy_of_the_aws_and_platform_variables(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_PROFILE", "old")
    monkeypatch.setenv("SIMLAB_PLATFORM", "old")
    monkeypatch.setenv("HOME_UNRELATED_SETTING", "kept")
    client_aws.update_environment(
        {"AWS_DEFAULT_REGION": "us-west-2", "SIMLAB_USER": "bob", "HOME_UNRELATED_SETTING": "ignored"}
    )
    import os

    assert os.environ["AWS_DEFAULT_REGION"] == "us-west-2"
    assert os.environ["SIMLAB_USER"] == "bob"
    assert "AWS_PROFILE" not in os.environ  # unset by the caller: unset here
    assert "SIMLAB_PLATFORM" not in os.environ
    assert os.environ["HOME_UNRELATED_SETTING"] == "kept"  # only the client's own variables follow the caller


@pytest.mark.r
def test_from_r_sys_setenv_takes_effect_without_restarting_r(aws, r_library, tmp_path):
    done = rscript(
        aws,
        r_library,
        """
say <- function(expr) cat(tryCatch(expr, error = function(e) conditionMessage(e)), "\\n", sep = "")
invisible(simjobs_python())  # Python starts now, with this environment
Sys.unsetenv(c("AWS_DEFAULT_REGION", "AWS_REGION"))
say(list_jobs())
Sys.setenv(AWS_DEFAULT_REGION = "eu-west-1")
say(nrow(list_jobs()))
Sys.setenv(SIMLAB_PLATFORM = "other")
say(list_jobs())
Sys.unsetenv("SIMLAB_PLATFORM")
Sys.setenv(AWS_DEFAULT_REGION = "us-east-1")
say(list_jobs())
Sys.setenv(AWS_DEFAULT_REGION = "eu-west-1")
say(nrow(list_jobs()))
""",
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "no AWS region configured: set AWS_DEFAULT_REGION (or a profile's region)",
        "0",
        "no job configuration at SSM parameter /other/job-config: deploy the `other-jobs` stack "
        '(or pick another platform with platform = "NAME" / Sys.setenv(SIMLAB_PLATFORM = "NAME"))',
        "no job configuration at SSM parameter /simlab/job-config: deploy the `simlab-jobs` stack "
        '(or pick another platform with platform = "NAME" / Sys.setenv(SIMLAB_PLATFORM = "NAME"))',
        "0",
    ]
