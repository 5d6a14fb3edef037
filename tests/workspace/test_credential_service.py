"""The host's credential service (stacks/workspace/credential_service.py), run for real on a Unix socket: the kernel's
word (SO_PEERCRED) on who connected picks the role, a caller without a role gets an error and no keys, keys are
cached until shortly before they expire, and a table others may write is refused.

STS is a stateful fake that records each AssumeRole; the boot rehearsal (tests/rehearsal/test_boot.py) runs the
same service against moto inside the host container.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest

from stacks.workspace import credential_service as service

SCRIPT = Path(service.__file__)
NOBODY = 65534


class FakeSts:
    def __init__(self, lifetime: dt.timedelta = dt.timedelta(hours=1)) -> None:
        self.calls: list[dict[str, Any]] = []
        self.lifetime = lifetime

    def assume_role(self, **request: Any) -> dict[str, Any]:
        self.calls.append(request)
        number = len(self.calls)
        return {
            "Credentials": {
                "AccessKeyId": f"ASIA{number:016d}",
                "SecretAccessKey": f"secret-{number}",
                "SessionToken": f"token-{number}-{request['RoleSessionName']}",
                "Expiration": dt.datetime.now(dt.timezone.utc) + self.lifetime,
            }
        }


@pytest.fixture
def served() -> Any:
    """The service on a socket in a folder every user can reach (pytest's own is root's only), root (this
    test's user) mapped to a role; yields (socket, sts)."""
    if os.geteuid() != 0:
        pytest.skip("SO_PEERCRED for another user needs root to start a process as that user")
    folder = Path(tempfile.mkdtemp(prefix="ec2-credentials-"))
    folder.chmod(0o755)
    users = folder / "user-roles"
    users.write_text("# name uid role\nrootuser 0 arn:aws:iam::123456789012:role/simlab-rootuser-rstudio\n")
    users.chmod(0o600)
    sts = FakeSts()
    broker = service.Broker(service.read_users(users), sts)
    socket_path = folder / "socket"
    server = service._Server(str(socket_path), service._handler(broker))
    socket_path.chmod(0o666)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield socket_path, sts
    server.shutdown()
    server.server_close()
    shutil.rmtree(folder)


def get(socket_path: Path, user: int | None = None) -> subprocess.CompletedProcess[str]:
    """The client as credential_process runs it; as another user, from a copy that user can read, with the
    system's Python (the client needs the standard library only)."""
    script, python = SCRIPT, sys.executable
    if user is not None:
        script = socket_path.parent / "client.py"
        script.write_text(SCRIPT.read_text())
        script.chmod(0o644)
        python = "/usr/bin/python3"
    return subprocess.run(
        [python, "-I", str(script), "get", "--socket", str(socket_path)],
        capture_output=True,
        text=True,
        timeout=60,
        user=user,
    )


def test_a_mapped_user_gets_their_own_roles_keys_in_credential_process_form(served: Any) -> None:
    socket_path, sts = served
    result = get(socket_path)
    assert result.returncode == 0, result.stderr
    keys = json.loads(result.stdout)
    assert set(keys) == {"Version", "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}
    assert keys["Version"] == 1
    assert keys["SessionToken"] == "token-1-rootuser"
    assert dt.datetime.fromisoformat(keys["Expiration"]) > dt.datetime.now(dt.timezone.utc)
    assert sts.calls == [
        {
            "RoleArn": "arn:aws:iam::123456789012:role/simlab-rootuser-rstudio",
            "RoleSessionName": "rootuser",
            "DurationSeconds": 3600,
        }
    ]


def test_a_user_without_a_role_gets_an_error_and_no_keys(served: Any) -> None:
    socket_path, sts = served
    result = get(socket_path, user=NOBODY)  # a process the kernel knows as uid 65534
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip() == f"simlab-credentials: uid {NOBODY} (nobody) has no platform role on this host"
    assert sts.calls == []


def test_keys_are_cached_until_shortly_before_they_expire(served: Any) -> None:
    socket_path, sts = served
    first, second = (json.loads(get(socket_path).stdout) for _ in range(2))
    assert first == second
    assert len(sts.calls) == 1
    sts.lifetime = dt.timedelta(minutes=5)  # less than RENEW_BEFORE left: renewed on the next call
    broker_keys = json.loads(get(socket_path).stdout)
    assert broker_keys["AccessKeyId"] == first["AccessKeyId"]  # the cached keys still had an hour
    assert len(sts.calls) == 1


def test_keys_close_to_expiry_are_renewed(tmp_path: Path) -> None:
    users = tmp_path / "user-roles"
    users.write_text("alice 2000 arn:aws:iam::1:role/a\n")
    users.chmod(0o600)
    if users.stat().st_uid != 0:
        pytest.skip("the table must be root's")
    sts = FakeSts(lifetime=dt.timedelta(minutes=5))
    broker = service.Broker(service.read_users(users), sts)
    assert broker.credentials(2000)["AccessKeyId"] != broker.credentials(2000)["AccessKeyId"]
    assert len(sts.calls) == 2


def test_a_table_others_may_write_is_refused(tmp_path: Path) -> None:
    users = tmp_path / "user-roles"
    users.write_text("alice 2000 arn:aws:iam::1:role/a\n")
    users.chmod(0o666)
    with pytest.raises(service.CredentialError, match="writable by root only"):
        service.read_users(users)


def test_the_service_is_unreachable_the_client_says_so(tmp_path: Path) -> None:
    result = get(tmp_path / "absent")
    assert result.returncode == 1
    assert result.stderr.startswith("simlab-credentials: cannot reach the credential service at ")
