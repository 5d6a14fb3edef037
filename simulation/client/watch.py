"""Following a job: status changes with elapsed time, every host's CloudWatch log, and for the bundled simulation a
progress bar of blocks done / total, counted in the job's S3 output prefix (outputs upload continuously)."""

from __future__ import annotations

import functools
import json
import re
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from botocore.exceptions import ClientError

from simulation import engine
from simulation.client import aws
from simulation.client.config import JobConfig, load_config
from simulation.client.status import TERMINAL, describe, format_duration, raise_if_unsuccessful, status_of
from simulation.client.values import as_float
from simulation.errors import SimulationError
from simulation.job import layout, local_map
from simulation.text import hint, r_string, say

SPINNER = "|/-\\"


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


class BlockProgress:
    """Blocks done / total of a running simulation or sweep job, from its S3 output prefix.

    The total comes from the job's run.json (a sweep's lists its points); done counts the objects named exactly
    `blocks/block-NNNNNN.json` (also under `points/point-NNN/`), never an atomic write's temporary file.
    """

    BAR = 24

    def __init__(self, job: str, config: JobConfig) -> None:
        self.config = config
        self.prefix = layout.job_prefix(job, layout.OUTPUT_PART)
        self.total: int | None = None
        self.s3 = aws.client("s3", config.region)

    def _total(self) -> int | None:
        try:
            body = self.s3.get_object(Bucket=self.config.bucket, Key=self.prefix + layout.RUN_FILE)["Body"].read()
            record = json.loads(body)
        except ClientError:  # not written yet
            return None
        except ValueError:
            return None
        try:
            if record.get("kind") == "sweep":
                iterations = int(record["iterations"])
                return sum(engine.block_count(iterations, int(p["people"])) for p in record["points"])
            return int(record["block_count"])
        except (KeyError, TypeError, ValueError, AttributeError):
            return None

    def poll(self) -> tuple[int, int] | None:
        if self.total is None:
            self.total = self._total()
            if self.total is None:
                return None
        done = 0
        paginator = self.s3.get_paginator("list_objects_v2")
        pages = aws.call_with_backoff(
            lambda: list(paginator.paginate(Bucket=self.config.bucket, Prefix=self.prefix)),
            f"listing s3://{self.config.bucket}/{self.prefix}",
        )
        for page in pages:
            for item in page.get("Contents", []):
                if is_block_key(item["Key"][len(self.prefix) :]):
                    done += 1
        return min(done, self.total), self.total

    @classmethod
    def bar(cls, done: int, total: int) -> str:
        filled = cls.BAR * done // total if total else cls.BAR
        return f"[{'#' * filled}{'.' * (cls.BAR - filled)}] {done}/{total} blocks"


def is_block_key(relative: str) -> bool:
    """`blocks/block-000007.json` or `points/point-003/blocks/block-000007.json`, nothing else."""
    parts = relative.split("/")
    if len(parts) == 4 and (parts[0] != layout.POINTS_DIR or not re.fullmatch(r"point-\d{3}", parts[1])):
        return False
    if len(parts) not in (2, 4):
        return False
    return parts[-2] == layout.BLOCKS_DIR and layout.block_number(parts[-1]) is not None


def counts_blocks(description: dict[str, Any]) -> bool:
    arguments = description.get("AppSpecification", {}).get("ContainerArguments") or []
    return bool(arguments) and arguments[0] in ("simulate", "sweep", layout.MAP_COMMAND)


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
    """Follow a job until it ends: status changes with elapsed time, host logs, blocks done / total of a
    simulation or sweep (a bar redrawn in place on a terminal, a line per change otherwise).

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
    progress: BlockProgress | None = None
    shown: tuple[int, int] | None = None
    try:
        while True:
            description = describe(job, config)
            status = status_of(description)
            elapsed = format_duration(status["duration_seconds"])
            if status["status"] != last:
                if interactive:
                    err.write("\r\033[K")
                say(f"[{elapsed}] {job}: {status['status']}", err)
                last = status["status"]
            if tail:
                tail.poll()
            if progress is None and counts_blocks(description):
                progress = BlockProgress(job, config)
            try:
                counted = progress.poll() if progress else None
            except (ClientError, SimulationError):  # progress is a courtesy: an unreadable prefix must not end watch
                progress, counted = None, None
            final = status["status"] in TERMINAL  # a terminal gets the last count as a line of its own
            if counted and ((counted != shown and not interactive) or (final and interactive)):
                if interactive:
                    err.write("\r\033[K")
                say(f"[{elapsed}] {job}: {BlockProgress.bar(*counted)}", err)
            shown = counted or shown
            if final:
                break
            if interactive:
                spin += 1
                bar = f" {BlockProgress.bar(*shown)}" if shown else ""
                err.write(f"\r{SPINNER[spin % len(SPINNER)]} {status['status']} {elapsed}{bar}\033[K")
                err.flush()
            sleep(poll_seconds)
    except KeyboardInterrupt:
        if interactive:
            err.write("\r\033[K")  # over the spinner (and the ^C the terminal echoed), not below it
        stop = hint(f"python -m simulation stop {job}", f"stop_job({r_string(job)})")
        say(f"stopped watching; {job} keeps running. Stop it with: {stop}", err)
        raise
    if status["status"] == "Completed":
        say(
            f"{job} completed in {format_duration(status['duration_seconds'])}; "
            f"fetch it with: {hint(f'python -m simulation results {job}', f'job_results({r_string(job)})')}",
            err,
        )
    if status["status"] in ("Failed", "Stopped") and shown and shown[0] < shown[1]:
        say(
            f"{shown[0]} of {shown[1]} blocks are kept in S3; run only the rest with: "
            f"{hint(f'python -m simulation submit --resume {job}', f'resume_job({r_string(job)})')}",
            err,
        )
    raise_if_unsuccessful(status)
    return status


def wait_for_job(job: str, platform: str | None = None, logs: bool = True, poll_seconds: Any = 10) -> dict[str, Any]:
    if local_map.is_local_job(job):  # a local map job started in the background (R's job_lapply(local = TRUE))
        return local_map.wait_local(job)
    return watch(job, platform=platform, logs=logs, poll_seconds=as_float(poll_seconds, "poll seconds"))
