"""The RSession image, built for real: every step of stacks/studio/image/Dockerfile runs under podman, with the
build args the CDK asset passes (stacks/studio/image.py) plus only these stand-ins, because this machine reaches
no container registry, no Posit download and no Package Manager:

- BASE_IMAGE: tests/studio/standin/Containerfile, Posit's layout (R under /opt/R/<v>, Python under /opt/python/<v>,
  their versions as build ARGs only) made from Debian's R 4.2.2 and Python 3.11.2, hence R_VERSION/PYTHON_VERSION;
- RSW_DOWNLOAD_URL: a loopback server holding a stand-in `rstudio-workbench-<version>-amd64.deb` (package
  rstudio-server, as Posit's is) built here with dpkg-deb and signed the way Posit signs (dpkg-sig's _gpgbuilder
  member, rehearsal/boot/signed_deb.py) with a throwaway key;
- POSIT_KEY_URL, POSIT_KEY_FINGERPRINT: that throwaway key, served on the same server, and its fingerprint. These two
  are the only real build args replaced (no one here holds Posit's secret key); that the asset passes Posit's own
  (stacks/workspace/posit.py) is asserted separately, and a build with Posit's fingerprint refuses the stand-in;
- PPM_CRAN: the same server as a Package Manager of binary packages (the host's Debian-built R packages, tarred
  as Package Manager serves Linux binaries);
- JDK_PACKAGE: Debian 12 has no openjdk-11-jdk (Ubuntu 22.04, the real base, has);
- PIP_CERT: this machine's TLS-inspecting proxy (pip reaches PyPI for real).

Then `library(simjobs)` and the job client run inside the built image, as an RSession would: they find the user's
job config from the role's name and submit a job to moto server. A stand-in .deb changed after signing fails the
build at verify-deb.sh's line, before anything is installed.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rehearsal.boot.signed_deb import SigningKey, make_key, read_ar, sign, stop_agent, write_ar
from rehearsal.emulator import ACCOUNT, Emulator, moto_server
from stacks.studio import versions
from stacks.studio.image import DOCKERFILE, build_args

ROOT = Path(__file__).resolve().parents[2]
STANDIN = Path(__file__).with_name("standin")
STANDIN_IMAGE = "localhost/sagemaker-rsession-standin:R4.2.2-python3.11.2-debian12"
IMAGE = "localhost/sagemaker-rsession:test"
REFUSED = "localhost/sagemaker-rsession:refused"
DEB_NAME = f"rstudio-workbench-{versions.RELEASES[versions.DEFAULT_WORKBENCH_VERSION].deb_version}-amd64.deb"
# The stand-ins that replace real build args: the signing key (see the module's docstring).
KEY_ARGS = {"POSIT_KEY_URL", "POSIT_KEY_FINGERPRINT"}
R_VERSION, PYTHON_VERSION = "4.2.2", "3.11.2"
VERSION = versions.DEFAULT_WORKBENCH_VERSION
IDLE_MINUTES = 120
BASE_PACKAGES = {"base", "compiler", "datasets", "graphics", "grDevices", "grid", "methods", "parallel", "splines"}
BASE_PACKAGES |= {"stats", "stats4", "tcltk", "tools", "utils"}

pytestmark = pytest.mark.container


def _run(*args: str, timeout: int = 600, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, **kw)


@pytest.fixture(scope="module")
def podman() -> str:
    """The containers.conf podman needs here, and the Debian base the stand-in is made from."""
    for tool in ("podman", "debootstrap", "dpkg-deb", "Rscript", "gpg"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (make system-deps)")
    if os.geteuid() != 0:
        pytest.skip("podman here needs root (rootless podman lacks the subuid set-up on this kind of machine)")
    made = _run(str(ROOT / "scripts" / "podman-base-image.sh"))
    assert made.returncode == 0, made.stderr
    os.environ["CONTAINERS_CONF"] = made.stdout.strip().splitlines()[-1]
    if _run("podman", "info").returncode != 0:
        pytest.skip("podman cannot run here")
    job_dockerfile = (ROOT / "container" / "Dockerfile").read_text().splitlines()
    return next(line.split()[1] for line in job_dockerfile if line.startswith("FROM "))


@pytest.fixture(scope="module")
def standin_base(podman: str) -> str:
    build = _run(
        "podman", "build", "--isolation", "chroot", "--network", "host", "--build-arg", f"DEBIAN_BASE={podman}",
        "-t", STANDIN_IMAGE, "-f", str(STANDIN / "Containerfile"), str(STANDIN), timeout=1800,
    )  # fmt: skip
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    return STANDIN_IMAGE


def _standin_deb(directory: Path) -> Path:
    """Posit's session components, stood in for: the package name and version Posit's .deb has, a dependency
    apt must resolve, and a postinst that records whether licence initialisation was switched off."""
    root = directory / "deb-root"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "usr/lib/rstudio-server/bin").mkdir(parents=True)
    (root / "DEBIAN/control").write_text(
        f"Package: rstudio-server\nVersion: {VERSION}\nArchitecture: amd64\nMaintainer: tests <t@example.invalid>\n"
        "Depends: libpng16-16\nDescription: stand-in for Posit Workbench session components (tests only)\n"
    )
    postinst = root / "DEBIAN/postinst"
    postinst.write_text(
        "#!/bin/sh\nset -e\n"
        'echo "${RSTUDIO_INSTALL_NO_LICENSE_INITIALIZATION:-unset}" > /usr/lib/rstudio-server/licence-init-off\n'
    )
    postinst.chmod(0o755)
    rsession = root / "usr/lib/rstudio-server/bin/rsession"
    rsession.write_text(f"#!/bin/sh\necho 'stand-in rsession {VERSION}'\n")
    rsession.chmod(0o755)
    out = directory / "rsw" / DEB_NAME
    out.parent.mkdir()
    done = _run("dpkg-deb", "--root-owner-group", "--build", str(root), str(out))
    assert done.returncode == 0, done.stderr
    return out


def _tampered(deb: Path, directory: Path) -> Path:
    """The signed `deb` with one byte of its data member changed after signing (what a compromised mirror or a
    corrupted download would serve), under the same file name."""
    members = read_ar(deb)
    index = next(i for i, (name, _) in enumerate(members) if name.startswith("data.tar"))
    name, data = members[index]
    members[index] = (name, data[:-1] + bytes([data[-1] ^ 0x01]))
    out = directory / "tampered" / deb.name
    out.parent.mkdir()
    write_ar(out, members)
    return out


def _package_manager(directory: Path) -> list[str]:
    """A CRAN-like repository of binary packages (what Package Manager serves for Linux): reticulate, what simjobs's
    DESCRIPTION imports, and everything those need, from this machine's Debian-built R 4.2.2 packages (the stand-in
    base has the same R)."""
    contrib = directory / "cran" / "src" / "contrib"
    contrib.mkdir(parents=True)
    description = ROOT / "R" / "simjobs" / "DESCRIPTION"
    script = (
        f"d <- read.dcf('{description}', fields = c('Depends', 'Imports')); "
        "wanted <- trimws(sub('[(].*', '', unlist(strsplit(d[!is.na(d)], ',')))); "
        "wanted <- setdiff(c('reticulate', wanted[nzchar(wanted)]), 'R'); "
        "deps <- unlist(tools::package_dependencies(wanted, db = installed.packages(), recursive = TRUE, "
        "which = c('Depends', 'Imports', 'LinkingTo'))); "
        "for (p in unique(c(wanted, deps))) cat(p, find.package(p), packageDescription(p)$Version, '\\n')"
    )
    listing = _run("Rscript", "-e", script)
    assert listing.returncode == 0, listing.stderr
    names = []
    for line in listing.stdout.splitlines():
        name, path, version = line.split()
        if name in BASE_PACKAGES:
            continue
        tarball = contrib / f"{name}_{version}.tar.gz"
        assert _run("tar", "czf", str(tarball), "-C", str(Path(path).parent), name).returncode == 0
        names.append(name)
    indexed = _run("Rscript", "-e", f"tools::write_PACKAGES('{contrib}', type = 'source')")
    assert indexed.returncode == 0, indexed.stderr
    return names


class _Server(http.server.ThreadingHTTPServer):
    requests: list[str]
    key: SigningKey
    tampered: Path


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, _Server, list[str]]]:
    directory = tmp_path_factory.mktemp("downloads")
    key = make_key(tmp_path_factory.mktemp("gnupg"), "posit-standin")
    deb = sign(_standin_deb(directory), key)
    tampered = _tampered(deb, directory)
    (directory / "posit").mkdir()
    shutil.copy(key.public_key, directory / "posit" / "signing-key.asc")
    packages = _package_manager(directory)

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            server.requests.append(self.path)

    server = _Server(("127.0.0.1", 0), functools.partial(Handler, directory=str(directory)))
    server.requests = []
    server.key, server.tampered = key, tampered
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server, packages
    finally:
        server.shutdown()
        server.server_close()
        stop_agent(key)


def standin_args(base: str, url: str, key: SigningKey) -> dict[str, str]:
    return {
        "BASE_IMAGE": base,
        "R_VERSION": R_VERSION,
        "PYTHON_VERSION": PYTHON_VERSION,
        "RSW_DOWNLOAD_URL": f"{url}/rsw",
        "PPM_CRAN": f"{url}/cran",
        "JDK_PACKAGE": "openjdk-17-jdk-headless",
        "POSIT_KEY_URL": f"{url}/posit/signing-key.asc",
        "POSIT_KEY_FINGERPRINT": key.fingerprint,
    }


def real_args() -> dict[str, str]:
    return build_args(
        platform_name="simlab",
        workbench_version=VERSION,
        idle_minutes=IDLE_MINUTES,
        connect_url="",
        package_manager_url="",
    )


def _build(tag: str, args: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = ["podman", "build", "--isolation", "chroot", "--network", "host", "-f", DOCKERFILE, "-t", tag]
    cert = os.environ.get("PIP_CERT", "")
    if os.path.isfile(cert):  # behind a TLS-inspecting proxy pip needs the host's CA bundle: mounted, not copied
        command += ["--volume", f"{cert}:/run/pip-cert.pem:ro", "--build-arg", "PIP_CERT=/run/pip-cert.pem"]
    for key, value in args.items():
        command += ["--build-arg", f"{key}={value}"]
    return _run(*command, ".", cwd=ROOT, timeout=3600)


@pytest.fixture(scope="module")
def build_output(standin_base: str, downloads: tuple[str, _Server, list[str]]) -> str:
    url, server, _ = downloads
    real, standins = real_args(), standin_args(standin_base, url, server.key)
    assert set(real) & set(standins) == KEY_ARGS  # the stand-ins replace no other real build arg
    before = _run("podman", "image", "inspect", "--format={{.Id}}", IMAGE)
    build = _build(IMAGE, {**real, **standins})
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-3000:]
    after = _run("podman", "image", "inspect", "--format={{.Id}}", IMAGE)
    if before.returncode == 0 and before.stdout != after.stdout:  # the previous test image, now untagged: drop it
        _run("podman", "rmi", before.stdout.strip())
    return build.stdout + build.stderr


@pytest.fixture(scope="module")
def image(build_output: str) -> str:
    return IMAGE


def _refused_build(args: dict[str, str]) -> str:
    """A build expected to fail (at the .deb's check, the earlier layers cached); its output. No image is left."""
    build = _build(REFUSED, args)
    listed = _run("podman", "image", "exists", REFUSED)
    if listed.returncode == 0:
        _run("podman", "rmi", REFUSED)
    assert build.returncode != 0, build.stdout[-3000:]
    assert listed.returncode != 0, "a refused build left an image"
    return build.stdout + build.stderr


def _in_image(image: str, *command: str, network: str = "none", env: dict[str, str] | None = None) -> str:
    flags = [f"--env={k}={v}" for k, v in (env or {}).items()]
    done = _run("podman", "run", "--rm", f"--network={network}", *flags, image, *command, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


def test_the_standin_base_has_posits_layout_and_no_version_variables(standin_base):
    out = _in_image(
        standin_base, "bash", "-c",
        'echo "R_VERSION=${R_VERSION:-unset} PYTHON_VERSION=${PYTHON_VERSION:-unset}"; '
        f"/opt/R/{R_VERSION}/bin/Rscript -e 'cat(R.version$minor)'; echo; "
        f"/opt/python/{PYTHON_VERSION}/bin/python -c 'import platform; print(platform.python_version())'",
    )  # fmt: skip
    assert out.splitlines() == ["R_VERSION=unset PYTHON_VERSION=unset", "2.2", PYTHON_VERSION]


def test_the_image_has_the_domains_workbench_version_from_the_download(image, downloads, build_output):
    _, server, _ = downloads
    assert f"/rsw/{DEB_NAME}" in server.requests
    assert "/posit/signing-key.asc" in server.requests
    # installed only after verify-deb.sh found Posit's (here: the stand-in key's) signature good
    assert f"verify-deb: /tmp/{DEB_NAME}: good signature by {server.key.fingerprint}; " in build_output
    out = _in_image(
        image, "bash", "-c",
        "dpkg-query -W -f='${Version}\\n' rstudio-server; cat /usr/lib/rstudio-server/licence-init-off",
    )  # fmt: skip
    assert out.splitlines() == [VERSION, "1"]
    labels = json.loads(_run("podman", "image", "inspect", image).stdout)[0]["Config"]["Labels"]
    assert labels["posit.workbench.version"] == VERSION


def test_the_image_meets_awss_custom_image_requirements(image, downloads):
    _, server, packages = downloads
    config = json.loads(_run("podman", "image", "inspect", image).stdout)[0]["Config"]
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["RSTUDIO_FORCE_NON_ZERO_EXIT_CODE"] == "1"
    assert env["RSTUDIO_CONNECT_URL"] == ""
    assert env["RSTUDIO_PACKAGE_MANAGER_URL"] == "https://packagemanager.posit.co"
    out = _in_image(
        image, "bash", "-c",
        "dpkg-query -W -f='${Package} ${Status}\\n' sudo libpng-dev openjdk-17-jdk-headless; "
        f"/opt/R/{R_VERSION}/bin/Rscript -e 'library(reticulate); cat(\"reticulate\", \"\\n\")'; "
        f"/opt/python/{PYTHON_VERSION}/bin/python -c "
        "'import boto3, awscli, sagemaker; print(\"sagemaker\", sagemaker.__version__)'",
    )  # fmt: skip
    lines = [line for line in out.splitlines() if not line.startswith("sagemaker.config INFO")]
    assert sorted(lines[:3]) == [f"{p} install ok installed" for p in ("libpng-dev", "openjdk-17-jdk-headless", "sudo")]
    assert lines[3] == "reticulate "
    assert lines[4] == "sagemaker " + real_args()["SAGEMAKER_REQUIREMENT"].split("==")[1]
    # reticulate and every package it needs came from the stand-in Package Manager, as binaries
    assert "/cran/src/contrib/PACKAGES" in {
        p.split("?")[0].removesuffix(".gz").removesuffix(".rds") for p in server.requests
    }
    fetched = {p.rsplit("/", 1)[1].split("_")[0] for p in server.requests if p.endswith(".tar.gz")}
    assert "reticulate" in fetched
    assert fetched <= set(packages)


def test_a_deb_changed_after_signing_fails_the_build_with_verify_debs_line(image, standin_base, downloads):
    url, server, _ = downloads
    args = {**real_args(), **standin_args(standin_base, url, server.key), "RSW_DOWNLOAD_URL": f"{url}/tampered"}
    output = _refused_build(args)
    assert f"/tampered/{DEB_NAME}" in server.requests
    assert f"verify-deb: /tmp/{DEB_NAME}: member data.tar.xz does not match its signed MD5" in output


def test_posits_own_fingerprint_refuses_a_deb_signed_by_another_key(image, standin_base, downloads):
    """The real fingerprint from the asset's build args, the stand-in's key and package: the build stops."""
    url, server, _ = downloads
    standins = standin_args(standin_base, url, server.key)
    del standins["POSIT_KEY_FINGERPRINT"]
    output = _refused_build({**real_args(), **standins})
    assert (
        "verify-deb: /tmp/" + DEB_NAME + ": the key file /tmp/posit-signing-key.asc does not hold key "
        "8B65E5A107BBEFE3BA99C59751C0B5BB19F92D60"
    ) in output


def test_idle_r_sessions_quit_after_the_idle_setting(image):
    conf = _in_image(image, "cat", "/etc/rstudio/rsession.conf")
    assert conf.splitlines()[-2:] == [f"session-timeout-minutes={IDLE_MINUTES}", "session-timeout-suspend=0"]


# ------------------------------------------------------------------ the client in an RSession, against moto
USER, ROLE_NAME = "alice", "simlab-workspace-UseraliceProfileRole-TEST"
JOB_ROLE = f"arn:aws:iam::{ACCOUNT}:role/simlab-workspace-UseraliceJobRole-TEST"


@pytest.fixture(scope="module")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Emulator, dict[str, str]]]:
    """moto with what the deploy makes for one user: their profile role, their job config named after it (the
    fields stacks/jobs and stacks/studio/access.py publish), the bucket; and that role's credentials."""
    with moto_server(tmp_path_factory.mktemp("moto")) as emulator:
        trust = {
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ]
        }
        role = emulator.client("iam").create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(trust))
        emulator.client("s3").create_bucket(
            Bucket="simlab-data-test",
            CreateBucketConfiguration={"LocationConstraint": emulator.client("s3").meta.region_name},
        )
        config = {
            "platform": "simlab",
            "region": emulator.client("s3").meta.region_name,
            "image_uri": f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/cdk-hnb659fds-container-assets:abc",
            "execution_role_arn": JOB_ROLE,
            "bucket": "simlab-data-test",
            "subnet_ids": ["subnet-0aaa", "subnet-0bbb"],
            "security_group_ids": ["sg-0ccc"],
            "allowed_instance_types": ["ml.c5.xlarge"],
            "default_instance_type": "ml.c5.xlarge",
            "max_instances": 4,
            "max_runtime_seconds": 7200,
            "job_name_prefix": f"simlab-{USER}",
            "user": USER,
        }
        emulator.client("ssm").put_parameter(
            Name=f"/simlab/job-config/{ROLE_NAME}", Value=json.dumps(config), Type="String"
        )
        creds = emulator.client("sts").assume_role(RoleArn=role["Role"]["Arn"], RoleSessionName="SageMaker")[
            "Credentials"
        ]
        env = {
            "AWS_ENDPOINT_URL": emulator.url,
            "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
            "AWS_SESSION_TOKEN": creds["SessionToken"],
            "AWS_DEFAULT_REGION": config["region"],
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        yield emulator, env


def _job(emulator: Emulator, name: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
    sagemaker = emulator.client("sagemaker")
    described = sagemaker.describe_processing_job(ProcessingJobName=name)
    return described, sagemaker.list_tags(ResourceArn=described["ProcessingJobArn"])["Tags"]


def test_library_simjobs_submits_as_the_user_from_a_new_r_session(image, aws):
    """Nothing set up by hand: the image's Renviron.site gives R the Python and the parameter template."""
    emulator, env = aws
    script = "library(simjobs); job <- submit_simulation(iterations = 1000); cat('JOB', unlist(job)[[1]], '\\n')"
    out = _in_image(image, f"/opt/R/{R_VERSION}/bin/Rscript", "-e", script, network="host", env=env)
    (job,) = [line.split()[1] for line in out.splitlines() if line.startswith("JOB ")]
    described, tags = _job(emulator, job)
    assert job.startswith(f"simlab-{USER}-")
    assert described["RoleArn"] == JOB_ROLE
    assert {"Key": "user", "Value": USER} in tags


def test_the_cli_in_the_image_submits_as_the_user_too(image, aws):
    emulator, env = aws
    python = f"/opt/python/{PYTHON_VERSION}/bin/python"
    submit = ["-m", "simulation", "submit", "--iterations", "1000", "--json"]
    out = _in_image(image, python, *submit, network="host", env=env)
    job = json.loads(out)["job"]
    described, _ = _job(emulator, job)
    assert job.startswith(f"simlab-{USER}-")
    assert described["RoleArn"] == JOB_ROLE
