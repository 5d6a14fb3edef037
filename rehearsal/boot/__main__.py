"""`python -m rehearsal.boot` (make rehearse-boot): the boot rehearsal, its steps as a table; exit 1 on a failure."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from rehearsal.boot.run import Report, rehearse_boot


def table(report: Report, total: float) -> str:
    rows = [("step", "result", "seconds")]
    for step in report.steps:
        detail = step.detail if len(step.detail) <= 110 else step.detail[:107] + "..."
        rows.append((step.name, ("ok: " if step.ok else "FAILED: ") + detail, f"{step.seconds:.1f}"))
    rows.append(("total", "", f"{total:.1f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rehearsal.boot", description=__doc__)
    parser.add_argument("--workdir", help="keep logs, user data and stand-ins here (default: a temporary folder)")
    args = parser.parse_args(argv)
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ec2-boot-") as temporary:
        report = rehearse_boot(
            Path(args.workdir or temporary), say=lambda line: print(line, file=sys.stderr, flush=True)
        )
        print(table(report, time.monotonic() - start))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
