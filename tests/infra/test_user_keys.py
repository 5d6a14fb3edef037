"""A bad single user is reported under the key the admin set: `rstudio_user` when `rstudio_users` is not set."""

from __future__ import annotations

import pytest

from stacks.settings import Settings, SettingsError


@pytest.mark.parametrize(
    ("context", "line"),
    [
        (
            {"rstudio_user": "nobody"},
            "context key 'rstudio_user': got 'nobody'; allowed: a Linux user name (lowercase, up to 32 characters), "
            "not root, ubuntu, ssm-user, rstudio-server, nobody, daemon",
        ),
        (
            {"rstudio_mode": "sagemaker", "rstudio_user": "carol_r"},
            "context key 'rstudio_user': 'carol_r' is not a valid name in sagemaker mode; use lowercase letters and "
            "digits, starting with a letter (it starts the user's profile, job names and S3 prefix)",
        ),
        (
            {"rstudio_mode": "sagemaker", "rstudio_user": "rstudio", "rstudio_users": "carol_r"},
            "context key 'rstudio_users': 'carol_r' is not a valid name in sagemaker mode; use lowercase letters and "
            "digits, starting with a letter (it starts the user's profile, job names and S3 prefix)",
        ),
    ],
)
def test_the_error_names_the_key_that_was_set(context, line):
    with pytest.raises(SettingsError) as caught:
        Settings.from_context(context)
    assert str(caught.value) == line
