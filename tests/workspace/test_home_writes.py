"""What the bootstrap writes into users' homes (their AWS config, the welcome example), run in bash as root with the
real setpriv: a home and whatever the user left in it (links included) belong to the user and survive on EFS into
the next host, so a link planted there must reach nothing root owns, and a home the user broke must not stop the
boot. The user here is a UID with no account (as on a fresh host before useradd, UIDs are what count)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from stacks.workspace import bootstrap

UID = 45678
REGION = "eu-west-1"

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv (util-linux)"
)


@pytest.fixture
def root() -> Iterator[Path]:
    """A directory every user may traverse (pytest's own tmp_path is root's 0700 tree)."""
    path = Path(tempfile.mkdtemp(prefix="simlab-homes-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


def _home(root: Path) -> Path:
    home = root / "home" / "carol"
    home.mkdir(parents=True)
    os.chown(home, UID, UID)
    home.chmod(0o750)
    return home


def _canary(root: Path) -> Path:
    """A directory root owns, where a user could not write."""
    canary = root / "etc"
    canary.mkdir(mode=0o755)
    return canary


def _run(root: Path, *functions: str) -> subprocess.CompletedProcess[str]:
    setup = bootstrap.SETUP.read_text()
    source = "\n".join(
        re.search(rf"^{name}\(\) \{{\n.*?^\}}\n", setup, re.M | re.S).group(0)  # type: ignore[union-attr]
        for name in ("each_user", "as_user", *functions)
    )
    calls = "\n".join(functions)
    src = root / "src"
    (src / "stacks/workspace").mkdir(parents=True, exist_ok=True)
    (src / "stacks/workspace/welcome.R").write_text("# welcome\n")
    (src / "R/examples").mkdir(parents=True, exist_ok=True)
    (src / "R/examples/one.R").write_text("1 + 1\n")
    program = f"""set -euo pipefail
step() {{ :; }}
log() {{ echo "LOG $*"; }}
HOME_ROOT={root}/home
SRC={src}
SIMLAB_USERS='carol:user:{UID}:arn:aws:secretsmanager:{REGION}:123456789012:secret:carol'
SIMLAB_REGION={REGION}
SIMLAB_AWS_ENDPOINT_URL=
{source}
{calls}
echo done
"""
    return subprocess.run(["bash", "-c", program], capture_output=True, text=True, timeout=60, cwd=root)


def test_a_fresh_home_gets_a_config_of_its_own_user_naming_the_credential_service(root: Path) -> None:
    home = _home(root)
    result = _run(root, "write_aws_configs", "install_welcome")
    assert result.returncode == 0, result.stderr
    config = home / ".aws/config"
    assert config.read_text() == (
        f"[default]\nregion = {REGION}\ncredential_process = /usr/local/bin/simlab-credentials\n"
    )
    for path, mode in ((home / ".aws", 0o700), (config, 0o600), (home / "welcome.R", 0o644)):
        info = path.stat()
        assert (info.st_uid, info.st_gid, info.st_mode & 0o777) == (UID, UID, mode), path
    assert (home / "examples/one.R").read_text() == "1 + 1\n"
    assert (home / "examples/one.R").stat().st_uid == UID


def test_what_the_user_has_is_kept(root: Path) -> None:
    home = _home(root)
    (home / ".aws").mkdir()
    (home / ".aws/config").write_text("[default]\nregion = us-west-2\n")
    (home / "welcome.R").write_text("# mine\n")
    result = _run(root, "write_aws_configs", "install_welcome")
    assert result.returncode == 0, result.stderr
    assert (home / ".aws/config").read_text() == "[default]\nregion = us-west-2\n"
    assert (home / "welcome.R").read_text() == "# mine\n"


def test_links_planted_in_a_home_reach_nothing_root_owns(root: Path) -> None:
    # What a user could leave on EFS for the next host's bootstrap: ~/.aws pointing at a system directory (root
    # following it would give the directory to the user), and links to files that do not exist yet there.
    home, canary = _home(root), _canary(root)
    (home / ".aws").symlink_to(canary)
    (home / "welcome.R").symlink_to(canary / "ld.so.preload")
    (home / "examples").symlink_to(canary / "examples")
    result = _run(root, "write_aws_configs", "install_welcome")
    info = canary.stat()
    assert (info.st_uid, info.st_gid, info.st_mode & 0o7777) == (0, 0, 0o755)
    assert list(canary.iterdir()) == []
    assert result.returncode == 0, result.stderr
    assert f"LOG could not write {root}/home/carol/.aws/config as carol" in result.stdout
    # the user's links stay as they left them (a link is something the user has: nothing is copied over it)
    assert [(home / n).readlink() for n in ("welcome.R", "examples")] == [canary / "ld.so.preload", canary / "examples"]


def test_a_home_its_user_locked_costs_them_their_files_not_the_host_its_boot(root: Path) -> None:
    home = _home(root)
    home.chmod(0o000)
    result = _run(root, "write_aws_configs", "install_welcome")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "done"
    home.chmod(0o750)
    assert list(home.iterdir()) == []
