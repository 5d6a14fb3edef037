"""Users' own images: which image a job may run (checked before AWS), and `image build` for real with podman.

The build test pushes to a real registry: Debian's `docker-registry` (the CNCF distribution registry) on
127.0.0.1, standing in for the platform's ECR user repository, which moto cannot serve (it has no registry
endpoint). The bundled job image (built from container/Dockerfile by the container tests' fixture) is tagged
with the job config's image URI, so the build goes FROM exactly what the config names; the package comes from
Debian (no CRAN here), and the check that it landed is `podman pull` from the registry after the local copy is
removed, then R loading the package in a container without network.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest

from rehearsal.emulator import free_port
from simulation.client import images
from simulation.client.config import parse_config
from simulation.errors import SimulationError
from tests.client.conftest import JOB_CONFIG
from tests.processing.test_container import image  # noqa: F401 - the job image fixture, one definition

ROOT = Path(__file__).resolve().parents[2]
CONFIG = parse_config("simlab", json.dumps(JOB_CONFIG))
REPOSITORY = JOB_CONFIG["ecr_repository_uri"]  # 123456789012.dkr.ecr.eu-west-1.amazonaws.com/simlab-user-images


@pytest.mark.parametrize(
    "uri",
    [
        JOB_CONFIG["image_uri"],
        f"{REPOSITORY}:r-0123456789ab",
        f"{REPOSITORY}:v1.2_final",
        f"{REPOSITORY}@sha256:{'ab' * 32}",
    ],
)
def test_allowed_images(uri):
    assert images.check_image(CONFIG, uri) == uri


def test_no_image_means_the_bundled_one():
    assert images.check_image(CONFIG, None) == JOB_CONFIG["image_uri"]
    assert images.check_image(CONFIG, "") == JOB_CONFIG["image_uri"]


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("r-base:4.4.0", "image r-base:4.4.0 is in a foreign registry (docker.io)"),
        ("ghcr.io/someone/r:1", "image ghcr.io/someone/r:1 is in a foreign registry (ghcr.io)"),
        # same account registry, another repository: the execution role may not pull it
        (
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/other-team:v1",
            "image 123456789012.dkr.ecr.eu-west-1.amazonaws.com/other-team:v1 is not allowed",
        ),
        # a repository whose name only starts like ours
        (f"{REPOSITORY}-evil:v1", f"image {REPOSITORY}-evil:v1 is not allowed"),
        (REPOSITORY, f"image {REPOSITORY} names no tag"),
        (f"{REPOSITORY}:-bad", f"image {REPOSITORY}:-bad: '-bad' is not a valid tag"),
        (f"{REPOSITORY}@sha256:abc", f"image {REPOSITORY}@sha256:abc: 'sha256:abc' is not a sha256 digest"),
    ],
)
def test_refused_images(uri, message):
    with pytest.raises(SimulationError) as raised:
        images.check_image(CONFIG, uri)
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_without_a_user_repository_only_the_bundled_image_runs():
    config = replace(CONFIG, ecr_repository_uri=None)
    with pytest.raises(SimulationError, match=r"its user repository \(none deployed\)"):
        images.check_image(config, f"{REPOSITORY}:v1")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "image build: name at least one package"),
        (["--r-packages", "data.table,gg plot"], "R package 'gg plot' is not a valid package name"),
        (["--r-packages", "2fast"], "R package '2fast' is not a valid package name"),
        (["--apt", "r-cran-x;rm"], "Debian package 'r-cran-x;rm' is not a valid package name"),
        (["--apt", "r-cran-x", "--tag", "../x"], "image tag '../x' is not valid"),
        (["--apt", "r-cran-x", "--cran", "ftp://x"], "CRAN repository 'ftp://x' is not an http(s) or file URL"),
        (["--apt", "r-cran-x", "--engine", "lxc"], "argument --engine: invalid choice"),
    ],
)
def test_bad_build_input_is_one_line_before_aws(args, message, tmp_path):
    # no AWS environment at all: the input is refused before any configuration is read
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    done = subprocess.run(
        [sys.executable, "-m", "simulation", "image", "build", *args],
        cwd=tmp_path,
        env={**env, "AWS_EC2_METADATA_DISABLED": "true"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert message in done.stderr


def test_recipe_installs_at_build_time_and_checks_that_it_did():
    text = images.dockerfile("BASE:1", ("data.table", "ggplot2"), ("r-cran-jsonlite",), "https://cran.example")
    lines = text.splitlines()
    assert lines[1] == "FROM BASE:1"
    # CRAN builds from source on Linux: the compilers come along; install.packages() only warns on failure
    assert "apt-get install -y --no-install-recommends r-cran-jsonlite r-base-dev" in text
    assert 'pkgs <- c("data.table", "ggplot2"); install.packages(pkgs, repos = "https://cran.example"' in text
    assert 'if (length(missing)) stop("not installed: "' in text
    assert 'for (p in c("data.table", "ggplot2", "jsonlite")) library(p, character.only = TRUE)' in text


def test_the_same_recipe_gives_the_same_tag():
    one = images.default_tag("BASE:1", ("a", "b"), ("x",), images.DEFAULT_CRAN)
    assert one == images.default_tag("BASE:1", ("b", "a"), ("x",), images.DEFAULT_CRAN)
    assert one != images.default_tag("BASE:2", ("a", "b"), ("x",), images.DEFAULT_CRAN)
    assert len(one) == len("r-") + 12


MANIFEST = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
    "config": {
        "mediaType": "application/vnd.docker.container.image.v1+json",
        "size": 2,
        "digest": "sha256:" + "0" * 64,
    },
    "layers": [],
}


def test_a_recipe_already_in_the_immutable_repository_is_not_built_again(aws, monkeypatch):
    ecr = aws.client("ecr")
    ecr.create_repository(repositoryName="simlab-user-images", imageTagMutability="IMMUTABLE")
    tag = images.default_tag(JOB_CONFIG["image_uri"], (), ("r-cran-jsonlite",), images.DEFAULT_CRAN)
    ecr.put_image(repositoryName="simlab-user-images", imageManifest=json.dumps(MANIFEST), imageTag=tag)

    def no_engine(command, *_):
        raise AssertionError(f"ran {command}")

    monkeypatch.setattr(images, "_run", no_engine)
    assert images.build_image(apt="r-cran-jsonlite", engine="podman") == f"{REPOSITORY}:{tag}"
    with pytest.raises(SimulationError, match=f"^tag {tag} already exists in {REPOSITORY} and its tags are immutable"):
        images.build_image(apt="r-cran-jsonlite", tag=tag, engine="podman")


def test_a_missing_user_repository_is_one_line(aws):
    with pytest.raises(SimulationError, match="^the user repository simlab-user-images does not exist"):
        images.build_image(apt="r-cran-jsonlite", engine="podman")


# --- the real build -----------------------------------------------------------------------------------------------


@pytest.fixture
def registry(tmp_path):
    """A real OCI registry over HTTP on 127.0.0.1 (Debian's docker-registry), empty for each test."""
    binary = shutil.which("docker-registry") or "/usr/bin/docker-registry"
    if not Path(binary).exists():
        pytest.skip("needs Debian's docker-registry: apt-get install docker-registry")
    port = free_port()
    config = tmp_path / "registry.yml"
    config.write_text(
        "version: 0.1\n"
        f"storage:\n  filesystem:\n    rootdirectory: {tmp_path / 'registry-data'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
        "log:\n  level: warn\n"
    )
    log = (tmp_path / "registry.log").open("w")
    process = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"{url}/v2/", timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"docker-registry did not start: {(tmp_path / 'registry.log').read_text()}")
                time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def _podman(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["podman", *args], capture_output=True, text=True, env=env, timeout=900, check=False)


