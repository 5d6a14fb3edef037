"""The host container: its image (cached layers), the running systemd machine, its own network namespace and
the stand-in processes started inside that namespace. Every podman object is named `ec2-boot-*`."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONTAINERFILE = Path(__file__).with_name("Containerfile")
JOB_DOCKERFILE = ROOT / "container" / "Dockerfile"
BASE_SCRIPT = ROOT / "scripts" / "podman-base-image.sh"
IMAGE = "localhost/ec2-boot-host"
# One container and volume per run, named after the process, so that two runs on one machine do not meet.
CONTAINER = f"ec2-boot-host-{os.getpid()}"
VOLUME = f"ec2-boot-efs-{os.getpid()}"
BOOT_SECONDS = 60


class MachineError(RuntimeError):
    """The container could not be built, started or reached."""


def _run(args: list[str], *, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise MachineError(f"{' '.join(args[:4])} ... exited {done.returncode}: {done.stderr.strip()[-500:]}")
    return done


def base_image() -> str:
    """The job image's base (its Dockerfile's FROM), which scripts/podman-base-image.sh makes with debootstrap."""
    return next(line.split()[1] for line in JOB_DOCKERFILE.read_text().splitlines() if line.startswith("FROM "))


def prepare_podman() -> None:
    """CONTAINERS_CONF for this machine (runc, bounded ulimits) and the debootstrapped base image."""
    for tool in ("podman", "debootstrap", "nsenter"):
        if shutil.which(tool) is None:
            raise MachineError(f"{tool} is not installed (make system-deps)")
    if os.geteuid() != 0:
        raise MachineError("the boot rehearsal needs root (podman with systemd and nsenter)")
    made = _run([str(BASE_SCRIPT)], timeout=900)
    os.environ["CONTAINERS_CONF"] = made.stdout.strip().splitlines()[-1]


def build_image() -> tuple[str, bool]:
    """(image name, whether it was already built): tagged by the Containerfile's digest, layers cached."""
    digest = hashlib.sha256(CONTAINERFILE.read_bytes() + base_image().encode()).hexdigest()[:12]
    image = f"{IMAGE}:{digest}"
    if _run(["podman", "image", "exists", image], check=False).returncode == 0:
        return image, True
    _run(
        ["podman", "build", "--isolation", "chroot", "--network", "host", "--build-arg", f"BASE={base_image()}"]
        + ["-t", image, "-f", str(CONTAINERFILE), str(CONTAINERFILE.parent)],
        timeout=1800,
    )
    # Images of an earlier Containerfile (about 1 GB each) are of no further use.
    listed = _run(["podman", "images", "--format", "{{.Repository}}:{{.Tag}}", IMAGE], check=False).stdout.split()
    for old in (name for name in listed if name != image):
        _run(["podman", "rmi", old], check=False, timeout=300)
    return image, False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_leftovers() -> None:
    """Containers and volumes of earlier runs whose process is gone (killed before it could clean up)."""
    kinds = (
        (["podman", "ps", "-a", "--format", "{{.Names}}"], "ec2-boot-host-", ["podman", "rm", "-f", "-t", "5"]),
        (["podman", "volume", "ls", "--format", "{{.Name}}"], "ec2-boot-efs-", ["podman", "volume", "rm", "-f"]),
    )
    for listing, prefix, remove in kinds:
        for name in _run(listing, check=False).stdout.split():
            pid = name.removeprefix(prefix)
            if name.startswith(prefix) and pid.isdigit() and not _alive(int(pid)):
                _run([*remove, name], check=False, timeout=60)


@dataclass
class Machine:
    """A running host container with no network but its own loopback."""

    image: str
    mounts: dict[Path, str]  # read-only bind mounts: this machine's path -> the container's
    pid: int = 0
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self) -> None:
        remove_leftovers()
        self.remove()
        _run(["podman", "volume", "create", VOLUME])
        _run(
            ["podman", "run", "-d", "--name", CONTAINER, "--hostname", "ip-10-42-0-10", "--network", "none"]
            + ["--systemd", "always", "--cap-add", "NET_ADMIN", "--cap-add", "SYS_ADMIN"]
            + ["-v", f"{VOLUME}:/srv/efs-standin"]
            + [arg for host, inside in self.mounts.items() for arg in ("-v", f"{host}:{inside}:ro")]
            + [self.image]
        )
        deadline = time.monotonic() + BOOT_SECONDS
        while True:
            state = self.run("systemctl is-system-running", check=False).stdout.strip()
            if state in ("running", "degraded"):
                break
            if time.monotonic() > deadline:
                raise MachineError(f"systemd in {CONTAINER} is {state!r} after {BOOT_SECONDS} s")
            time.sleep(0.5)
        self.pid = int(_run(["podman", "inspect", "-f", "{{.State.Pid}}", CONTAINER]).stdout.strip())
        # The metadata service's address, on the container's own loopback (never this machine's).
        _run(["nsenter", f"--net=/proc/{self.pid}/ns/net", "ip", "addr", "add", "169.254.169.254/32", "dev", "lo"])

    def spawn(self, args: list[str], log: Path) -> subprocess.Popen[bytes]:
        """A process of this machine's Python (a stand-in) inside the container's network namespace."""
        with log.open("ab") as out:
            process = subprocess.Popen(
                ["nsenter", f"--net=/proc/{self.pid}/ns/net", sys.executable, *args],
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(process)
        return process

    def relay(self, port: int, log: Path) -> int:
        """A loopback port of this machine that reaches `port` in the container's namespace."""
        with log.open("ab") as err:
            process = subprocess.Popen(
                [sys.executable, "-m", "rehearsal.boot.standins", "relay", str(self.pid), str(port)],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=err,
            )
        self.processes.append(process)
        assert process.stdout is not None
        line = process.stdout.readline().decode().strip()
        if not line.isdigit():
            raise MachineError(f"the relay to port {port} did not start (see {log})")
        return int(line)

    def run(
        self, command: str, *, user: str | None = None, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """A shell command in the container, as root or as `user` through a login shell (runuser -l)."""
        inner = ["runuser", "-l", user, "-c", command] if user else ["bash", "-c", command]
        return _run(["podman", "exec", CONTAINER, *inner], check=check, timeout=timeout)

    def copy_in(self, source: Path, target: str) -> None:
        _run(["podman", "cp", str(source), f"{CONTAINER}:{target}"])

    def volume_path(self) -> Path:
        return Path(_run(["podman", "volume", "inspect", "-f", "{{.Mountpoint}}", VOLUME]).stdout.strip())

    def stop_processes(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:  # the relay's, which printed its port
                process.stdout.close()
        self.processes.clear()

    def remove(self) -> None:
        self.stop_processes()
        _run(["podman", "rm", "-f", "-t", "5", CONTAINER], check=False, timeout=60)
        _run(["podman", "volume", "rm", "-f", VOLUME], check=False)
