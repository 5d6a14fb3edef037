"""Debian packages signed the way Posit signs RStudio Server releases, with throwaway keys.

`dpkg-sig -k KEY --sign builder` (Posit's release script, rstudio/rstudio docker/jenkins/sign-release.sh)
appends an ar member `_gpgbuilder` holding a clear-signed manifest in dpkg-sig's format:

    Version: 4
    Signer:
    Date: ...
    Role: builder
    Files:
    \t<md5> <sha1> <size> debian-binary
    \t<md5> <sha1> <size> control.tar.xz
    \t<md5> <sha1> <size> data.tar.xz

dpkg-sig is not packaged for Debian 12, so this module writes the same member with gpg and a small ar
reader/writer. The tests of stacks/workspace/verify-deb.sh use it to build good and broken packages, and the
boot rehearsal to sign its stand-in RStudio Server package.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

AR_MAGIC = b"!<arch>\n"
_HEADER = 60


@dataclass(frozen=True)
class SigningKey:
    home: Path  # GNUPGHOME holding the secret key
    fingerprint: str
    public_key: Path  # armored public key, what a host is given to trust


def make_key(home: Path, name: str) -> SigningKey:
    """A new ed25519 signing key without passphrase in its own GNUPGHOME."""
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    env = {**os.environ, "GNUPGHOME": str(home)}
    uid = f"{name} <{name}@rehearsal.invalid>"
    subprocess.run(
        ["gpg", "--batch", "--quiet", "--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never"],
        env=env,
        check=True,
        capture_output=True,
    )
    listing = subprocess.run(
        ["gpg", "--batch", "--with-colons", "--list-secret-keys", uid],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    fingerprint = next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))
    public_key = home / "public.asc"
    public_key.write_bytes(
        subprocess.run(
            ["gpg", "--batch", "--armor", "--export", fingerprint], env=env, check=True, capture_output=True
        ).stdout
    )
    return SigningKey(home=home, fingerprint=fingerprint, public_key=public_key)


def stop_agent(key: SigningKey) -> None:
    """Stop the gpg-agent that key generation and signing started for this key's home."""
    env = {**os.environ, "GNUPGHOME": str(key.home)}
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=env, check=False, capture_output=True)


def read_ar(path: Path) -> list[tuple[str, bytes]]:
    """(name, data) of every member, in order (names as dpkg-deb and GNU ar write them, without the '/')."""
    raw = path.read_bytes()
    if not raw.startswith(AR_MAGIC):
        raise ValueError(f"{path} is not an ar archive")
    members, offset = [], len(AR_MAGIC)
    while offset < len(raw):
        header = raw[offset : offset + _HEADER]
        name = header[:16].decode().rstrip().rstrip("/")
        size = int(header[48:58].decode().strip())
        offset += _HEADER
        members.append((name, raw[offset : offset + size]))
        offset += size + (size % 2)
    return members


def write_ar(path: Path, members: list[tuple[str, bytes]]) -> None:
    """An ar archive in dpkg-deb's layout (mode 100644, owner 0, the current time)."""
    now = int(time.time())
    out = bytearray(AR_MAGIC)
    for name, data in members:
        if len(name) > 16:
            raise ValueError(f"ar member name {name!r} is longer than 16 characters")
        header = f"{name:<16}{now:<12}{0:<6}{0:<6}{'100644':<8}{len(data):<10}`\n".encode()
        assert len(header) == _HEADER
        out += header + data + (b"\n" if len(data) % 2 else b"")
    path.write_bytes(bytes(out))


def build_deb(out: Path, root: Path, *, package: str, version: str, depends: str = "", description: str = "") -> Path:
    """A binary package of `root` (its files as they lie there, owned by root) with a minimal control file;
    maintainer scripts already in root/DEBIAN are kept."""
    debian = root / "DEBIAN"
    debian.mkdir(parents=True, exist_ok=True)
    lines = [
        f"Package: {package}",
        f"Version: {version}",
        "Architecture: all",
        "Maintainer: Simlab rehearsal <rehearsal@rehearsal.invalid>",
        *([f"Depends: {depends}"] if depends else []),
        f"Description: {description or package}",
    ]
    (debian / "control").write_text("\n".join(lines) + "\n")
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(root), str(out)], check=True, capture_output=True
    )
    return out


def manifest(members: list[tuple[str, bytes]]) -> str:
    """dpkg-sig's builder manifest for these members (every member but `_gpg*` ones)."""
    files = "".join(
        f"\t{hashlib.md5(data).hexdigest()} {hashlib.sha1(data).hexdigest()} {len(data)} {name}\n"  # noqa: S324
        for name, data in members
        if not name.startswith("_gpg")
    )
    date = time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime())
    return f"Version: 4\nSigner: \nDate: {date}\nRole: builder\nFiles: \n{files}"


def clearsign(text: str, key: SigningKey) -> bytes:
    env = {**os.environ, "GNUPGHOME": str(key.home)}
    return subprocess.run(
        ["gpg", "--batch", "--quiet", "--local-user", key.fingerprint, "--clearsign"],
        input=text.encode(),
        env=env,
        check=True,
        capture_output=True,
    ).stdout


def sign(deb: Path, key: SigningKey) -> Path:
    """Append `_gpgbuilder` as `dpkg-sig --sign builder` does (in place); returns deb."""
    members = read_ar(deb)
    write_ar(deb, [*members, ("_gpgbuilder", clearsign(manifest(members), key))])
    return deb
