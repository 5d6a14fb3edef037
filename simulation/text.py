"""Text on its way to a person's terminal: progress and hints on stderr (`say`), and data from files and the
network with its control characters shown, never obeyed (`printable`).

A job's output (host names, image tags, an R script's result file) is data anyone who can write to the bucket
controls; an escape sequence in it must not recolour, retitle or rewrite the user's terminal.

A hint names the next step in the caller's own terms (`hint`): an R function while the simjobs R package is
calling (it sets SIMLAB_CALLER=r in Python's environment for the duration of each call, R/simjobs/R/python.R),
else the shell command. Processes started during such a call (emulated hosts, a background local map job whose
messages R reads back) inherit it.
"""

from __future__ import annotations

import os
import sys
import unicodedata
from typing import TextIO

CALLER_ENV = "SIMLAB_CALLER"
R_CALLER = "r"


def say(message: str, stream: TextIO | None = None) -> None:
    """Progress and hints for people: stderr, so `--json` output on stdout stays one document."""
    print(message, file=stream or sys.stderr, flush=True)


def printable(text: str) -> str:
    """`text` with every control or format character (C0, DEL, C1, bidi overrides...) except newline and tab
    replaced by its escape, e.g. ESC -> \\x1b."""
    return "".join(
        ch if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf") else ch.encode("unicode_escape").decode()
        for ch in text
    )


def from_r() -> bool:
    """Whether the simjobs R package is the caller (SIMLAB_CALLER=r, set by it for each call)."""
    return os.environ.get(CALLER_ENV) == R_CALLER


def hint(shell: str, r: str) -> str:
    """The caller's own way to do something: `r` (an R call) while R calls, else `shell` (a command)."""
    return r if from_r() else shell


def exact(value: float) -> str:
    """1000.0 -> '1000', 6.5 -> '6.5': the shortest text that reads back as the same float (a command to repeat
    a run must give the very same parameters)."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def r_string(value: object) -> str:
    """`value` as an R string literal, quoted and escaped: job names, folders and image URIs in R hints."""
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
