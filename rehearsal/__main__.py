"""`python -m rehearsal [MODE ...]` (make rehearse): rehearse each mode, print a table, exit 1 on a failure."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from rehearsal.leftovers import classify
from rehearsal.run import MODES, Report, rehearse_all


def table(reports: list[Report]) -> str:
    rows = [("mode", "step", "result", "seconds")]
    for report in reports:
        for step in report.steps:
            detail = step.detail if len(step.detail) <= 90 else step.detail[:87] + "..."
            rows.append((report.mode, step.name, ("ok: " if step.ok else "FAILED: ") + detail, f"{step.seconds:.1f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    for report in reports:
        lines.append(f"\nleft in the emulator after destroy ({report.mode}):")
        for title, kinds in classify(report.left).items():
            lines.append(f"  {title}:")
            lines += [
                f"    {kind}: {len(ids)} ({', '.join(ids[:4])}{', ...' if len(ids) > 4 else ''})"
                for kind, ids in kinds.items()
            ]
        if not report.left:
            lines.append("  nothing")
    lines.append("\n" + verdict(reports))
    return "\n".join(lines)


def verdict(reports: list[Report]) -> str:
    """The last line: PASSED when every step of every mode passed (destroy included: only what is kept by design
    or what the emulator cannot delete may be left), else the first failed step of each failing mode."""
    failed = [
        f"{r.mode} {step.name}: {step.detail if len(step.detail) <= 200 else step.detail[:197] + '...'}"
        for r in reports
        for step in r.steps
        if not step.ok
    ]
    modes = ", ".join(r.mode for r in reports)
    if not failed:
        return f"rehearsal PASSED: {modes}, every step ok"
    return f"rehearsal FAILED: {'; '.join(failed)}"


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rehearsal", description=__doc__)
    parser.add_argument("modes", nargs="*", help=f"rstudio modes to rehearse (default: {' '.join(MODES)})")
    parser.add_argument("--workdir", help="keep logs and cloud assemblies here (default: a temporary folder)")
    args = parser.parse_args(argv)
    modes = args.modes or list(MODES)
    unknown = [mode for mode in modes if mode not in MODES]
    if unknown:
        parser.error(f"unknown mode {unknown[0]!r}; known: {', '.join(MODES)}")
    root = Path(args.workdir or tempfile.mkdtemp(prefix="rehearsal-"))
    reports = rehearse_all(modes, root, say=_say)
    passed = all(r.ok for r in reports)
    print(table(reports))
    if args.workdir is None and passed:
        shutil.rmtree(root, ignore_errors=True)
    elif not passed:  # the failures above name logs and reports in it: keep them to be read
        print(f"logs, cloud assemblies and cdk-nag's validation reports are kept in {root}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
