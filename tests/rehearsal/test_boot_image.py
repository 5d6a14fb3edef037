"""The boot rehearsal's image holds, from Debian, every R package the host would fetch from Posit Package Manager:
the bootstrap's own list and simjobs' Imports (the container has no network, so a missing one fails the boot)."""

from __future__ import annotations

import re
from pathlib import Path

from rehearsal.boot.machine import CONTAINERFILE
from stacks.workspace import bootstrap

ROOT = Path(__file__).resolve().parents[2]
BASE_R = {"stats", "utils", "methods", "tools", "graphics", "grDevices", "parallel"}


def _imports() -> set[str]:
    text = (ROOT / "R" / "simjobs" / "DESCRIPTION").read_text()
    field = re.search(r"^Imports:(.*?)(?=^\S)", text, re.M | re.S)
    assert field is not None
    return {re.sub(r"\(.*?\)", "", item).strip() for item in field.group(1).split(",")} - BASE_R


def _bootstrap_list() -> set[str]:
    line = next(x for x in bootstrap.SETUP.read_text().splitlines() if "requireNamespace(p" in x)
    return set(re.findall(r'"([A-Za-z0-9.]+)"', line))


def test_the_image_has_every_r_package_the_host_would_download() -> None:
    needed = _imports() | _bootstrap_list()
    assert {"reticulate", "remotes", "jsonlite"} <= needed
    containerfile = CONTAINERFILE.read_text()
    missing = sorted(name for name in needed if f" r-cran-{name.lower()}" not in containerfile)
    assert missing == [], f"add r-cran-<name> to {CONTAINERFILE.name} for: {', '.join(missing)}"
