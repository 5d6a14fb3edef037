"""The RStudio Server package the ec2 host installs: the version setting, the pins in posit.py, and the bootstrap's
fetch_rstudio run in bash with downloads served from local files and the real verify-deb.sh: a good package is
kept for installation, a tampered one fails the step that says so."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from rehearsal.boot.packages import rstudio_packages
from rehearsal.boot.signed_deb import build_deb, make_key, sign, stop_agent
from stacks.settings import Settings, SettingsError
from stacks.workspace import bootstrap, posit
from tests.conftest import synthesize
from tests.infra.helpers import render_join, resources


def test_the_fingerprint_is_a_full_one_of_the_key_id_posit_fetches() -> None:
    compact = posit.SIGNING_KEY_FINGERPRINT.replace(" ", "")
    assert re.fullmatch(r"[0-9A-F]{40}", compact)
    key_id = re.search(r"gpg\.([0-9A-F]{16})\.key$", posit.KEY_URL).group(1)  # type: ignore[union-attr]
    assert compact.endswith(key_id)
    assert key_id == "51C0B5BB19F92D60"
    assert compact == "8B65E5A107BBEFE3BA99C59751C0B5BB19F92D60"


@pytest.mark.parametrize(
    ("version", "arch", "url"),
    [
        (
            "2026.05.1-225",
            "amd64",
            "https://download2.rstudio.org/server/noble/amd64/rstudio-server-2026.05.1-225-amd64.deb",
        ),
        (
            "2026.09.0+174",
            "arm64",
            "https://download2.rstudio.org/server/noble/arm64/rstudio-server-2026.09.0-174-arm64.deb",
        ),
    ],
)
def test_the_download_url_follows_posits_scheme(version: str, arch: str, url: str) -> None:
    assert posit.deb_url(version, arch) == url


@pytest.mark.parametrize("value", ["latest", "2026.05.1", "2026.5.1-225", "2026.05.1-225-amd64", "v2026.05.1-225"])
def test_a_version_that_is_not_a_release_is_refused(value: str) -> None:
    with pytest.raises(SettingsError, match=r"^context key 'rstudio_server_version': got"):
        Settings.from_context({"rstudio_server_version": value})


def test_the_default_is_posits_noble_release() -> None:
    assert Settings.from_context({}).rstudio_server_version == posit.RSTUDIO_VERSION == "2026.05.1-225"


@pytest.fixture(scope="module")
def pinned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    context = {"rstudio_server_version": "2026.09.0+174", "rstudio_access": "ssm", "platform_name": "pinned"}
    return synthesize(context, tmp_path_factory.mktemp("pinned.out")).template_json["workspace"]


def test_the_setting_reaches_the_host_in_the_file_names_spelling(pinned: dict[str, Any]) -> None:
    (instance,) = resources(pinned, "AWS::EC2::Instance").values()
    script = render_join(instance["Properties"]["UserData"]["Fn::Base64"], "TOKEN")
    assert "export SIMLAB_RSTUDIO_VERSION='2026.09.0-174'\n" in script
    assert f"export SIMLAB_RSTUDIO_DEB_URL='{posit.deb_url('2026.09.0+174', 'amd64')}'\n" in script
    assert f"export SIMLAB_RSTUDIO_KEY_URL='{posit.KEY_URL}'\n" in script
    assert "export SIMLAB_RSTUDIO_SHA256=''\n" in script


# ---------------------------------------------------------------------------------------- fetch_rstudio in bash
@pytest.fixture(scope="module")
def debs(tmp_path_factory: pytest.TempPathFactory) -> Any:
    if not all(shutil.which(tool) for tool in ("gpg", "ar", "dpkg-deb")):
        pytest.skip("needs gpg, ar (binutils), dpkg-deb")
    root = tmp_path_factory.mktemp("debs")
    key = make_key(root / "key", "posit-standin")
    good, tampered = rstudio_packages(root, key, posit.RSTUDIO_VERSION)
    yield key, good, tampered
    stop_agent(key)


def _fetch(
    tmp_path: Path, deb: Path, key_file: Path, fingerprint: str, sha256: str = ""
) -> subprocess.CompletedProcess[str]:
    """fetch_rstudio from host-setup.sh with curl copying local files, dpkg-query finding nothing installed,
    SIMLAB_HOME in tmp_path and SRC the repository (for verify-deb.sh)."""
    stubs = tmp_path / "bin"
    stubs.mkdir(exist_ok=True)
    (stubs / "curl").write_text(
        '#!/bin/bash\nwhile [ $# -gt 1 ]; do case "$1" in -o) out=$2; shift 2;; *) shift;; esac; done\n'
        f'case "$1" in *.deb) cp "{deb}" "$out";; *) cp "{key_file}" "$out";; esac\n'
    )
    (stubs / "dpkg-query").write_text("#!/bin/sh\nexit 1\n")
    for stub in stubs.iterdir():
        stub.chmod(0o755)
    setup = bootstrap.SETUP.read_text()
    functions = "\n".join(
        re.search(rf"^{name}\(\) \{{\n.*?^\}}\n", text, re.M | re.S).group(0)  # type: ignore[union-attr]
        for name, text in (("rstudio_is_current", setup), ("fetch_rstudio", setup))
    )
    program = f"""set -euo pipefail
