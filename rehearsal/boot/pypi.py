"""PyPI's stand-in for the boot rehearsal: the wheels the host's pip installs, as a PEP 503 simple index.

The bootstrap installs the AWS CLI, boto3 and the SageMaker SDK, then this project with its `client` and `fast`
extras, all under the pins of requirements-host.txt (bootstrap.pip_constraints). `pip wheel` here (which can
reach PyPI) builds every one of them as a wheel, so the container, which reaches nothing, installs the same
versions from the index without building anything but this project. Cached by the constraints' digest.
"""

from __future__ import annotations

import hashlib
import html
import re
import shutil
import subprocess
import sys
from pathlib import Path

from stacks.workspace import bootstrap

# What the bootstrap's pip installs (bootstrap.sh install_python, host-setup.sh install_package), plus what
# pip needs to build this project (setuptools) and upgrade itself.
REQUIREMENTS = ("pip", "setuptools>=68", "wheel", "awscli", "boto3", "sagemaker", "numpy", "numba", "matplotlib")


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def write_index(wheels: Path, index: Path) -> int:
    """index/<project>/index.html for every wheel in `wheels` (links relative to index); returns the count."""
    if index.exists():
        shutil.rmtree(index)
    projects: dict[str, list[Path]] = {}
    for wheel in sorted(wheels.glob("*.whl")):
        projects.setdefault(_normalize(wheel.name.split("-", 1)[0]), []).append(wheel)
    for project, files in projects.items():
        (index / project).mkdir(parents=True)
        links = []
        for wheel in files:
            digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
            target = f"../../wheels/{html.escape(wheel.name)}#sha256={digest}"
            links.append(f'<a href="{target}">{html.escape(wheel.name)}</a><br>')
        (index / project / "index.html").write_text(
            "<!DOCTYPE html><html><body>\n" + "\n".join(links) + "\n</body></html>\n"
        )
    (index / "index.html").write_text(
        "<!DOCTYPE html><html><body>\n"
        + "\n".join(f'<a href="{p}/">{p}</a><br>' for p in sorted(projects))
        + "\n</body></html>\n"
    )
    return len(projects)


def build(cache: Path) -> Path:
    """cache/pypi-<digest>/ holding wheels/ and simple/ (the index); built once per set of pins."""
    constraints = bootstrap.pip_constraints()
    digest = hashlib.sha256((constraints + "|" + " ".join(REQUIREMENTS)).encode()).hexdigest()[:12]
    root = cache / f"pypi-{digest}"
    if (root / "done").exists():
        return root
    wheels = root / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    pins = root / "constraints.txt"
    pins.write_text("\n".join(constraints.split()) + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(wheels), "-c", str(pins), *REQUIREMENTS],
        check=True,
        timeout=1800,
    )
    write_index(wheels, root / "simple")
    (root / "done").write_text("ok\n")
    return root
