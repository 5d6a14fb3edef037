"""The simjobs R package as a package: `R CMD build` + `R CMD check --no-manual` clean (its testthat tests and
examples run against this venv's Python), help pages generated from the roxygen blocks and up to date, one
version for the R and the Python package."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "R" / "simjobs"

# NOTEs of `R CMD check` this project accepts, each with its reason. None at present: keep it that way, or add
# the NOTE's first line here with why it cannot be avoided (docs/r.md lists them for readers).
ACCEPTED_NOTES: dict[str, str] = {}


def _check_environment(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "RETICULATE_PYTHON": sys.executable,
        # the package's tests that need Python fail rather than skip when it is missing
        "SIMJOBS_REQUIRE_PYTHON": "true",
        # CRAN is unreachable here: Suggests are installed from Debian or not at all, and the clock check
        # would ask a time server
        "_R_CHECK_FORCE_SUGGESTS_": "false",
        "_R_CHECK_SYSTEM_CLOCK_": "0",
        "_R_CHECK_CRAN_INCOMING_": "false",
        # nothing the check runs may reach AWS
        "AWS_CONFIG_FILE": str(tmp_path / "absent"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "absent"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "R_LIBS_USER": str(tmp_path / "no-user-library"),
    }


def _notes(log: str) -> list[str]:
    """The first line of every check step that ended in NOTE."""
    return [line for line in log.splitlines() if line.startswith("* ") and line.rstrip().endswith("NOTE")]


@pytest.mark.r
def test_r_cmd_build_and_check_have_no_errors_warnings_or_unexplained_notes(tmp_path):
    env = _check_environment(tmp_path)
    built = subprocess.run(
        ["R", "CMD", "build", "--no-manual", str(PACKAGE)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    tarballs = list(tmp_path.glob("simjobs_*.tar.gz"))
    assert [t.name for t in tarballs] == [f"simjobs_{_description()['Version']}.tar.gz"]
    checked = subprocess.run(
        ["R", "CMD", "check", "--no-manual", tarballs[0].name],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    log = (tmp_path / "simjobs.Rcheck" / "00check.log").read_text()
    tests = tmp_path / "simjobs.Rcheck" / "tests" / "testthat.Rout"
    detail = log + (tests.read_text()[-3000:] if tests.exists() else "") + checked.stderr[-2000:]
    assert checked.returncode == 0, detail
    assert "ERROR" not in log, detail
    assert "WARNING" not in log, detail
    unexplained = [note for note in _notes(log) if not any(note.startswith(n) for n in ACCEPTED_NOTES)]
    assert unexplained == [], detail
    # the examples and the testthat tests really ran against Python (not skipped)
    examples = (tmp_path / "simjobs.Rcheck" / "simjobs-Ex.Rout").read_text()
    assert '> estimate_cost("ml.c5.xlarge", instance_count = 2, hours = 1.5)$usd\n[1] 0.612' in examples
    assert "[ FAIL 0 | WARN 0 | SKIP 0 | PASS" in tests.read_text()


@pytest.mark.r
def test_help_pages_and_namespace_are_what_roxygen_makes_of_the_sources(tmp_path):
    copy = tmp_path / "simjobs"
    shutil.copytree(PACKAGE, copy)
    shutil.rmtree(copy / "man")
    (copy / "NAMESPACE").unlink()
    done = subprocess.run(
        ["Rscript", "-e", "roxygen2::roxygenise()"],
        cwd=copy,
        env={**os.environ, "RETICULATE_PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    generated = {p.name: p.read_text() for p in (copy / "man").glob("*.Rd")}
    committed = {p.name: p.read_text() for p in (PACKAGE / "man").glob("*.Rd")}
    assert sorted(committed) == sorted(generated), "run roxygen2::roxygenise() in R/simjobs and commit man/"
    for name, text in generated.items():
        assert committed[name] == text, f"man/{name} is out of date: run roxygen2::roxygenise() in R/simjobs"
    assert (copy / "NAMESPACE").read_text() == (PACKAGE / "NAMESPACE").read_text()
    assert (copy / "DESCRIPTION").read_text() == (PACKAGE / "DESCRIPTION").read_text()  # RoxygenNote


def test_every_export_has_a_help_page_with_a_value_and_examples():
    exports = re.findall(r"^export\((\w+)\)$", (PACKAGE / "NAMESPACE").read_text(), re.MULTILINE)
    assert "submit_simulation" in exports
    pages = {p.name: p.read_text() for p in (PACKAGE / "man").glob("*.Rd")}
    for name in exports:
        page = next((text for text in pages.values() if f"\\alias{{{name}}}" in text), None)
        assert page is not None, f"{name} has no help page"
        for part in ("\\title{", "\\description{", "\\value{", "\\examples{"):
            assert part in page, f"?{name} lacks {part}"


def test_one_version_for_the_r_and_the_python_package():
    # tomllib is Python 3.11+; the project supports 3.10
    python = re.search(r'^version = "([^"]+)"$', (ROOT / "pyproject.toml").read_text(), re.MULTILINE)
    assert python is not None
    assert _description()["Version"] == python.group(1)


def _description() -> dict[str, str]:
    fields: dict[str, str] = {}
    key = ""
    for line in (PACKAGE / "DESCRIPTION").read_text().splitlines():
        if line[:1].isspace() and key:
            fields[key] += " " + line.strip()
        elif ":" in line:
            key, value = line.split(":", 1)
            fields[key] = value.strip()
    return fields
