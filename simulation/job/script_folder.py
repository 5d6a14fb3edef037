"""A user's R script and the folder shipped with it: the same rules for a SageMaker job (`submit --r-script`) and
for a local emulated one (`local-job --r-script`), so what runs locally is what the job would get."""

from __future__ import annotations

import json
import re
from pathlib import Path

from simulation.errors import SimulationError
from simulation.text import hint

MAX_CODE_FILES = 2000
MAX_CODE_BYTES = 500 * 1024 * 1024


def script_folder(script: str, folder: str | None) -> tuple[Path, str]:
    """The folder to ship and the script's path inside it; one line naming what is wrong otherwise."""
    script_path = Path(script).expanduser()
    root = Path(folder).expanduser() if folder else script_path.parent
    if not script_path.is_absolute() and folder and not script_path.exists():
        script_path = root / script_path
    if not root.is_dir():
        raise SimulationError(f"folder {root} {'is not a folder' if root.exists() else 'does not exist'}")
    if not script_path.is_file():
        raise SimulationError(f"R script {script} does not exist")
    try:
        relative = script_path.resolve().relative_to(root.resolve())
    except ValueError:
        raise SimulationError(f"R script {script} is not inside the folder {root}") from None
    return root, relative.as_posix()


def code_files(folder: Path) -> list[Path]:
    """The files of a user's folder to ship, skipping hidden ones (.git, .Rproj.user) and bounded in size."""
    files = []
    total = 0
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        files.append(path)
        total += path.stat().st_size
        if len(files) > MAX_CODE_FILES or total > MAX_CODE_BYTES:
            raise SimulationError(
                f"folder {folder} holds more than {MAX_CODE_FILES} files or {MAX_CODE_BYTES // 2**20} MB; "
                "put data in S3 and ship only the code"
            )
    return files


# --- the job image's R and the folder's packages -----------------------------------------------------------------

# The R that runs users' scripts in a job: container/Dockerfile installs Debian bookworm's r-base-core 4.2.2
# (tests/processing/test_r_versions.py reads the pin there). The RStudio host installs CRAN's current R, so a
# package installed on the host is built for another R minor version: R only warns ("was built under R version
# 4.5.1") and loads it, but compiled code and serialized objects are not kept compatible across minor versions,
# so it may fail or misbehave in the job (patch versions are compatible).
JOB_IMAGE_R = "4.2.2"
_BUILT = re.compile(r"^Built:\s*R\s+(\d+\.\d+)(?:\.\d+)?;(.*)$", re.MULTILINE)


def r_minor(version: str) -> str:
    """'4.5' for '4.5.1'."""
    return ".".join(version.split(".")[:2])


def r_version_warnings(files: list[Path], root: Path, job_r: str = JOB_IMAGE_R) -> list[str]:
    """One line per kind of mismatch between the job's R and what the shipped folder was made for: installed
    packages (a DESCRIPTION with a `Built: R x.y` field, as in a project library or renv/library) and renv.lock's
    R version. Empty when everything matches the job's R minor version."""
    wanted = r_minor(job_r)
    build = hint("python -m simulation image build --r-packages ...", "build_image(r_packages = ...)")
    built: dict[str, list[str]] = {}
    lines = []
    for path in files:
        if path.name == "DESCRIPTION":
            match = _BUILT.search(path.read_text(encoding="utf-8", errors="replace"))
            if match and match.group(1) != wanted:
                built.setdefault(match.group(1), []).append(path.parent.name)
        elif path.name == "renv.lock":
            try:
                recorded = str(json.loads(path.read_text(encoding="utf-8"))["R"]["Version"])
            except (ValueError, KeyError, TypeError):
                continue
            if r_minor(recorded) != wanted:
                lines.append(
                    f"{path.relative_to(root)} records R {recorded}; jobs run R {job_r}: restore the library for "
                    f"R {wanted} (or build an image with the packages: {build})"
                )
    for version, packages in sorted(built.items()):
        names = ", ".join(sorted(packages)[:5]) + (", ..." if len(packages) > 5 else "")
        lines.append(
            f"{len(packages)} package(s) in {root} were built for R {version} ({names}); jobs run R {job_r}, where "
            f"they may fail to load: build an image with them ({build}) or ship their sources"
        )
    return lines
