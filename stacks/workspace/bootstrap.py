"""The host's bootstrap script (bootstrap.sh) with the deployment's values put in front of it, as EC2 user data.

The values are plain strings or CDK tokens (IDs, ARNs); CDK turns the tokens into an Fn::Join at synth.
Nothing secret is passed: the host reads the login password from Secrets Manager itself. bootstrap.sh sources
host-setup.sh from the package it downloads (EC2 limits user data to 16 KB).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path

SCRIPT = Path(__file__).with_name("bootstrap.sh")
SETUP = Path(__file__).with_name("host-setup.sh")
REQUIREMENTS = Path(__file__).resolve().parents[2] / "requirements-host.txt"
# EC2 refuses user data over 16 KB (before base64).
USER_DATA_LIMIT = 16 * 1024

_NAME = re.compile(r"SIMLAB_[A-Z0-9_]+")


def render(values: Mapping[str, str], script: str | None = None) -> str:
    """The script with `export NAME='value'` lines after its shebang, one per value, in sorted order."""
    text = SCRIPT.read_text() if script is None else script
    shebang, _, body = text.partition("\n")
    lines = []
    for name in sorted(values):
        value = values[name]
        if not _NAME.fullmatch(name):
            raise ValueError(f"bootstrap variable {name!r} must look like SIMLAB_NAME")
        if "'" in value or "\n" in value:
            raise ValueError(f"bootstrap variable {name} holds a quote or newline: {value!r}")
        lines.append(f"export {name}='{value}'")
    return "\n".join([shebang, "# Values of this deployment (written by stacks/workspace/bootstrap.py).", *lines, body])


def fingerprint(*parts: str) -> str:
    """Short digest of the script and the given parts; part of the host's construct ID, so that a changed
    bootstrap or package replaces the host instead of being silently ignored by cloud-init."""
    digest = hashlib.sha256(SCRIPT.read_bytes())
    for part in parts:
        digest.update(b"\0" + part.encode())
    return digest.hexdigest()[:8].upper()


def architecture(instance_type: str) -> str:
    """'arm64' for Graviton families (m7g, c6gn, t4g, r8gd ...), else 'amd64'."""
    family = instance_type.split(".", 1)[0]
    return "arm64" if re.fullmatch(r"[a-z]+\d+g[a-z]*", family) else "amd64"


def pip_constraints(path: Path = REQUIREMENTS) -> str:
    """The host's pip pins, `name==version` space-separated: requirements-host.txt with the files it includes."""
    pins: list[str] = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            pins += pip_constraints(path.parent / line[3:].strip()).split()
        elif line:
            if not re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][0-9A-Za-z.]*", line):
                raise ValueError(f"{path.name}: {line!r} is not pinned as name==version")
            pins.append(re.sub(r"\[.*\]", "", line))  # constraints take no extras
    return " ".join(pins)
