"""`local-job --container` on a machine as it comes: no CONTAINERS_CONF to export (the project gives each host
bounded ulimits itself), and what still cannot work is one line, once: a missing image, a broken podman
configuration, podman's own rlimit failure. Real podman throughout; the image tests build container/Dockerfile
like tests/processing/test_container.py (set SIMLAB_TEST_JOB_IMAGE to build under another name)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from simulation.job import containers

ROOT = Path(__file__).resolve().parents[2]
IMAGE = os.environ.get("SIMLAB_TEST_JOB_IMAGE", "localhost/simulation-job:test")
EXAMPLE = ROOT / "R" / "examples" / "own_script" / "main.R"
needs_podman = pytest.mark.skipif(shutil.which("podman") is None, reason="needs podman: apt-get install podman runc")


def without_containers_conf() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "CONTAINERS_CONF"}


def local_job(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simulation", "local-job", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


@needs_podman
def test_a_missing_image_is_one_line_before_any_host_starts(tmp_path):
    missing = "localhost/no-such-simlab-image:none"
    done = local_job(
        "--hosts",
        "2",
        "--iterations",
        "2000",
        "--seed",
        "1",
        "--container",
        missing,
        "--engine",
        "podman",
        cwd=tmp_path,
        env=without_containers_conf(),
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"error: no image '{missing}' in podman's local images; build it first: podman build -f container/Dockerfile "
        f"-t {missing} . (see docs/cli.md#local-jobs-and-the-job-image)"
    ]
    assert not list(tmp_path.rglob("block-*.json"))


@needs_podman
def test_a_broken_podman_configuration_is_one_line(tmp_path):
    conf = tmp_path / "containers.conf"
    conf.write_text("[engine\nruntime = 'runc'\n")
    done = local_job(
        "--hosts",
        "1",
        "--iterations",
        "10",
        "--seed",
        "1",
        "--container",
        IMAGE,
        "--engine",
        "podman",
        cwd=tmp_path,
        env={**os.environ, "CONTAINERS_CONF": str(conf)},
    )
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if "error" in line.lower()]
    assert len(errors) == 1, done.stderr
    assert errors[0].startswith(f'error: podman\'s configuration is broken (reading system config "{conf}": ')
    assert errors[0].endswith("fix it or unset CONTAINERS_CONF, see docs/cli.md#local-jobs-and-the-job-image")


def test_engine_messages_are_explained_in_one_line():
    # what podman 4.3 with runc said on this machine without bounded ulimits, and crun on hybrid cgroups
    rlimit = (
        "Error: runc: runc create failed: unable to start container process: error during container init: error "
        "setting rlimits for ready process: error setting rlimit type 7: operation not permitted: OCI permission denied"
    )
    said = containers.explain("podman", "img", rlimit)
    assert said.startswith("podman could not set the container's ulimits (runc: runc create failed")
    crun = "Error: crun: cannot set memory limit: cgroup v1 and v2 hybrid mode: OCI runtime error"
    assert "install runc (apt-get install runc)" in containers.explain("podman", "img", crun)
    for message in (rlimit, crun, "Error: something new"):
        assert "\n" not in containers.explain("podman", "img", message)


def test_every_host_gets_bounded_ulimits_on_its_command_line(tmp_path):
    command = containers.Engine("podman").run_command("img", tmp_path, ["simulate"])
    assert "--ulimit=nofile=4096:4096" in command or any(c.startswith("--ulimit=nofile=") for c in command)
    assert command[command.index("img") + 1 :] == ["simulate"]
    assert "--network=none" in command


# --- with the real job image --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def image() -> str:
    for tool in ("podman", "debootstrap"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed: apt-get install podman buildah debootstrap runc")
    if os.geteuid() != 0:
        pytest.skip("podman here needs root (rootless podman lacks the subuid set-up on this kind of machine)")
    made = subprocess.run([str(ROOT / "scripts" / "podman-base-image.sh")], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    # only the build gets the script's containers.conf: the tests below run podman without one
    env = {**os.environ, "CONTAINERS_CONF": made.stdout.strip().splitlines()[-1]}
    cert = os.environ.get("PIP_CERT", "")
    proxy_ca = ["--volume", f"{cert}:/run/pip-cert.pem:ro", "--build-arg", "PIP_CERT=/run/pip-cert.pem"]
    build = subprocess.run(
        ["podman", "build", "--isolation", "chroot", "--network", "host", *(proxy_ca if os.path.isfile(cert) else [])]
        + ["-f", str(ROOT / "container" / "Dockerfile"), "-t", IMAGE, "."],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    return IMAGE


@pytest.mark.container
def test_local_job_in_containers_needs_no_containers_conf(image, tmp_path):
    env = without_containers_conf()
    # what failed before: podman's defaults, the host's ulimits handed to the container
    plain = subprocess.run(
        ["podman", "run", "--rm", "--network=none", "--entrypoint", "true", image],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if plain.returncode != 0:
        said = containers.explain("podman", image, plain.stderr)
        assert "\n" not in said
    done = local_job(
        "--hosts",
        "2",
        "--people",
        "4000",
        "--iterations",
        "1700",
        "--seed",
        "21",
        "--container",
        image,
        "--engine",
        "podman",
        "--json",
        "--output",
        "c",
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "rlimit" not in done.stderr
    processes = local_job(
        "--hosts",
        "2",
        "--people",
        "4000",
        "--iterations",
        "1700",
        "--seed",
        "21",
        "--json",
        "--output",
        "p",
        cwd=tmp_path,
        env=env,
    )
    assert processes.returncode == 0, processes.stderr
    assert (tmp_path / "c" / "iterations.csv").read_text() == (tmp_path / "p" / "iterations.csv").read_text()


@pytest.mark.container
def test_the_r_example_runs_on_two_hosts_in_the_image(image, tmp_path):
    done = local_job(
        "--r-script",
        str(EXAMPLE),
        "--hosts",
        "2",
        "--container",
        image,
        "--engine",
        "podman",
        "--output",
        "r",
        "--",
        "1000",
        "1000",
        "1000",
        "10",
        cwd=tmp_path,
        env=without_containers_conf(),
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "r" / "iterations").iterdir()) == ["algo-1.csv", "algo-2.csv"]
    assert len((tmp_path / "r" / "iterations.csv").read_text().splitlines()) == 11
