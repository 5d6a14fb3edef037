"""Values from the shell or from R, checked once: whole numbers, finite numbers, names, R script arguments.

R's numbers are doubles, so every front door (CLI, Python, R through reticulate) hands its values to these
functions, which accept 2.0 where a whole number is meant and name the argument when a value is wrong.
"""

from __future__ import annotations

import math
import re
from typing import Any

from simulation.errors import SimulationError

EXACT_FLOAT_INTEGER = 2**53  # R's doubles hold every integer up to here, and no longer every one above it
# Every 1000 iterations become one block file in the output prefix: beyond 10^9 iterations a job would
# write over a million files (and its hosts would list millions of blocks) before doing useful work.
MAX_ITERATIONS = 10**9
MAX_NAME = 63  # SageMaker's limit for a processing job name
_NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$")
_TAG_UNSAFE = re.compile(r"[^\w .:/=+\-@]")  # what a SageMaker tag value may not hold


def as_int(value: Any, what: str, minimum: int | None = None, maximum: int | None = None) -> int:
    """Integers from the shell or from R: R's numbers are doubles, so 2.0 means 2 but 2.5 is an error.

    Digits are taken exactly ("12345678901234567891" stays that seed); a float is accepted only while it
    is an exact integer (up to 2^53), so a large seed never silently becomes a neighbouring one.
    """
    if isinstance(value, bool):
        raise SimulationError(f"{what} must be a whole number, got {value!r}")
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            pass
    if not isinstance(value, int):
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise SimulationError(f"{what} must be a whole number, got {value!r}") from None
        if not number.is_integer():
            raise SimulationError(f"{what} must be a whole number, got {value!r}")
        if abs(number) > EXACT_FLOAT_INTEGER:
            raise SimulationError(f"{what} {value!r} is too large to be exact as a number; give it as digits")
        value = int(number)
    result = int(value)
    if minimum is not None and result < minimum:
        raise SimulationError(f"{what} must be at least {minimum}, got {result}")
    if maximum is not None and result > maximum:
        raise SimulationError(f"{what} must be at most {maximum}, got {result}")
    return result


def as_float(value: Any, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SimulationError(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise SimulationError(f"{what} must be a finite number, got {value!r}")
    return number


def format_number(value: float) -> str:
    """1000.0 -> "1000" so integer arguments survive a trip through R's doubles; other floats exactly."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def r_argument(value: Any) -> str:
    """An R script argument as R would print it: 1e5 -> "100000", TRUE -> "TRUE"."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return format_number(value) if isinstance(value, float) else str(value)


def check_name_part(part: str, what: str = "job name") -> str:
    if not part or len(part) > MAX_NAME or not _NAME_RE.match(part):
        raise SimulationError(
            f"invalid {what} {part!r}: use 1-{MAX_NAME} letters, digits and hyphens, "
            "starting and ending with a letter or digit"
        )
    return part


def tag_value(text: str) -> str:
    """A user name as a tag value: SageMaker refuses characters such as `\\` or `#` (DOMAIN\\alice)."""
    return _TAG_UNSAFE.sub("-", text)[:256] or "unknown"


R_INTEGER_MAX = 2**31 - 1  # R's integers are 32-bit


def for_r(value: Any) -> Any:
    """A result on its way to R: integers beyond R's 32-bit integers (a fresh seed has 128 bits) become their
    digits, which every function here accepts back exactly. reticulate would wrap them around silently
    (2**40 arrives as 0)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and not -R_INTEGER_MAX <= value <= R_INTEGER_MAX:
        return str(value)
    if isinstance(value, dict):
        return {key: for_r(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [for_r(item) for item in value]
    return value
