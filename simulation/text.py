"""Text from files and the network on its way to a terminal: control characters shown, never obeyed.

A job's output (host names, image tags, an R script's result file) is data anyone who can write to the bucket
controls; an escape sequence in it must not recolour, retitle or rewrite the user's terminal.
"""

from __future__ import annotations

import unicodedata


def printable(text: str) -> str:
    """`text` with every control or format character (C0, DEL, C1, bidi overrides...) except newline and tab
    replaced by its escape, e.g. ESC -> \\x1b."""
    return "".join(
        ch if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf") else ch.encode("unicode_escape").decode()
        for ch in text
    )
