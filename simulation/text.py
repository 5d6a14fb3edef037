"""Text on its way to a person's terminal: progress and hints on stderr (`say`), and data from files and the
network with its control characters shown, never obeyed (`printable`).

A job's output (host names, image tags, an R script's result file) is data anyone who can write to the bucket
controls; an escape sequence in it must not recolour, retitle or rewrite the user's terminal.
"""

from __future__ import annotations

import sys
import unicodedata
from typing import TextIO


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
