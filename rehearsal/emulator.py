"""moto server on a free loopback port, and the environment that points the CDK CLI, boto3 and the project's
client at it (and at nothing else)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

REGION = "eu-west-1"
# moto's fixed account for every credential it is given.
ACCOUNT = "123456789012"
START_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class Emulator:
    port: int
    home: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        """os.environ with every AWS setting replaced: the emulator's endpoint, dummy credentials, no profile."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_"))}
        env.update(
            {
                "AWS_ENDPOINT_URL": self.url,
                # The CLI builds the TemplateURL it gives CloudFormation from the S3 endpoint; moto reads the
                # first label of 127.0.0.1 as a bucket name, a host name keeps it path-style.
                "AWS_ENDPOINT_URL_S3_FOR_CLOUDFORMATION": f"http://localhost:{self.port}",
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_SESSION_TOKEN": "testing",
                "AWS_REGION": REGION,
                "AWS_DEFAULT_REGION": REGION,
                "AWS_CONFIG_FILE": str(self.home / "aws-config-absent"),
                "AWS_SHARED_CREDENTIALS_FILE": str(self.home / "aws-credentials-absent"),
                "AWS_EC2_METADATA_DISABLED": "true",
                "CDK_DISABLE_CLI_TELEMETRY": "true",
                "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
                "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
                "SAGEMAKER_SUPPRESS_V2_WARNING": "1",
            }
        )
        return env

    def client(self, service: str) -> Any:
        return boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        ).client(service, endpoint_url=self.url)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):
            return True
    except OSError:
        return False


@contextmanager
def moto_server(home: Path) -> Iterator[Emulator]:
    """A fresh moto server (empty state) for the duration of the block; its log is home/moto.log."""
    home.mkdir(parents=True, exist_ok=True)
    emulator = Emulator(port=free_port(), home=home)
    server = Path(sys.executable).parent / "moto_server"
    with (home / "moto.log").open("w") as log:
        process = subprocess.Popen(
            [str(server), "-H", "127.0.0.1", "-p", str(emulator.port)], stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + START_TIMEOUT_SECONDS
            while not _answers(emulator.url):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto_server did not start on {emulator.url} (log: {home / 'moto.log'})")
                time.sleep(0.1)
            yield emulator
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
