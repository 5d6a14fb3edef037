"""Exact platform boundaries: no two valid platform names, and no platform and another platform's user, reach each
other's jobs, job logs or S3 prefixes through the IAM resource patterns their job accesses are built from.

Names come from hypothesis, held to what the settings accept (platform_name) and what a SageMaker-mode user
list accepts; the patterns come from JobScope, which the synthesized policies use (checked on both synths at the
end); matching is IAM's wildcard matching (tests/client/iam_eval.py). Job names and log streams are account-wide,
so they are compared across platforms; object keys only within one platform, because every platform has its own
data bucket and every policy names buckets by exact ARN (also checked below).
"""

from __future__ import annotations

import json

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from stacks.jobs.access import JobScope
from stacks.settings import Settings, SettingsError
from stacks.users import UsersError, parse_users
from tests.client.iam_eval import matches
from tests.infra.helpers import iam_statements, render_join

PLATFORM = st.from_regex(r"[a-z][a-z0-9-]{1,19}", fullmatch=True)  # wider than allowed: the settings decide
USER = st.from_regex(r"[a-z][a-z0-9]{0,16}", fullmatch=True)
TAIL = st.from_regex(r"[a-z0-9]{1,12}(-[a-z0-9]{1,12}){0,3}", fullmatch=True)  # a job's own name and suffix


def _valid_platform(name: str) -> bool:
    try:
        Settings.from_context({"platform_name": name, "rstudio_mode": "none"})
    except SettingsError:
        return False
    return True


def _valid_user(platform: str, user: str) -> bool:
    try:
        parse_users((user,), mode="sagemaker", platform_name=platform)
    except UsersError:
        return False
    return True


def _names(scope: JobScope, tail: str) -> dict[str, str]:
    """What one of `scope`'s jobs is called where IAM sees it: job name, a log stream, an object key."""
    job = f"{scope.job_name_prefix}-{tail}"
    return {"job": job, "stream": f"{job}/algo-1-1700000000", "key": f"jobs/{job}/output/summary.json"}


def _patterns(scope: JobScope) -> dict[str, list[str]]:
    """The resource patterns of `scope`'s statements, by what they match (in its own platform's bucket)."""
    keys = [f"{scope.job_objects}*"] + ([f"{scope.submitter_objects}*"] if scope.submitter_objects else [])
    return {"job": [scope.job_name_pattern], "stream": [scope.job_name_pattern], "key": keys}


def _reaches(
    scope: JobScope, other: JobScope, tail: str, kinds: tuple[str, ...] = ("job", "stream", "key")
) -> list[str]:
    patterns, names = _patterns(scope), _names(other, tail)
    return [f"{kind} {names[kind]}" for kind in kinds if any(matches(p, names[kind]) for p in patterns[kind])]


ACCOUNT_WIDE = ("job", "stream")


@settings(max_examples=300, deadline=None)
@given(PLATFORM, PLATFORM, USER, USER, TAIL)
def test_no_two_platforms_or_their_users_reach_each_other(first, second, user, other_user, tail):
    assume(first != second and _valid_platform(first) and _valid_platform(second))
    assume(_valid_user(first, user) and _valid_user(second, other_user))
    scopes = {
        "platform A": JobScope.platform(first),
        "A's user": JobScope.for_user(first, user),
    }
    others = {
        "platform B": JobScope.platform(second),
        "B's user": JobScope.for_user(second, other_user),
    }
    for who, scope in scopes.items():
        for whom, other in others.items():
            assert _reaches(scope, other, tail, ACCOUNT_WIDE) == [], f"{who} ({first}) reaches {whom} ({second})"
            assert _reaches(other, scope, tail, ACCOUNT_WIDE) == [], f"{whom} ({second}) reaches {who} ({first})"


@settings(max_examples=200, deadline=None)
@given(PLATFORM, USER, USER, TAIL)
def test_no_user_reaches_another_user_of_the_same_platform(platform, user, other, tail):
    assume(user != other and _valid_platform(platform))
    assume(_valid_user(platform, user) and _valid_user(platform, other))
    assert _reaches(JobScope.for_user(platform, user), JobScope.for_user(platform, other), tail) == []


def test_a_dash_in_a_platform_name_is_refused_because_it_would_overlap():
    # What the rule prevents: with '-', platform simlab's patterns would reach platform simlab-dev's jobs.
    overlapping = JobScope(job_name_prefix="simlab-dev", submitter_objects="", job_objects="jobs/", request_tags={})
    assert _reaches(JobScope.platform("simlab"), overlapping, "sim-20261206-120000-0a1b2c3d", ACCOUNT_WIDE) != []
    assert not _valid_platform("simlab-dev")
    with pytest.raises(ValueError, match="lowercase letters and digits only"):
        JobScope.platform("simlab-dev")
    with pytest.raises(ValueError, match="lowercase letters and digits only"):
        JobScope.for_user("simlab", "al-x")


STUDIO_LOG_STREAMS = ":log-group:/aws/sagemaker/studio:log-stream:"


@pytest.mark.parametrize("mode", ["ec2", "sagemaker"])
def test_the_synthesized_patterns_are_the_job_scopes(synth_of, mode):
    """Every job, log-stream and object pattern in the app's identity policies is one of its JobScopes' patterns."""
    synthesized = synth_of(mode)
    platform = synthesized.settings.platform_name
    scopes = [JobScope.platform(platform)] + [JobScope.for_user(platform, u.name) for u in synthesized.settings.users]
    allowed = {f":processing-job/{scope.job_name_pattern}" for scope in scopes}
    allowed |= {f":log-stream:{scope.job_name_pattern}" for scope in scopes}
    allowed |= {f"/{scope.job_objects}*" for scope in scopes} | {f"/{scope.submitter_objects}*" for scope in scopes}
    seen = set()
    for template in synthesized.template_json.values():
        for _, statement in iam_statements(template):
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            for resource in resources:
                text = render_join(resource)
                if STUDIO_LOG_STREAMS in text:
                    # The idle reaper reads the domain's own RSession streams, not jobs': only under its domain ID.
                    assert text.endswith(":log-stream:TOKEN/*"), f"{json.dumps(resource)} is wider than the domain"
                    continue
                for marker in (":processing-job/", ":log-stream:", "/jobs/"):
                    if marker in text:
                        tail = text[text.index(marker) :]
                        assert tail in allowed, f"{json.dumps(resource)} is not a JobScope pattern"
                        seen.add(tail)
    users = (
        [f":processing-job/{platform}-{u.name}-*" for u in synthesized.settings.users] if mode == "sagemaker" else []
    )
    assert {f":processing-job/{platform}-*", *users} <= seen


@pytest.mark.parametrize("mode", ["ec2", "sagemaker"])
def test_buckets_are_named_exactly(synth_of, mode):
    """No identity policy names a bucket by a pattern: object patterns stay inside one platform's own bucket."""
    checked = 0
    for template in synth_of(mode).template_json.values():
        for _, statement in iam_statements(template):
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            for resource in resources:
                text = render_join(resource)
                if ":s3:::" in text or text.startswith("TOKEN/"):  # a literal bucket ARN, or a bucket's objects
                    bucket = text.split(":s3:::", 1)[-1].split("/", 1)[0]
                    assert not set(bucket) & {"*", "?"}, text
                    checked += 1
    assert checked, "no object resource seen: the walk above would pass vacuously"