STEP=start
step() {{ STEP=$1; }}
log() {{ echo "LOG $*" >&2; }}
readonly SIMLAB_HOME={tmp_path}/opt
readonly SRC={Path(bootstrap.__file__).resolve().parents[2]}
readonly RSTUDIO_DEB="$SIMLAB_HOME/rstudio/rstudio-server.deb"
trap 'echo "STEP=$STEP"' EXIT
{functions}
fetch_rstudio
"""
    env = {
        "PATH": f"{stubs}:{os.environ['PATH']}",
        "SIMLAB_RSTUDIO_VERSION": posit.RSTUDIO_VERSION,
        "SIMLAB_ARCH": "amd64",
        "SIMLAB_RSTUDIO_DEB_URL": "https://example.invalid/rstudio-server.deb",
        "SIMLAB_RSTUDIO_KEY_URL": "https://example.invalid/signing-key.asc",
        "SIMLAB_RSTUDIO_KEY_FINGERPRINT": fingerprint,
        "SIMLAB_RSTUDIO_SHA256": sha256,
    }
    return subprocess.run(["bash", "-c", program], env=env, capture_output=True, text=True, timeout=120)


def test_a_package_signed_by_the_pinned_key_is_kept_for_installation(debs: Any, tmp_path: Path) -> None:
    key, good, _ = debs
    result = _fetch(tmp_path, good, key.public_key, key.fingerprint)
    assert result.returncode == 0, result.stderr
    kept = tmp_path / "opt/rstudio/rstudio-server.deb"
    assert kept.read_bytes() == good.read_bytes()
    assert not (tmp_path / "opt/rstudio/rstudio-server.deb.partial").exists()
    assert result.stdout.strip().endswith("STEP=rstudio-package")  # the last check of a run without a SHA-256 pin


def test_a_tampered_package_fails_the_signature_step_and_is_not_kept(debs: Any, tmp_path: Path) -> None:
    key, _, tampered = debs
    result = _fetch(tmp_path, tampered, key.public_key, key.fingerprint)
    assert result.returncode != 0
    assert result.stdout.strip().endswith("STEP=rstudio-signature")
    assert "does not match its signed MD5" in result.stderr
    assert not (tmp_path / "opt/rstudio/rstudio-server.deb").exists()


def test_the_sha256_is_a_second_pin_on_top_of_the_signature(debs: Any, tmp_path: Path) -> None:
    key, good, _ = debs
    wrong = _fetch(tmp_path, good, key.public_key, key.fingerprint, sha256="0" * 64)
    assert wrong.returncode != 0
    assert wrong.stdout.strip().endswith("STEP=rstudio-sha256")
    right = _fetch(
        tmp_path, good, key.public_key, key.fingerprint, sha256=hashlib.sha256(good.read_bytes()).hexdigest()
    )
    assert right.returncode == 0, right.stderr


def test_posits_own_fingerprint_refuses_a_package_signed_by_another_key(debs: Any, tmp_path: Path) -> None:
    key, good, _ = debs
    result = _fetch(tmp_path, good, key.public_key, posit.SIGNING_KEY_FINGERPRINT)
    assert result.returncode != 0
    assert "does not hold key 8B65E5A107BBEFE3BA99C59751C0B5BB19F92D60" in result.stderr


@pytest.mark.parametrize(
    ("package", "version"),
    [("rstudio-server", "2023.09.1+494"), ("rstudio-workbench", posit.RSTUDIO_VERSION.replace("-", "+"))],
    ids=["an older release", "another Posit product"],
)
def test_a_package_the_key_signed_but_not_the_pinned_release_is_refused(
    debs: Any, tmp_path: Path, package: str, version: str
) -> None:
    # Posit's key signs every release and product: a good signature alone would let a download server hand out an
    # old RStudio Server with known flaws, or Workbench, in place of the pinned release.
    key, _, _ = debs
    root = tmp_path / "root"
    (root / "usr/share/doc" / package).mkdir(parents=True)
    (root / "usr/share/doc" / package / "README").write_text(f"{package} {version}\n")
    deb = sign(build_deb(tmp_path / "other.deb", root, package=package, version=version), key)
    result = _fetch(tmp_path, deb, key.public_key, key.fingerprint)
    assert result.returncode != 0
    assert result.stdout.strip().endswith("STEP=rstudio-package")
    assert f"LOG the signed package is {package} {version}, not rstudio-server {posit.RSTUDIO_VERSION}" in result.stderr
    assert not (tmp_path / "opt/rstudio/rstudio-server.deb").exists()
