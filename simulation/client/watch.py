"""Following a job: status changes with elapsed time, every host's CloudWatch log, a spinner on a terminal."""

from __future__ import annotations

import functools
import re
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from botocore.exceptions import ClientError

from simulation.client import aws
from simulation.client.config import JobConfig, load_config
from simulation.client.status import TERMINAL, describe, format_duration, raise_if_unsuccessful, status_of
from simulation.client.values import as_float
from simulation.errors import SimulationError

SPINNER = "|/-\\"


def say(message: str, stream: TextIO | None = None) -> None:
    """Progress and hints for people: stderr, so `--json` output on stdout stays one document."""
    print(message, file=stream or sys.stderr, flush=True)


def host_of(stream: str) -> str:
    """`job/algo-2-1700000000` -> `algo-2`."""
    tail = stream.split("/", 1)[-1]
    match = re.match(r"^(algo-\d+)", tail)
    return match.group(1) if match else tail


class LogTail:
    """Follows every host's CloudWatch stream of one job (`<job>/algo-N-<epoch>`), printing new lines."""

    def __init__(self, job: str, config: JobConfig, out: TextIO) -> None:
        self.job = job
        self.group = config.log_group
        self.logs = aws.client("logs", config.region)
        self.tokens: dict[str, str | None] = {}
        self.out = out

    def streams(self) -> list[str]:
        names: list[str] = []
        kwargs: dict[str, Any] = {"logGroupName": self.group, "logStreamNamePrefix": f"{self.job}/"}
        while True:
            try:
                page = aws.call_with_backoff(
                    functools.partial(self.logs.describe_log_streams, **kwargs),
                    f"listing log streams of {self.job}",
                    passthrough=frozenset({"ResourceNotFoundException"}),
                )
            except ClientError:  # no job has logged in this account yet
                return names
            names += [s["logStreamName"] for s in page.get("logStreams", [])]
            if not page.get("nextToken"):
                return names
            kwargs["nextToken"] = page["nextToken"]

    def poll(self) -> int:
        """Print what arrived since the last poll; returns the number of lines printed."""
        printed = 0
        for stream in self.streams():
            host = host_of(stream)
            while True:
                kwargs: dict[str, Any] = {"logGroupName": self.group, "logStreamName": stream, "startFromHead": True}
                if self.tokens.get(stream):
                    kwargs["nextToken"] = self.tokens[stream]
                page = aws.call_with_backoff(
                    functools.partial(self.logs.get_log_events, **kwargs), f"reading log stream {stream}"
                )
                for event in page.get("events", []):
                    print(f"[{host}] {event['message'].rstrip()}", file=self.out, flush=True)
                    printed += 1
                token = page.get("nextForwardToken")
                unchanged = token == self.tokens.get(stream)
                self.tokens[stream] = token
                if unchanged or not page.get("events"):
                    break
        return printed


def job_logs(job: str, platform: str | None = None, out: TextIO | None = None) -> int:
    """Print every host's log of a job once; returns the number of lines."""
    config = load_config(platform)
    describe(job, config)
    return LogTail(job, config, out or sys.stdout).poll()


def watch(
    job: str,
    *,
    config: JobConfig | None = None,
    platform: str | None = None,
    logs: bool = True,
    poll_seconds: float = 10.0,
    out: TextIO | None = None,
    err: TextIO | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Follow a job until it ends: status changes with elapsed time, host logs, a spinner on a terminal.

    Ctrl-C stops watching, not the job. A Failed or Stopped job raises JobFailed with AWS's reason.
    """
    poll_seconds = as_float(poll_seconds, "poll seconds")
    if poll_seconds < 0:
        raise SimulationError(f"poll seconds must not be negative, got {poll_seconds:g}")
    config = config or load_config(platform)
    out = out or sys.stdout
    err = err or sys.stderr
    tail = LogTail(job, config, out) if logs else None
    interactive = err.isatty()
    last = None
    spin = 0
    try:
        while True:
            status = status_of(describe(job, config))
            if status["status"] != last:
                if interactive:
                    err.write("\r\033[K")
                say(f"[{format_duration(status['duration_seconds'])}] {job}: {status['status']}", err)
                last = status["status"]
            if tail:
                tail.poll()
            if status["status"] in TERMINAL:
                break
            if interactive:
                spin += 1
                elapsed = format_duration(status["duration_seconds"])
                err.write(f"\r{SPINNER[spin % len(SPINNER)]} {status['status']} {elapsed}")
                err.flush()
            sleep(poll_seconds)
    except KeyboardInterrupt:
        if interactive:
            err.write("\r\033[K")  # over the spinner (and the ^C the terminal echoed), not below it
        say(f"stopped watching; {job} keeps running. Stop it with: python -m simulation stop {job}", err)
        raise
    if status["status"] == "Completed":
        say(
            f"{job} completed in {format_duration(status['duration_seconds'])}; "
            f"fetch it with: python -m simulation results {job}",
            err,
        )
    raise_if_unsuccessful(status)
    return status


def wait_for_job(job: str, platform: str | None = None, logs: bool = True, poll_seconds: Any = 10) -> dict[str, Any]:
    return watch(job, platform=platform, logs=logs, poll_seconds=as_float(poll_seconds, "poll seconds"))
