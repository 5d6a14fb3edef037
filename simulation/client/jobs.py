"""Submit, watch, list and stop SageMaker Processing jobs with plain boto3.

boto3 rather than the sagemaker SDK: the SDK's v2 is in maintenance and its v3 is large and still moving its
imports, while CreateProcessingJob is one documented request whose every field we want to set and test
ourselves (network isolation, VPC, tags). boto3 is already on every machine that runs the CDK app.

Everything is checked before AWS is asked to create anything; the request itself is built by a pure
function (`processing_request`) so tests can compare it field by field.
"""

from __future__ import annotations

import getpass
import math
import os
import re
import secrets
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

from botocore.exceptions import ClientError

from simulation.client import aws
from simulation.client.config import JobConfig, load_config
from simulation.errors import JobFailed, SimulationError

ENTRYPOINT = ["python3", "-m", "simulation.processing"]
IMAGE_TAG_ENV = "SIMULATION_IMAGE_TAG"  # = simulation.merge.IMAGE_TAG_ENV: hosts record it in their manifests
CONTAINER_ROOT = "/opt/ml/processing"
CODE_DIR = f"{CONTAINER_ROOT}/input/code"
CONFIG_DIR = f"{CONTAINER_ROOT}/input/config"
OUTPUT_DIR = f"{CONTAINER_ROOT}/output"
TERMINAL = frozenset({"Completed", "Failed", "Stopped"})
MAX_NAME = 63
DEFAULT_VOLUME_GB = 10
DEFAULT_RUNTIME_SECONDS = 4 * 3600  # capped by the platform's max_runtime_seconds
MAX_CODE_FILES = 2000
MAX_CODE_BYTES = 500 * 1024 * 1024
SPINNER = "|/-\\"
_NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$")
# Every 1000 iterations become one block file in the output prefix: beyond 10^9 iterations a job would
# write over a million files (and its hosts would list millions of blocks) before doing useful work.
MAX_ITERATIONS = 10**9
EXACT_FLOAT_INTEGER = 2**53  # R's doubles hold every integer up to here, and no longer every one above it
_TAG_UNSAFE = re.compile(r"[^\w .:/=+\-@]")  # what a SageMaker tag value may not hold


# ---------------------------------------------------------------------------------------------- pure core


def as_int(value: Any, what: str, minimum: int | None = None, maximum: int | None = None) -> int:
    """Integers from the shell or from R: R's numbers are doubles, so 2.0 means 2 but 2.5 is an error.

    Digits are taken exactly ("12345678901234567891" stays that seed); a float is accepted only while it
    is an exact integer (up to 2^53), so a large seed never silently becomes a neighbouring one.
    """
    if isinstance(value, bool):
        raise SimulationError(f"{what} must be a whole number, got {value!r}")
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            pass
    if not isinstance(value, int):
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise SimulationError(f"{what} must be a whole number, got {value!r}") from None
        if not number.is_integer():
            raise SimulationError(f"{what} must be a whole number, got {value!r}")
        if abs(number) > EXACT_FLOAT_INTEGER:
            raise SimulationError(f"{what} {value!r} is too large to be exact as a number; give it as digits")
        value = int(number)
    result = int(value)
    if minimum is not None and result < minimum:
        raise SimulationError(f"{what} must be at least {minimum}, got {result}")
    if maximum is not None and result > maximum:
        raise SimulationError(f"{what} must be at most {maximum}, got {result}")
    return result


