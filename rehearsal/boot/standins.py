"""The boot rehearsal's network stand-ins, each run as its own process inside the host container's network
namespace (`nsenter --net=/proc/PID/ns/net`), where they are all the host can reach:

- `imds CONFIG`: the instance metadata service on 169.254.169.254:80, IMDSv2 only (a PUT for a token first, as
  the host's `HttpTokens: required` demands), answering the instance ID, region and the instance profile role's
  keys, which it gets from moto by AssumeRole of the host role, as EC2 does for an instance profile;
- `files ROOT PORT`: a static file server on 127.0.0.1 for what the host would download from the internet
  (the RStudio package and its key, a PyPI simple index, CRAN's apt repository);
- `relay PID PORT`: the one way in from outside: listens on this machine's loopback (a free port, printed) and
  forwards each connection to PORT inside the namespace of process PID (moto, for the rehearsal's own calls).
"""

from __future__ import annotations

import ctypes
import datetime as dt
import functools
import http.server
import json
import os
import secrets
import socket
import socketserver
import sys
import threading
from pathlib import Path
from typing import Any

IMDS_ADDRESS = "169.254.169.254"
CLONE_NEWNET = 0x40000000
TOKEN_HEADER = "X-aws-ec2-metadata-token"
TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds"


class _ThreadingServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


# ------------------------------------------------------------------------------------------------- imds
class Metadata:
    """What the stand-in answers: config is JSON {instance_id, region, account, role_name, role_arn,
    aws_endpoint, admin_key_id, admin_secret}."""

    def __init__(self, config: dict[str, str]) -> None:
        self.config = config
        self.tokens: set[str] = set()
        self._credentials: dict[str, Any] | None = None
        self._lock = threading.Lock()

    def credentials(self) -> dict[str, Any]:
        import boto3

        with self._lock:
            now = dt.datetime.now(dt.timezone.utc)
            if self._credentials is None or self._credentials["Expiration"] - now < dt.timedelta(minutes=15):
                sts = boto3.session.Session(
                    aws_access_key_id=self.config["admin_key_id"],
                    aws_secret_access_key=self.config["admin_secret"],
                    region_name=self.config["region"],
                ).client("sts", endpoint_url=self.config["aws_endpoint"])
                self._credentials = sts.assume_role(
                    RoleArn=self.config["role_arn"], RoleSessionName=self.config["instance_id"]
                )["Credentials"]
            return self._credentials

    def answer(self, path: str) -> tuple[int, str, str]:
        config = self.config
        if path == "/latest/meta-data/instance-id":
            return 200, "text/plain", config["instance_id"]
        if path == "/latest/meta-data/placement/region":
            return 200, "text/plain", config["region"]
        if path == "/latest/meta-data/placement/availability-zone":
            return 200, "text/plain", config["region"] + "a"
        if path == "/latest/meta-data/iam/security-credentials/":
            return 200, "text/plain", config["role_name"]
        if path == f"/latest/meta-data/iam/security-credentials/{config['role_name']}":
            keys = self.credentials()
            body = {
                "Code": "Success",
                "LastUpdated": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "Type": "AWS-HMAC",
                "AccessKeyId": keys["AccessKeyId"],
                "SecretAccessKey": keys["SecretAccessKey"],
                "Token": keys["SessionToken"],
                "Expiration": keys["Expiration"].strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            return 200, "application/json", json.dumps(body)
        if path == "/latest/dynamic/instance-identity/document":
            document = {
                "accountId": config["account"],
                "instanceId": config["instance_id"],
                "region": config["region"],
                "availabilityZone": config["region"] + "a",
            }
            return 200, "application/json", json.dumps(document)
        return 404, "text/plain", "Not Found"


def _imds_handler(metadata: Metadata) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def _send(self, status: int, kind: str, body: str) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_PUT(self) -> None:  # noqa: N802 - http.server's naming
            if self.path != "/latest/api/token" or not self.headers.get(TTL_HEADER):
                self._send(400, "text/plain", "Bad Request")
                return
            token = secrets.token_urlsafe(32)
            metadata.tokens.add(token)
            self._send(200, "text/plain", token)

        def do_GET(self) -> None:  # noqa: N802
            # IMDSv2 only: no token, no answer (the host's launch template sets HttpTokens: required).
            if self.headers.get(TOKEN_HEADER) not in metadata.tokens:
                self._send(401, "text/plain", "Unauthorized")
                return
            self._send(*metadata.answer(self.path))

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            sys.stderr.write(f"imds: {self.address_string()} {format % args}\n")

    return Handler


def serve_imds(config_path: Path) -> None:
    metadata = Metadata(json.loads(config_path.read_text()))
    with _ThreadingServer((IMDS_ADDRESS, 80), _imds_handler(metadata)) as server:
        print(f"imds: serving {metadata.config['instance_id']} on {IMDS_ADDRESS}:80", flush=True)
        server.serve_forever()


# ------------------------------------------------------------------------------------------------ files
def serve_files(root: Path, port: int) -> None:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    with _ThreadingServer(("127.0.0.1", port), handler) as server:
        print(f"files: serving {root} on 127.0.0.1:{port}", flush=True)
        server.serve_forever()


# ------------------------------------------------------------------------------------------------ relay
def _enter_network_namespace(pid: int) -> None:
    """setns(2) for this process (Python 3.11 has no os.setns); sockets made before keep their namespace."""
    libc = ctypes.CDLL(None, use_errno=True)
    with open(f"/proc/{pid}/ns/net") as namespace:
        if libc.setns(namespace.fileno(), CLONE_NEWNET) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"setns into the network namespace of {pid}: {os.strerror(error)}")


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, target):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def relay(pid: int, port: int) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    print(listener.getsockname()[1], flush=True)
    _enter_network_namespace(pid)
    while True:
        client, _ = listener.accept()
        try:
            upstream = socket.create_connection(("127.0.0.1", port), timeout=10)
        except OSError:
            client.close()
            continue
        upstream.settimeout(None)
        threading.Thread(target=_pipe, args=(client, upstream), daemon=True).start()
        threading.Thread(target=_pipe, args=(upstream, client), daemon=True).start()


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["imds"]:
        serve_imds(Path(args[1]))
    elif args[:1] == ["files"]:
        serve_files(Path(args[1]), int(args[2]))
    elif args[:1] == ["relay"]:
        relay(int(args[1]), int(args[2]))
    else:
        sys.exit("usage: python -m rehearsal.boot.standins imds CONFIG | files ROOT PORT | relay PID PORT")


if __name__ == "__main__":
    main()
