"""The repository's own promises: README's two commands are what CI runs, and what ships is pinned."""

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make run\b", readme, re.M), "README must show the set-up + main job command"
    assert re.search(r"^make test\b", readme, re.M), "README must show the test command"
    assert re.search(r"^make test$", ci, re.M), ".ci/run must call the README's test command"


def test_shipped_python_dependencies_are_pinned():
    for name in ("requirements.txt", "requirements-dev.txt", "requirements-checkov.txt", "requirements-host.txt"):
        for line in (ROOT / name).read_text().splitlines():
            line = line.split("#")[0].strip()
            if line and not line.startswith("-r"):
                assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][0-9A-Za-z.]*", line), f"{name}: unpinned {line!r}"


def test_cdk_cli_is_pinned_to_a_v2_release():
    # aws-cdk 3.x cannot read aws-cdk-lib 2.x cloud assemblies; `latest` on npm is 3.x.
    version = json.loads((ROOT / "package.json").read_text())["devDependencies"]["aws-cdk"]
    assert re.fullmatch(r"2\.\d+\.\d+", version)
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/aws-cdk"]["version"] == version


def test_python_sources_pass_ruff():
    import subprocess
    import sys

    ruff = Path(sys.executable).with_name("ruff")
    for args in (["check", "."], ["format", "--check", "."]):
        completed = subprocess.run([str(ruff), *args], cwd=ROOT, capture_output=True, text=True, check=False)
        assert completed.returncode == 0, completed.stdout + completed.stderr


def test_python_sources_pass_the_type_checker():
    # the same check as `make lint`; pyproject.toml's [tool.mypy] names the packages (simulation/, stacks/)
    import subprocess
    import sys

    mypy = Path(sys.executable).with_name("mypy")
    completed = subprocess.run([str(mypy)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