def as_float(value: Any, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SimulationError(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise SimulationError(f"{what} must be a finite number, got {value!r}")
    return number


def format_number(value: float) -> str:
    """1000.0 -> "1000" so integer arguments survive a trip through R's doubles; other floats exactly."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def check_name_part(part: str, what: str = "job name") -> str:
    if not part or len(part) > MAX_NAME or not _NAME_RE.match(part):
        raise SimulationError(
            f"invalid {what} {part!r}: use 1-{MAX_NAME} letters, digits and hyphens, "
            "starting and ending with a letter or digit"
        )
    return part


def make_job_name(
    platform: str, base: str, *, now: datetime | None = None, token: str | None = None, reserve: int = 0
) -> str:
    """`<platform>-<base>-<UTC stamp>-<random>`: unique, sortable, listable by the prefix (the platform, or
    in SageMaker mode the user's `<platform>-<user>`).

    At most 63 - `reserve` characters, so a caller can append a suffix (a sweep's `-p003`).
    """
    check_name_part(platform, "platform name")
    check_name_part(base)
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%d-%H%M%S")
    token = token or secrets.token_hex(4)  # 2^32: same-second submissions do not collide
    suffix = f"-{stamp}-{token}"
    room = MAX_NAME - reserve - len(platform) - 1 - len(suffix)
    if room < 1:
        raise SimulationError(f"platform name {platform!r} is too long to build job names from")
    base = base[:room].rstrip("-")
    return check_name_part(f"{platform}-{base}{suffix}")


def check_instances(config: JobConfig, instance_type: str | None, instance_count: Any) -> tuple[str, int]:
    count = as_int(instance_count, "instance count", 1, config.max_instances)
    chosen = instance_type or config.default_instance_type
    if chosen not in config.allowed_instance_types:
        raise SimulationError(
            f"instance type {chosen!r} is not allowed on platform {config.platform}; "
            f"choose one of {', '.join(config.allowed_instance_types)}"
        )
    return chosen, count


def check_runtime(config: JobConfig, max_runtime_seconds: Any) -> int:
    if max_runtime_seconds is None:
        return min(DEFAULT_RUNTIME_SECONDS, config.max_runtime_seconds)
    return as_int(max_runtime_seconds, "max runtime (seconds)", 1, config.max_runtime_seconds)


def s3_prefix(job_name: str, part: str) -> str:
    return f"jobs/{job_name}/{part}/"


def s3_uri(config: JobConfig, job_name: str, part: str) -> str:
    return f"s3://{config.bucket}/{s3_prefix(job_name, part)}"


def current_user() -> str:
    user = os.environ.get("SIMLAB_USER")
    if user:
        return user
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry inside some containers
        return "unknown"


@dataclass(frozen=True)
class JobSpec:
    """Everything a processing job needs beyond the platform configuration."""

    job_name: str
    arguments: tuple[str, ...]
    instance_type: str
    instance_count: int
    volume_size_gb: int
    max_runtime_seconds: int
    inputs: tuple[tuple[str, str, str], ...] = ()  # (name, s3 uri, local path)
    sweep_id: str | None = None
    user: str = "unknown"


def tag_value(text: str) -> str:
    """A user name as a tag value: SageMaker refuses characters such as `\\` or `#` (DOMAIN\\alice)."""
    return _TAG_UNSAFE.sub("-", text)[:256] or "unknown"


def processing_request(config: JobConfig, spec: JobSpec) -> dict[str, Any]:
    """The CreateProcessingJob request: isolated in the platform's VPC, output under the job's prefix."""
    tags = [{"Key": "platform", "Value": config.platform}, {"Key": "user", "Value": tag_value(spec.user)}]
    if spec.sweep_id:
        tags.append({"Key": "sweep", "Value": spec.sweep_id})
    return {
        "ProcessingJobName": spec.job_name,
        "RoleArn": config.execution_role_arn,
        "AppSpecification": {
            "ImageUri": config.image_uri,
            "ContainerEntrypoint": list(ENTRYPOINT),
            "ContainerArguments": list(spec.arguments),
        },
        "ProcessingInputs": [
            {
                "InputName": name,
                "S3Input": {
                    "S3Uri": uri,
                    "LocalPath": local,
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                    "S3DataDistributionType": "FullyReplicated",
                },
            }
            for name, uri, local in spec.inputs
        ],
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": "output",
                    "S3Output": {
                        "S3Uri": s3_uri(config, spec.job_name, "output"),
                        "LocalPath": OUTPUT_DIR,
                        "S3UploadMode": "EndOfJob",
                    },
                }
            ]
        },
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": spec.instance_count,
                "InstanceType": spec.instance_type,
                "VolumeSizeInGB": spec.volume_size_gb,
            }
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": spec.max_runtime_seconds},
        "NetworkConfig": {
            "EnableNetworkIsolation": True,
            "EnableInterContainerTrafficEncryption": True,
            "VpcConfig": {"SecurityGroupIds": list(config.security_group_ids), "Subnets": list(config.subnet_ids)},
        },
        "Environment": {
            IMAGE_TAG_ENV: config.image_tag,
            "SIMLAB_PLATFORM": config.platform,
            "SIMLAB_JOB_NAME": spec.job_name,
        },
        "Tags": tags,
    }


def simulate_arguments(width: Any, height: Any, people: Any, radius: Any, iterations: Any, seed: Any) -> list[str]:
    """Validated `simulate ...` arguments of the processing entrypoint (contract section 2)."""
    values = {
        "width": as_float(width, "width"),
        "height": as_float(height, "height"),
        "people": as_int(people, "people", 2),
        "radius": as_float(radius, "radius"),
        "iterations": as_int(iterations, "iterations", 1, MAX_ITERATIONS),
        "seed": as_int(seed, "seed", 0),
    }
    check_params(values["width"], values["height"], values["people"], values["radius"])
    args = ["simulate"]
    for key, value in values.items():
        args += [f"--{key}", format_number(value)]
    return args


def check_params(width: float, height: float, people: int, radius: float) -> Any:
    """The engine's own validation, so a bad parameter fails here and not an hour into a job."""
    from simulation.engine import Params

    try:
        return Params(width=width, height=height, people=people, radius=radius)
    except SimulationError:
        raise
    except (TypeError, ValueError) as error:
        raise SimulationError(f"invalid simulation parameters: {error}") from None


# ------------------------------------------------------------------------------------------------- I/O


def _say(message: str, stream: TextIO | None = None) -> None:
    print(message, file=stream or sys.stderr, flush=True)


def upload_file(config: JobConfig, path: Path, key: str) -> None:
    s3 = aws.client("s3", config.region)
    aws.call_with_backoff(lambda: s3.upload_file(str(path), config.bucket, key), f"uploading {path}")


def upload_bytes(config: JobConfig, data: bytes, key: str) -> None:
    s3 = aws.client("s3", config.region)
    aws.call_with_backoff(lambda: s3.put_object(Bucket=config.bucket, Key=key, Body=data), f"uploading s3 {key}")


def code_files(folder: Path) -> list[Path]:
    """The files of a user's folder to ship, skipping hidden ones (.git, .Rproj.user) and bounded in size."""
    files = []
    total = 0
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        files.append(path)
        total += path.stat().st_size
        if len(files) > MAX_CODE_FILES or total > MAX_CODE_BYTES:
            raise SimulationError(
                f"folder {folder} holds more than {MAX_CODE_FILES} files or {MAX_CODE_BYTES // 2**20} MB; "
                "put data in S3 and ship only the code"
            )
    return files


def check_spec(config: JobConfig, spec: JobSpec) -> dict[str, Any]:
    """The request, checked against SageMaker's API model: call before uploading anything for the job."""
    from simulation.client.validation import check_request

    request = processing_request(config, spec)
    check_request("sagemaker", "CreateProcessingJob", request)
    return request


def create_job(config: JobConfig, spec: JobSpec) -> str:
    request = check_spec(config, spec)
    sagemaker = aws.client("sagemaker", config.region)
    aws.call_with_backoff(lambda: sagemaker.create_processing_job(**request), f"creating job {spec.job_name}")
    return spec.job_name


def build_spec(
    config: JobConfig,
    *,
    base: str,
    arguments: Sequence[str],
    instance_type: str | None,
    instance_count: Any,
    volume_size_gb: Any,
    max_runtime_seconds: Any,
    sweep_id: str | None = None,
    job_name: str | None = None,
) -> JobSpec:
    chosen, count = check_instances(config, instance_type, instance_count)
    return JobSpec(
        job_name=job_name or make_job_name(config.name_prefix, base),
        arguments=tuple(arguments),
        instance_type=chosen,
        instance_count=count,
        volume_size_gb=as_int(DEFAULT_VOLUME_GB if volume_size_gb is None else volume_size_gb, "volume size", 1, 16384),
        max_runtime_seconds=check_runtime(config, max_runtime_seconds),
        sweep_id=sweep_id,
        user=config.user or current_user(),
    )


def announce(config: JobConfig, spec: JobSpec) -> None:
    from simulation.client.cost import estimate

    ceiling = estimate(spec.instance_type, spec.instance_count, spec.max_runtime_seconds / 3600)
    _say(
        f"submitted {spec.job_name}: {spec.instance_count} x {spec.instance_type}, "
        f"output {s3_uri(config, spec.job_name, 'output')}"
    )
    _say(f"  cost ceiling at the {spec.max_runtime_seconds} s limit: {ceiling['text']}")
    _say(f"  follow it: python -m simulation watch {spec.job_name}")


def launch(config: JobConfig, spec: JobSpec, *, wait: bool, logs: bool) -> str:
    """Create the job, say where it is, and follow it to the end if asked; returns the job name."""
    create_job(config, spec)
    announce(config, spec)
    if wait:
        watch(spec.job_name, config=config, logs=logs)
    return spec.job_name


def submit_simulation(
    width: Any = 1000,
    height: Any = 1000,
    people: Any = 1000,
    radius: Any = 6,
    iterations: Any = 1000,
    seed: Any = 42,
    *,
    instance_type: str | None = None,
    instance_count: Any = 1,
    volume_size_gb: Any = None,
    max_runtime_seconds: Any = None,
    name: str | None = None,
    platform: str | None = None,
    wait: bool = False,
    logs: bool = True,
) -> str:
    """Run the bundled Monte Carlo as a processing job; returns the job name (after it ends if `wait`)."""
    arguments = simulate_arguments(width, height, people, radius, iterations, seed)
    base = check_name_part(name) if name else "sim"
    as_int(instance_count, "instance count", 1)
    config = load_config(platform)
    spec = build_spec(
        config,
        base=base,
        arguments=arguments,
        instance_type=instance_type,
        instance_count=instance_count,
        volume_size_gb=volume_size_gb,
        max_runtime_seconds=max_runtime_seconds,
    )
    return launch(config, spec, wait=wait, logs=logs)


def submit_r_script(
    script: str,
    folder: str | None = None,
    args: Iterable[Any] = (),
    *,
    instance_type: str | None = None,
    instance_count: Any = 1,
    volume_size_gb: Any = None,
    max_runtime_seconds: Any = None,
    name: str | None = None,
    platform: str | None = None,
    wait: bool = False,
    logs: bool = True,
) -> str:
    """Ship `folder` (default: the script's folder) and run `Rscript <script> --args ...` in the job image.

    The script writes its results to $OUTPUT_DIR (/opt/ml/processing/output), which lands in the job's
    S3 output prefix.
    """
    script_path = Path(script).expanduser()
    root = Path(folder).expanduser() if folder else script_path.parent
    if not script_path.is_absolute() and folder and not script_path.exists():
        script_path = root / script_path
    if not root.is_dir():
        raise SimulationError(f"folder {root} {'is not a folder' if root.exists() else 'does not exist'}")
    if not script_path.is_file():
        raise SimulationError(f"R script {script} does not exist")
    try:
        relative = script_path.resolve().relative_to(root.resolve())
    except ValueError:
        raise SimulationError(f"R script {script} is not inside the folder {root}") from None
    files = code_files(root)
    base = check_name_part(name) if name else "rscript"
    as_int(instance_count, "instance count", 1)
    arguments = ["rscript", "--script", relative.as_posix(), "--", *[_arg(a) for a in args]]
    config = load_config(platform)
    spec = build_spec(
        config,
        base=base,
        arguments=arguments,
        instance_type=instance_type,
        instance_count=instance_count,
        volume_size_gb=volume_size_gb,
        max_runtime_seconds=max_runtime_seconds,
    )
    spec = with_inputs(spec, (("code", s3_uri(config, spec.job_name, "code"), CODE_DIR),))
    check_spec(config, spec)  # an argument SageMaker refuses fails here, before the folder is uploaded
    code_prefix = s3_prefix(spec.job_name, "code")
    for path in files:
        upload_file(config, path, code_prefix + path.relative_to(root).as_posix())
    return launch(config, spec, wait=wait, logs=logs)


def _arg(value: Any) -> str:
    """An R script argument as R would print it: 1e5 -> "100000", TRUE -> "TRUE"."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return format_number(value) if isinstance(value, float) else str(value)


def with_inputs(spec: JobSpec, inputs: tuple[tuple[str, str, str], ...]) -> JobSpec:
    from dataclasses import replace

    return replace(spec, inputs=inputs)


def describe(job: str, config: JobConfig) -> dict[str, Any]:
    sagemaker = aws.client("sagemaker", config.region)
    try:
        return aws.call_with_backoff(
            lambda: sagemaker.describe_processing_job(ProcessingJobName=job),
            f"describing job {job}",
            passthrough=frozenset({"ValidationException", "ResourceNotFound"}),
        )
    except ClientError as error:
        raise SimulationError(f"no processing job named {job!r} ({aws.error_code(error)})") from None


def _seconds(start: Any, end: Any) -> float | None:
    if not isinstance(start, datetime):
        return None
    end = end if isinstance(end, datetime) else datetime.now(timezone.utc)
    return max(0.0, (end - start).total_seconds())


def status_of(description: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of DescribeProcessingJob a person or a script acts on, JSON-ready."""
    cluster = description.get("ProcessingResources", {}).get("ClusterConfig", {})
    outputs = description.get("ProcessingOutputConfig", {}).get("Outputs", [])
    start = description.get("ProcessingStartTime") or description.get("CreationTime")
    status = description.get("ProcessingJobStatus", "Unknown")
    end = description.get("ProcessingEndTime") if status in TERMINAL else None
    return {
        "job": description.get("ProcessingJobName"),
        "status": status,
        "failure_reason": description.get("FailureReason"),
        "exit_message": description.get("ExitMessage"),
        "created": _iso(description.get("CreationTime")),
        "ended": _iso(description.get("ProcessingEndTime")) if status in TERMINAL else None,
        "duration_seconds": _seconds(start, end),
        "instance_type": cluster.get("InstanceType"),
        "instance_count": cluster.get("InstanceCount"),
        "arguments": description.get("AppSpecification", {}).get("ContainerArguments"),
        "output": outputs[0]["S3Output"]["S3Uri"] if outputs else None,
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None


def job_status(job: str, platform: str | None = None) -> dict[str, Any]:
    return status_of(describe(job, load_config(platform)))


def failure_text(status: Mapping[str, Any]) -> str:
    # A container's non-zero exit gives FailureReason "AlgorithmError: ..." while our entrypoint's own
    # one-line explanation (the first 1 KB of /opt/ml/output/message) arrives as ExitMessage: show both.
    parts: list[str] = []
    for part in (status.get("failure_reason"), status.get("exit_message")):
        text = " ".join(str(part or "").split())  # one line, whatever the container wrote
        if text and not any(text in seen for seen in parts):
            parts.append(text)
    reason = " | ".join(parts)
    if not reason:
        reason = "stopped by request or at its max runtime" if status["status"] == "Stopped" else "no reason given"
    return f"job {status['job']} {status['status']}: {reason}"


def raise_if_unsuccessful(status: Mapping[str, Any]) -> None:
    if status["status"] in ("Failed", "Stopped"):
        raise JobFailed(failure_text(status))


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
                    lambda kw=dict(kwargs): self.logs.describe_log_streams(**kw),
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
                    lambda kw=kwargs: self.logs.get_log_events(**kw), f"reading log stream {stream}"
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


def host_of(stream: str) -> str:
    """`job/algo-2-1700000000` -> `algo-2`."""
    tail = stream.split("/", 1)[-1]
    match = re.match(r"^(algo-\d+)", tail)
    return match.group(1) if match else tail


def job_logs(job: str, platform: str | None = None, out: TextIO | None = None) -> int:
    """Print every host's log of a job once; returns the number of lines."""
    config = load_config(platform)
    describe(job, config)
    return LogTail(job, config, out or sys.stdout).poll()


def format_duration(seconds: float | None) -> str:
    seconds = int(seconds or 0)
    hours, rest = divmod(seconds, 3600)
    return f"{hours:d}:{rest // 60:02d}:{rest % 60:02d}"


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
                _say(f"[{format_duration(status['duration_seconds'])}] {job}: {status['status']}", err)
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
        _say(f"stopped watching; {job} keeps running. Stop it with: python -m simulation stop {job}", err)
        raise
    if status["status"] == "Completed":
        _say(
            f"{job} completed in {format_duration(status['duration_seconds'])}; "
            f"fetch it with: python -m simulation results {job}",
            err,
        )
    raise_if_unsuccessful(status)
    return status


def wait_for_job(job: str, platform: str | None = None, logs: bool = True, poll_seconds: Any = 10) -> dict[str, Any]:
    return watch(job, platform=platform, logs=logs, poll_seconds=as_float(poll_seconds, "poll seconds"))


def stop_job(job: str, platform: str | None = None) -> dict[str, Any]:
    config = load_config(platform)
    describe(job, config)
    sagemaker = aws.client("sagemaker", config.region)
    aws.call_with_backoff(lambda: sagemaker.stop_processing_job(ProcessingJobName=job), f"stopping job {job}")
    return status_of(describe(job, config))


def list_jobs(platform: str | None = None, limit: Any = 20, status: str | None = None) -> list[dict[str, Any]]:
    """The platform's most recent jobs (their names start with `<platform>-`), newest first."""
    config = load_config(platform)
    count = as_int(limit, "limit", 1, 100)
    sagemaker = aws.client("sagemaker", config.region)
    prefix = f"{config.name_prefix}-"
    kwargs: dict[str, Any] = {
        "NameContains": prefix,
        "SortBy": "CreationTime",
        "SortOrder": "Descending",
        "MaxResults": count,
    }
    if status:
        kwargs["StatusEquals"] = status
    page = aws.call_with_backoff(lambda: sagemaker.list_processing_jobs(**kwargs), "listing jobs")
    rows = []
    for summary in page.get("ProcessingJobSummaries", []):
        if not summary["ProcessingJobName"].startswith(prefix):
            continue
        state = summary.get("ProcessingJobStatus")
        end = summary.get("ProcessingEndTime") if state in TERMINAL else None
        rows.append(
            {
                "job": summary["ProcessingJobName"],
                "status": state,
                "created": _iso(summary.get("CreationTime")),
                "duration_seconds": _seconds(summary.get("CreationTime"), end),
                "failure_reason": summary.get("FailureReason") or summary.get("ExitMessage"),
            }
        )
    rows.sort(key=lambda row: row["created"] or "", reverse=True)
    return rows[:count]
