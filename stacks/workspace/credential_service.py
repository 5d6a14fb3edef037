"""One AWS identity per Linux user on the RStudio host: a root service hands each user their own role's keys.

Runs on the host (not part of the CDK app): `serve` as root under systemd, `get` as the `credential_process`
of each user's AWS config (botocore and the AWS CLI run it and read the JSON it prints).

The metadata service, and with it the host role, is reachable by root only (the IMDS guard, bootstrap.sh).
The service listens on a Unix socket anyone may connect to and asks the kernel who connected (SO_PEERCRED):
that UID, not anything the caller says, picks the role, from the root-only table USERS (`name uid role-arn`
per line, written by the bootstrap). It assumes that role with the host role (whose only STS right is
sts:AssumeRole on the users' roles) and answers with temporary keys, cached per user until shortly before they
expire. A UID missing from the table (root, ssm-user, system accounts) gets an error and no keys.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pwd
import socket
import socketserver
import stat
import struct
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SOCKET = Path("/run/simlab-credentials/socket")
USERS = Path("/etc/simlab/user-roles")
SESSION_SECONDS = 3600
# Keys are renewed when less than this is left, so a caller never receives keys about to expire.
RENEW_BEFORE = dt.timedelta(minutes=10)
MAX_REPLY = 64 * 1024


class CredentialError(Exception):
    """Why a caller gets no keys (sent to the caller, logged by the service)."""


@dataclass(frozen=True)
class UserRole:
    name: str
    uid: int
    role_arn: str


def read_users(path: Path) -> dict[int, UserRole]:
    """UID -> role from the table; refuses a table others could have written."""
    info = path.stat()
    if info.st_uid != 0 or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise CredentialError(f"{path} must be owned by root and writable by root only")
    users: dict[int, UserRole] = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        try:
            name, uid, arn = line.split()
            users[int(uid)] = UserRole(name=name, uid=int(uid), role_arn=arn)
        except ValueError:
            raise CredentialError(f"{path} line {number} is not `name uid role-arn`") from None
    return users


def peer_uid(connection: socket.socket) -> int:
    """The UID of the process at the other end, as the kernel recorded it when it connected."""
    raw = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", raw)
    return int(uid)


class Broker:
    """Assumes users' roles with the host's own credentials and caches the answers per user."""

    def __init__(self, users: dict[int, UserRole], sts: Any) -> None:
        self.users = users
        self.sts = sts
        self._cache: dict[int, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def credentials(self, uid: int) -> dict[str, Any]:
        user = self.users.get(uid)
        if user is None:
            try:
                who = pwd.getpwuid(uid).pw_name
            except KeyError:
                who = "no user"
            raise CredentialError(f"uid {uid} ({who}) has no platform role on this host")
        with self._lock:
            cached = self._cache.get(uid)
            now = dt.datetime.now(dt.timezone.utc)
            if cached is None or cached["Expiration"] - now < RENEW_BEFORE:
                answer = self.sts.assume_role(
                    RoleArn=user.role_arn, RoleSessionName=user.name, DurationSeconds=SESSION_SECONDS
                )
                cached = answer["Credentials"]
                self._cache[uid] = cached
        return {
            "Version": 1,
            "AccessKeyId": cached["AccessKeyId"],
            "SecretAccessKey": cached["SecretAccessKey"],
            "SessionToken": cached["SessionToken"],
            "Expiration": cached["Expiration"].isoformat(),
        }


def _handler(broker: Broker) -> type[socketserver.BaseRequestHandler]:
    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            uid = peer_uid(self.request)
            try:
                reply: dict[str, Any] = broker.credentials(uid)
            except CredentialError as error:
                reply = {"Error": str(error)}
            except Exception as error:  # an STS failure must reach the caller as a message, not a hang-up
                reply = {"Error": f"could not get credentials for uid {uid}: {type(error).__name__}: {error}"}
            if "Error" in reply:
                print(f"simlab-credentials: uid {uid}: {reply['Error']}", file=sys.stderr, flush=True)
            self.request.sendall(json.dumps(reply).encode() + b"\n")

    return Handler


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def serve(socket_path: Path, users_path: Path) -> None:
    import boto3  # only the service needs it; `get` runs with the standard library alone

    broker = Broker(read_users(users_path), boto3.session.Session().client("sts"))
    socket_path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    socket_path.unlink(missing_ok=True)
    with _Server(str(socket_path), _handler(broker)) as server:
        # Anyone may ask; the kernel says who asked.
        os.chmod(socket_path, 0o666)
        print(f"simlab-credentials: serving {len(broker.users)} users on {socket_path}", flush=True)
        server.serve_forever()


def get(socket_path: Path) -> int:
    """credential_process: print the caller's keys as JSON, or one line on stderr and exit 1."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(30)
            connection.connect(str(socket_path))
            data = b""
            while not data.endswith(b"\n") and len(data) < MAX_REPLY:
                chunk = connection.recv(4096)
                if not chunk:
                    break
                data += chunk
    except OSError as error:
        print(f"simlab-credentials: cannot reach the credential service at {socket_path}: {error}", file=sys.stderr)
        return 1
    try:
        reply = json.loads(data)
    except ValueError:
        print("simlab-credentials: the credential service sent no answer", file=sys.stderr)
        return 1
    if "Error" in reply:
        print(f"simlab-credentials: {reply['Error']}", file=sys.stderr)
        return 1
    print(json.dumps(reply))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="simlab-credentials", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("serve", "get"))
    parser.add_argument("--socket", type=Path, default=SOCKET)
    parser.add_argument("--users", type=Path, default=USERS)
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.socket, args.users)
        return 0
    return get(args.socket)


if __name__ == "__main__":
    sys.exit(main())
