"""boto3 sessions and clients in one place: retry policy, region, and turning AWS errors into one line.

Every AWS call of the client goes through `client()`, so tests can hook one session factory
(`new_session`) to see or count the requests, and the retry policy is set once.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import boto3
from boto3.exceptions import S3UploadFailedError
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from simulation.errors import SimulationError
from simulation.text import CALLER_ENV

# "adaptive" adds client-side rate limiting on top of standard's exponential backoff: several watchers
# polling one account share the DescribeProcessingJob / GetLogEvents quotas.
RETRY_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 8}, user_agent_extra="simlab-client")

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "SlowDown",
        "RequestThrottled",
        "ProvisionedThroughputExceededException",
    }
)


def new_session() -> boto3.session.Session:
    """A fresh session from the standard chain (env, profile, instance role). Tests patch this."""
    return boto3.session.Session()


# What the client reads from the environment: boto3's AWS_* (region, profile, credentials, endpoint) and the
# platform's SIMLAB_* (platform, user, job-config parameter).
ENVIRONMENT_PREFIXES = ("AWS_", "SIMLAB_")

_session: boto3.session.Session | None = None
_session_environment: tuple[tuple[str, str], ...] = ()
_clients: dict[tuple[str, str | None], Any] = {}


def _aws_environment() -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("AWS_")))


def session() -> boto3.session.Session:
    """The cached session, made again when the AWS_* environment changed since it was made: a session keeps
    the credentials and its clients the region it first resolved, and a long-lived caller (an R session)
    changes them with Sys.setenv() between calls."""
    global _session, _session_environment
    environment = _aws_environment()
    if _session is None or environment != _session_environment:
        reset()
        _session, _session_environment = new_session(), environment
    return _session


def reset() -> None:
    """Forget the cached session (new credentials, endpoint or hooks)."""
    global _session
    _session = None
    _clients.clear()


def update_environment(environment: Mapping[str, str]) -> None:
    """Take the AWS_* and SIMLAB_* variables from a caller's own environment (R's, on every call).

    Python copies the process environment into os.environ once, when it starts; R's Sys.setenv() afterwards
    changes the process environment but not that copy. So a caller passes its whole environment and this makes
    os.environ's client variables equal to it: set, changed, or removed when the caller has unset them.
    """
    wanted = {k: str(v) for k, v in environment.items() if k.startswith(ENVIRONMENT_PREFIXES)}
    for key in [k for k in os.environ if k.startswith(ENVIRONMENT_PREFIXES) and k not in wanted]:
        del os.environ[key]
    for key, value in wanted.items():
        if os.environ.get(key) != value:
            os.environ[key] = value


def leave_caller() -> None:
    """The end of a call from R (`update_environment` set SIMLAB_CALLER for it): hints are the shell's again."""
    os.environ.pop(CALLER_ENV, None)


def client(service: str, region: str | None = None) -> Any:
    """One client per service and region: building one loads its API model, which takes a while."""
    current = session()  # first: a changed environment empties the clients
    key = (service, region or None)
    if key in _clients:
        return _clients[key]
    try:
        _clients[key] = current.client(service, region_name=region or None, config=RETRY_CONFIG)
        return _clients[key]
    except NoRegionError:
        raise SimulationError("no AWS region configured: set AWS_DEFAULT_REGION (or a profile's region)") from None


def error_code(error: BaseException) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", ""))
    return ""


def is_throttling(error: BaseException) -> bool:
    return error_code(error) in THROTTLING_CODES


def as_user_error(error: BaseException, doing: str) -> SimulationError:
    """One line for the terminal: what we were doing and what AWS said."""
    if isinstance(error, NoCredentialsError):
        return SimulationError(f"{doing}: no AWS credentials found (log in, or set AWS_PROFILE)")
    if isinstance(error, ClientError):
        message = error.response.get("Error", {}).get("Message") or str(error)
        # one line whatever came back (an unparsed XML error body spans several)
        return SimulationError(f"{doing}: {error_code(error)}: {' '.join(str(message).split())}")
    if isinstance(error, BotoCoreError):
        return SimulationError(f"{doing}: {error}")
    return SimulationError(f"{doing}: {error}")


T = TypeVar("T")


def call_with_backoff(
    fn: Callable[[], T],
    doing: str,
    *,
    attempts: int = 6,
    base_seconds: float = 2.0,
    cap_seconds: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
    passthrough: frozenset[str] = frozenset(),
) -> T:
    """Our own loop around botocore's retries: a long watch outlives a burst of throttling.

    botocore gives up after `max_attempts`; a watcher that has waited an hour should not die for that,
    so throttling is retried here with full-jitter exponential backoff before it becomes an error.
    Error codes in `passthrough` reach the caller as the original ClientError.
    """
    for attempt in range(attempts):
        try:
            return fn()
        except ClientError as error:
            if error_code(error) in passthrough:
                raise
            if not is_throttling(error) or attempt == attempts - 1:
                raise as_user_error(error, doing) from None
            sleep(random.uniform(0, min(cap_seconds, base_seconds * 2**attempt)))
        except (BotoCoreError, S3UploadFailedError) as error:
            raise as_user_error(error, doing) from None
    raise AssertionError("unreachable")  # pragma: no cover
