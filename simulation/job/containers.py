"""Emulated hosts in containers (`local-job --container IMAGE`): the command that runs one, and the checks before.

podman on many Linux machines cannot start a container with its default settings: it hands the container this
machine's own ulimits, which the OCI runtime may not set inside it ("error setting rlimit type 7: operation not
permitted"), and crun, the default runtime of recent podman, fails on hybrid cgroup hierarchies. So every host
gets bounded ulimits on its command line (no containers.conf to write or export), and before N hosts start, one
probe container shows whether the engine can run the image at all; if not, and runc is installed, the probe is
tried again with runc. What still fails is said in one line, once, instead of each host's raw engine errors.
"""

from __future__ import annotations

import re
import resource
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from simulation.errors import SimulationError
from simulation.job import layout
from simulation.text import hint

CONTAINER_OPT_ML = layout.OptMl().root  # where the job image expects the tree
# Enough for a job host (a Python process with a thread per core, or R with doParallel workers) and at or below
# what an unprivileged runtime may set; bounded further by this process's own hard limits.
ULIMITS = {"nofile": (4096, resource.RLIMIT_NOFILE), "nproc": (4096, resource.RLIMIT_NPROC)}
PROBE_TIMEOUT_SECONDS = 300
DOCS = "docs/cli.md#local-jobs-and-the-job-image"


@dataclass(frozen=True)
class Engine:
    """A container engine as local-job calls it: its name and the global options every command gets."""

    name: str
    options: tuple[str, ...] = ()

    def run_command(self, image: str, volume: Path | None, args: list[str], entrypoint: str | None = None) -> list[str]:
        # As SageMaker runs a host with network isolation: no network; plus what a local run can afford to add.
        return [
            self.name,
            *self.options,
            "run",
            "--rm",
            "--network=none",
            "--read-only",
            "--tmpfs=/tmp",
            "--cap-drop=all",
            "--security-opt=no-new-privileges",
            *ulimit_options(),
            *([f"--volume={volume}:{CONTAINER_OPT_ML}"] if volume is not None else []),
            *([f"--entrypoint={entrypoint}"] if entrypoint else []),
            image,
            *args,
        ]


def ulimit_options() -> list[str]:
    options = []
    for name, (wanted, kind) in ULIMITS.items():
        hard = resource.getrlimit(kind)[1]
        value = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        options.append(f"--ulimit={name}={value}:{value}")
    return options


def find_engine(engine: str | None) -> str:
    if engine is not None:
        if shutil.which(engine) is None:
            raise SimulationError(f"--engine {engine}: {engine} is not installed here")
        return engine
    for name in ("podman", "docker"):
        if shutil.which(name):
            return name
    raise SimulationError(f"{hint('--container', 'container =')} needs podman or docker on PATH; neither was found")


_LOGGED = re.compile(r'level=(?:error|fatal) msg="((?:[^"\\]|\\.)*)"')


def _last_line(text: str) -> str:
    """The engine's last word: podman logs some errors as `time=... level=error msg="..."`, others as `Error: ...`."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return "no message"
    logged = _LOGGED.search(lines[-1])
    last = logged.group(1).replace('\\"', '"') if logged else lines[-1]
    return last.removeprefix("Error: ").removeprefix("error: ")


def explain(engine: str, image: str, stderr: str) -> str:
    """One line for what the engine said when it could not start a container."""
    said = _last_line(stderr)
    if "reading system config" in said or "containers.conf" in said:
        return f"{engine}'s configuration is broken ({said}); fix it or unset CONTAINERS_CONF, see {DOCS}"
    if "rlimit" in said:
        return (
            f"{engine} could not set the container's ulimits ({said}); lower them in a containers.conf "
            f"(default_ulimits) or raise this shell's hard limits (ulimit -Hn), see {DOCS}"
        )
    if "cgroup" in said or "crun" in said or "OCI runtime" in said:
        return (
            f"{engine}'s runtime cannot start containers here ({said}); install runc (apt-get install runc), see {DOCS}"
        )
    if "Cannot connect to the Docker daemon" in said or "docker daemon" in said.lower():
        return f"docker has no daemon answering here ({said}); start it, or use {hint('--engine', 'engine =')} podman"
    return f"{engine} cannot run {image} here: {said} (see {DOCS})"


def check_image(engine: str, image: str) -> None:
    """The image must be in the engine's local store: a job host has no registry to pull from either."""
    ask = [engine, "image", "exists", image] if engine == "podman" else [engine, "image", "inspect", image]
    done = subprocess.run(ask, capture_output=True, text=True, timeout=PROBE_TIMEOUT_SECONDS, check=False)
    if done.returncode == 0:
        return
    if done.stderr.strip() and "No such image" not in done.stderr:
        raise SimulationError(explain(engine, image, done.stderr))
    raise SimulationError(
        f"no image {image!r} in {engine}'s local images; build it first: "
        f"{engine} build -f container/Dockerfile -t {image} . (see {DOCS})"
    )


def prepare(image: str, engine: str | None) -> Engine:
    """The engine that runs this image's hosts, after one probe container proved it can; one line otherwise."""
    chosen = Engine(find_engine(engine))
    check_image(chosen.name, image)
    probe = _probe(chosen, image)
    if probe.returncode == 0:
        return chosen
    if chosen.name == "podman" and shutil.which("runc"):
        with_runc = Engine(chosen.name, ("--runtime", "runc"))
        if _probe(with_runc, image).returncode == 0:
            return with_runc
    raise SimulationError(explain(chosen.name, image, probe.stderr))


def _probe(engine: Engine, image: str) -> subprocess.CompletedProcess[str]:
    command = engine.run_command(image, None, [], entrypoint="true")
    return subprocess.run(command, capture_output=True, text=True, timeout=PROBE_TIMEOUT_SECONDS, check=False)
