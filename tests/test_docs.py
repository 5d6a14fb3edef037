"""The README and docs/ pages point at things that exist: every relative link (file and #anchor) and every
repository path they name in backticks, so a moved module or a renamed heading fails here with the page and the
stale reference. The README stays short enough to read on a screen or two."""

from __future__ import annotations

import fnmatch
import re
import subprocess
import unicodedata
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
README_MAX_LINES = 250

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,}).*?^ {0,3}\1[^\n]*$", re.M | re.S)
CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$", re.M)
# A brace list as the shell writes it: simulation/commands/{submit,status}.py
BRACES = re.compile(r"\{([^{}]*,[^{}]*)\}")


def _rel(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


def _prose(text: str) -> str:
    """The page without fenced code blocks, whose lines are neither headings, links nor path mentions."""
    return FENCE.sub("", text)


@cache
def tracked() -> frozenset[str]:
    """Files in the repository (git's index plus files not yet added), so paths in docs are checked against
    what a clone holds, not against whatever happens to lie in this working tree (.venv, cdk.out, out/)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return frozenset(name for name in listed.split("\0") if name and (ROOT / name).exists())


@cache
def tracked_dirs() -> frozenset[str]:
    dirs: set[str] = set()
    for name in tracked():
        parts = name.split("/")[:-1]
        dirs.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    return frozenset(dirs)


@cache
def top_level() -> frozenset[str]:
    return frozenset(name.split("/")[0] for name in tracked())


def exists_in_repo(path: str) -> bool:
    path = path.rstrip("/")
    if any(ch in path for ch in "*?["):
        return any(fnmatch.fnmatchcase(name, path) for name in tracked())
    return path in tracked() or path in tracked_dirs()


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: markdown removed, lowercase, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links keep their text
    text = text.replace("`", "").lower()
    kept = "".join(ch for ch in text if ch in " -_" or unicodedata.category(ch)[0] in "LMN")
    return kept.replace(" ", "-")


@cache
def anchors(page: Path) -> frozenset[str]:
    seen: dict[str, int] = {}
    found = set()
    for match in HEADING.finditer(_prose(page.read_text())):
        base = slug(match.group(1))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return frozenset(found)


def links(page: Path) -> list[str]:
    text = CODE_SPAN.sub(lambda m: " " * len(m.group(0)), _prose(page.read_text()))
    return LINK.findall(text)


def _expand(path: str) -> list[str]:
    match = BRACES.search(path)
    if not match:
        return [path]
    head, tail = path[: match.start()], path[match.end() :]
    return [out for choice in match.group(1).split(",") for out in _expand(head + choice + tail)]


def mentioned_paths(page: Path) -> list[str]:
    """Backticked text that names a file or folder of this repository: one word (no spaces, no placeholders
    such as `<job>`), starting with a top-level entry of the repository (`stacks/…`, `simulation/…`, `Makefile`).
    Command lines, module names (`simulation.engine`), S3 keys (`jobs/…`) and /opt/ml paths are not paths here.
    """
    found = []
    for _, span in CODE_SPAN.findall(_prose(page.read_text())):
        span = span.strip()
        if not span or any(ch.isspace() for ch in span) or any(ch in span for ch in "<>$…=:"):
            continue
        first = span.split("/")[0]
        if first in top_level() and ("/" in span or (ROOT / first).is_file()):
            found.extend(_expand(span))
    return found


def test_readme_fits_on_a_couple_of_screens() -> None:
    lines = (ROOT / "README.md").read_text().count("\n")
    assert lines <= README_MAX_LINES, (
        f"README.md has {lines} lines; move detail to a docs/ page (max {README_MAX_LINES})"
    )


@pytest.mark.parametrize("page", PAGES, ids=_rel)
def test_relative_links_reach_a_file_and_its_anchor(page: Path) -> None:
    broken = []
    for target in links(page):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        try:
            repo_path = resolved.relative_to(ROOT).as_posix()
        except ValueError:
            broken.append(f"{target} (outside the repository)")
            continue
        if path and not exists_in_repo(repo_path):
            broken.append(f"{target} (no {repo_path} in the repository)")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(f"{target} (no heading '#{anchor}' in {repo_path})")
    assert not broken, f"{_rel(page)}: broken links: " + "; ".join(broken)


@pytest.mark.parametrize("page", PAGES, ids=_rel)
def test_backticked_repository_paths_exist(page: Path) -> None:
    missing = sorted({path for path in mentioned_paths(page) if not exists_in_repo(path)})
    assert not missing, f"{_rel(page)} names paths that are not in the repository: {', '.join(missing)}"


@pytest.mark.parametrize("page", PAGES, ids=_rel)
def test_named_test_files_exist(page: Path) -> None:
    """Test modules named without their folder (`test_sdk.py` after `tests/client/test_sdk.py`) exist somewhere."""
    names = {span for _, span in CODE_SPAN.findall(_prose(page.read_text())) if re.fullmatch(r"test_\w+\.py", span)}
    known = {Path(name).name for name in tracked() if name.startswith("tests/")}
    assert not names - known, f"{_rel(page)} names test modules that do not exist: {', '.join(sorted(names - known))}"


def test_every_docs_page_is_linked_from_the_readme_or_another_page() -> None:
    linked = set()
    for page in PAGES:
        for target in links(page):
            path = target.partition("#")[0]
            if path and not re.match(r"[a-z][a-z0-9+.-]*:", path):
                linked.add((page.parent / path).resolve())
    orphans = [_rel(page) for page in PAGES[1:] if page.resolve() not in linked]
    assert not orphans, f"docs pages nobody links to: {', '.join(orphans)}"


# The checker itself, on cases whose answer is known independently of the pages above.
@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        # anchors as GitHub renders them for these headings (checked against github.com's rendering rules:
        # lowercase, punctuation other than - and _ dropped, each space one hyphen)
        ("RStudio on SageMaker (`rstudio_mode=sagemaker`)", "rstudio-on-sagemaker-rstudio_modesagemaker"),
        (
            "3. Job configuration (`/<platform_name>/job-config` SSM String parameter)",
            "3-job-configuration-platform_namejob-config-ssm-string-parameter",
        ),
        ("Context keys (`cdk synth` / `cdk deploy`)", "context-keys-cdk-synth--cdk-deploy"),
        ("2026-12-01, quiet machine (load average 0.3–1.0)", "2026-12-01-quiet-machine-load-average-0310"),
    ],
)
def test_slug_follows_github(heading: str, anchor: str) -> None:
    assert slug(heading) == anchor


def test_path_mentions_skip_commands_and_placeholders(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "`python -m simulation run` `jobs/<job>/output/` `simulation.engine` `/opt/ml/processing` "
        "`stacks/settings.py` `scripts/*.sh` `R/{simjobs,examples}/` `Makefile` `out/local-job/`\n"
        "```bash\nls stacks/not-checked-in-code-blocks.py\n```\n"
    )
    assert mentioned_paths(page) == [
        "stacks/settings.py",
        "scripts/*.sh",
        "R/simjobs/",
        "R/examples/",
        "Makefile",
    ]


def test_make_help_lists_every_target() -> None:
    makefile = (ROOT / "Makefile").read_text()
    declared = re.search(r"^\.PHONY:(.*)$", makefile, re.M)
    assert declared, "Makefile declares its targets in .PHONY"
    phony = set(declared.group(1).split())
    shown = subprocess.run(
        ["make", "--no-print-directory", "help"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    listed = {m.group(1) for m in re.finditer(r"^\s*make (\S+)\s+\S", shown.stdout, re.M)}
    assert phony <= listed, (
        f"make help lacks: {', '.join(sorted(phony - listed))} (add '## what it does' to the target)"
    )