@pytest.mark.container
def test_image_build_with_a_debian_r_package_pushes_to_the_user_repository(aws, image, registry, tmp_path):  # noqa: F811
    bundled = f"{registry}/cdk-assets:jobimage"
    repository = f"{registry}/simlab-user-images"
    aws.put_config({**JOB_CONFIG, "image_uri": bundled, "ecr_repository_uri": repository})
    aws.client("ecr").create_repository(repositoryName="simlab-user-images", imageTagMutability="IMMUTABLE")
    assert _podman("tag", image, bundled).returncode == 0
    (tmp_path / "registries.conf").write_text(f'[[registry]]\nlocation = "{registry}"\ninsecure = true\n')
    env = {
        **os.environ,
        **aws.env,
        "CONTAINERS_REGISTRIES_CONF": str(tmp_path / "registries.conf"),  # plain HTTP to the test registry
        "REGISTRY_AUTH_FILE": str(tmp_path / "auth.json"),  # the ECR login lands here, not in root's file
        "BUILDAH_ISOLATION": "chroot",  # how podman builds on this machine (see toolchain notes)
        images.ENGINE_ENV: "podman",
    }
    try:
        done = subprocess.run(
            [sys.executable, "-m", "simulation", "image", "build", "--apt", "r-cran-jsonlite"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        uri = done.stdout.strip()
        tag = uri.rsplit(":", 1)[1]
        assert uri == f"{repository}:{tag}", done.stdout
        assert tag.startswith("r-")
        # logged in with the (moto) ECR token before building
        auths = json.loads((tmp_path / "auth.json").read_text())["auths"]
        assert registry in auths
        with urllib.request.urlopen(f"http://{registry}/v2/simlab-user-images/tags/list", timeout=10) as answer:
            assert json.load(answer)["tags"] == [tag]

        # what a job would get: pulled from the registry, not the local copy; run with no network at all
        assert _podman("rmi", uri).returncode == 0
        assert _podman("pull", uri, env=env).returncode == 0
        loaded = _podman(
            "run", "--rm", "--network=none", "--entrypoint=Rscript", uri,
            "-e", 'library(jsonlite); cat(as.character(packageVersion("jsonlite")), toJSON(list(a = 1)))',
        )  # fmt: skip
        assert loaded.returncode == 0, loaded.stderr
        # Debian bookworm's r-cran-jsonlite is 1.8.4+dfsg-1 (apt-cache show r-cran-jsonlite)
        assert loaded.stdout == '1.8.4 {"a":[1]}'
        labels = json.loads(_podman("image", "inspect", uri).stdout)[0]["Config"]["Labels"]
        assert labels["simlab.base"] == bundled
        assert labels["simlab.apt"] == "r-cran-jsonlite"
    finally:
        _podman("rmi", "--force", bundled)
        _podman(
            "rmi",
            "--force",
            f"{repository}:{images.default_tag(bundled, (), ('r-cran-jsonlite',), images.DEFAULT_CRAN)}",
        )


# --- --image on the command line (the same check for Python's and R's image=, through Resources) ----------------


def test_submit_runs_an_image_of_the_user_repository(aws, capsys):
    from simulation.cli import main

    user_image = f"{REPOSITORY}:r-0123456789ab"
    assert main(["submit", "--people", "100", "--iterations", "100", "--image", user_image]) == 0
    request = aws.recorder.request("CreateProcessingJob")
    assert request["AppSpecification"]["ImageUri"] == user_image
    assert request["Environment"]["SIMLAB_IMAGE_TAG"] == "r-0123456789ab"  # what the hosts record as the image


@pytest.mark.parametrize(
    ("other", "message"),
    [
        ("ghcr.io/someone/r:1", "error: image ghcr.io/someone/r:1 is in a foreign registry (ghcr.io); jobs run only"),
        (f"{REPOSITORY}-evil:1", f"error: image {REPOSITORY}-evil:1 is not allowed; jobs run only"),
    ],
)
def test_submit_refuses_other_images_in_one_line_before_aws(aws, capsys, other, message):
    from simulation.cli import main

    assert main(["submit", "--people", "100", "--iterations", "100", "--image", other]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message)
    assert len(err.splitlines()) == 1
    assert aws.recorder.operations() == ["ssm:GetParameter"]  # the job config, nothing created or uploaded
