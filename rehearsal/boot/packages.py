"""What the boot rehearsal serves in place of the internet's downloads (besides PyPI, pypi.py):

- RStudio Server: a package named rstudio-server, of the pinned version, whose service answers HTTP on the
  address and port of /etc/rstudio/rserver.conf, signed the way Posit signs its releases (signed_deb.py) with a
  key made for the run; and a copy with one member changed under the original signature, for the failure run;
- CRAN's Ubuntu apt repository: an empty flat repository for this Debian release, its InRelease signed by a
  key of the run, and that key at the URL the bootstrap fetches CRAN's key from;
- amazon-efs-utils' git repository: a bare clone holding the pinned commit, read through file://.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from rehearsal.boot.signed_deb import SigningKey, build_deb, clearsign, read_ar, sign, write_ar

EFS_UTILS_COMMIT = "c87d19f3e1db26532f09a7fed338347aacb90e10"  # host-setup.sh's pin
EFS_UTILS_UPSTREAM = "https://github.com/aws/efs-utils.git"
# A clone to copy from when this machine cannot reach GitHub (docs/rehearsal.md).
EFS_UTILS_SOURCE_ENV = "EC2_BOOT_EFS_UTILS_SOURCE"

RSERVER = '''#!/usr/bin/python3
"""RStudio Server stand-in (boot rehearsal): answers on www-address:www-port of /etc/rstudio/rserver.conf."""
import http.server

conf = dict(
    line.strip().split("=", 1) for line in open("/etc/rstudio/rserver.conf") if "=" in line and line[0] != "#"
)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"RStudio Server stand-in (boot rehearsal)\\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


address = (conf.get("www-address", "0.0.0.0"), int(conf.get("www-port", "8787")))
http.server.ThreadingHTTPServer(address, Handler).serve_forever()
'''

RSERVER_UNIT = """[Unit]
Description=RStudio Server stand-in (boot rehearsal)
After=network.target

[Service]
ExecStart=/usr/lib/rstudio-server/bin/rserver
Restart=on-failure

[Install]
WantedBy=multi-user.target
"""


def rstudio_packages(workdir: Path, key: SigningKey, version: str) -> tuple[Path, Path]:
    """(signed stand-in, the same with its data member changed under the original signature)."""
    root = workdir / "rstudio-root"
    if root.exists():
        shutil.rmtree(root)
    (root / "usr/lib/rstudio-server/bin").mkdir(parents=True)
    (root / "lib/systemd/system").mkdir(parents=True)
    (root / "etc/rstudio").mkdir(parents=True)
    server = root / "usr/lib/rstudio-server/bin/rserver"
    server.write_text(RSERVER)
    server.chmod(0o755)
    (root / "lib/systemd/system/rstudio-server.service").write_text(RSERVER_UNIT)
    (root / "DEBIAN").mkdir()
    postinst = root / "DEBIAN/postinst"
    postinst.write_text("#!/bin/sh\nset -e\nsystemctl daemon-reload || true\n")
    postinst.chmod(0o755)
    # dpkg records Posit's 2026.05.1-225 as 2026.05.1+225 (the bootstrap accepts both spellings).
    good = build_deb(
        workdir / "rstudio-server.deb",
        root,
        package="rstudio-server",
        version=version.replace("-", "+"),
        depends="python3",
        description="RStudio Server stand-in (boot rehearsal)",
    )
    sign(good, key)
    tampered = workdir / "rstudio-server-tampered.deb"
    members = read_ar(good)
    index = next(i for i, (name, _) in enumerate(members) if name.startswith("data.tar"))
    name, data = members[index]
    members[index] = (name, data[:-1] + bytes([data[-1] ^ 0x01]))
    write_ar(tampered, members)
    return good, tampered


def cran_repository(served: Path, key: SigningKey, codename: str) -> Path:
    """served/cran/: `<codename>-cran40/` (empty, InRelease signed by key) and marutter_pubkey.asc."""
    cran = served / "cran"
    suite = cran / f"{codename}-cran40"
    suite.mkdir(parents=True, exist_ok=True)
    (suite / "Packages").write_bytes(b"")
    empty_md5 = hashlib.md5(b"").hexdigest()  # noqa: S324 - apt's Release format lists MD5 too
    empty_sha256 = hashlib.sha256(b"").hexdigest()
    date = dt.datetime.now(dt.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S UTC")
    release = (
        f"Origin: rehearsal\nLabel: CRAN stand-in\nDate: {date}\n"
        f"MD5Sum:\n {empty_md5} 0 Packages\nSHA256:\n {empty_sha256} 0 Packages\n"
    )
    (suite / "Release").write_text(release)
    (suite / "InRelease").write_bytes(clearsign(release, key))
    shutil.copyfile(key.public_key, cran / "marutter_pubkey.asc")
    return cran


def efs_utils_repository(cache: Path) -> Path:
    """cache/efs-utils.git: a bare clone with the pinned commit, fetchable by its SHA (as GitHub allows)."""
    target = cache / "efs-utils.git"
    has_commit = target.exists() and (
        subprocess.run(["git", "-C", str(target), "cat-file", "-e", EFS_UTILS_COMMIT], capture_output=True).returncode
        == 0
    )
    if not has_commit:
        if target.exists():
            shutil.rmtree(target)
        source = os.environ.get(EFS_UTILS_SOURCE_ENV) or EFS_UTILS_UPSTREAM
        cloned = subprocess.run(
            ["git", "clone", "--bare", "--quiet", source, str(target)], capture_output=True, text=True, timeout=300
        )
        if cloned.returncode != 0:
            raise RuntimeError(
                f"cannot clone amazon-efs-utils from {source} ({cloned.stderr.strip()[-200:]}); "
                f"set {EFS_UTILS_SOURCE_ENV} to a clone holding commit {EFS_UTILS_COMMIT}"
            )
    subprocess.run(
        ["git", "-C", str(target), "config", "uploadpack.allowAnySHA1InWant", "true"], check=True, capture_output=True
    )
    return target
