"""checkov (pinned, from .venv-checkov) over the synthesized templates and the images' Dockerfiles, held to
checkov-skips.txt: `python scripts/checkov_gate.py CDK_OUT [CDK_OUT ...]` (one cloud assembly per workspace mode:
the list holds every mode's accepted findings, so a skip must match a finding in at least one of them). Exit 1,
with one line per problem, on a finding the list does not name or on a listed skip that matches nothing any more."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
SKIPS = ROOT / "checkov-skips.txt"
DOCKERFILE = "container/Dockerfile"
# The job image and the sagemaker mode's RSession image (scanned whatever the modes given).
DOCKERFILES = (DOCKERFILE, "stacks/studio/image/Dockerfile")


def skips(path: Path = SKIPS) -> dict[tuple[str, str], str]:
    """(check id, resource) -> reason, from the checked-in list; a line without a reason is an error."""
    found = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split(maxsplit=2)
        if len(parts) < 3 or len(parts[2]) < 20:
            raise ValueError(f"{path.name}:{number}: want CHECK_ID RESOURCE reason, got {line!r}")
        found[(parts[0], parts[1])] = parts[2]
    return found


def _scan(args: list[str]) -> list[dict[str, object]]:
    command = [str(CHECKOV), *args, "--skip-download", "--quiet", "--compact", "--output", "json"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=600)
    if result.returncode not in (0, 1) or not result.stdout.strip():
        raise RuntimeError(f"checkov {' '.join(args)} exited {result.returncode}: {result.stderr.strip()[-300:]}")
    reports = json.loads(result.stdout)
    return reports if isinstance(reports, list) else [reports]


def findings(*cdk_outs: Path) -> set[tuple[str, str]]:
    """(check id, resource) of every failed check in any of the assemblies: CloudFormation resources as
    TYPE.LogicalId, the Dockerfile by its path in the repository."""
    runs = [["--directory", str(cdk_out), "--framework", "cloudformation"] for cdk_out in cdk_outs]
    runs += [["--file", dockerfile, "--framework", "dockerfile"] for dockerfile in DOCKERFILES]
    with ThreadPoolExecutor(max_workers=2) as pool:  # two at a time: checkov is CPU-bound
        batches = list(pool.map(_scan, runs))
    failed = set()
    for run, batch in zip(runs, batches, strict=True):
        for report in batch:
            results = report.get("results", {})
            assert isinstance(results, dict)
            for check in results.get("failed_checks", []):
                resource = run[1] if report.get("check_type") == "dockerfile" else str(check["resource"])
                failed.add((str(check["check_id"]), resource))
    return failed


def problems(found: set[tuple[str, str]], allowed: dict[tuple[str, str], str]) -> list[str]:
    lines = [
        f"checkov {check} on {resource}: fix it or add it to checkov-skips.txt with a reason"
        for check, resource in sorted(found - set(allowed))
    ]
    lines += [
        f"checkov-skips.txt: {check} {resource} matches no finding any more; remove the line"
        for check, resource in sorted(set(allowed) - found)
    ]
    return lines


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python scripts/checkov_gate.py CDK_OUT [CDK_OUT ...]", file=sys.stderr)
        return 2
    lines = problems(findings(*map(Path, argv)), skips())
    for line in lines:
        print(f"error: {line}", file=sys.stderr)
    if not lines:
        print(f"checkov: no findings beyond the {len(skips())} listed in checkov-skips.txt")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
