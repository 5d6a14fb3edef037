"""A request checked against the service's own API model before it leaves this machine.

botocore's client-side validation checks required members, types and minimums only, and moto accepts
almost anything, so a request that SageMaker would reject (an R argument over 256 characters, more than
100 arguments, a tag value with a comma, a runtime over 9 days) would pass every local test. This walks
botocore's shape of the operation and applies every `min`, `max` and `pattern` the model declares (and,
on request, its enums), naming the first member that breaks one.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import botocore.session

from simulation.errors import SimulationError

# Python's `re` has no \p{...}; inside a character class `\w` is exactly letters + numbers + "_" and the
# separators are listed, which is what the models' tag patterns (`[\p{L}\p{Z}\p{N}_.:/=+\-@]*`) mean.
_UNICODE_CLASSES = {
    r"\p{L}": r"\w",
    r"\p{N}": r"\w",
    r"\p{Z}": r" \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000",
}


@lru_cache(maxsize=4)
def _model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


@lru_cache(maxsize=256)
def _pattern(pattern: str) -> re.Pattern[str]:
    for unicode_class, python_class in _UNICODE_CLASSES.items():
        pattern = pattern.replace(unicode_class, python_class)
    return re.compile(pattern)


def check_request(service: str, operation: str, params: dict[str, Any], *, enums: bool = False) -> None:
    """Raises SimulationError naming the first member that breaks the model's constraints.

    Enums are optional: an installed botocore older than the account's SageMaker would refuse a new
    instance type that the service itself accepts; the platform's allow-list already guards the type.
    """
    shape = _model(service).operation_model(operation).input_shape
    problem = _check(params, shape, operation, enums)
    if problem:
        raise SimulationError(f"SageMaker would refuse this job: {problem}")


def _check(value: Any, shape: Any, where: str, enums: bool) -> str | None:
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        if not isinstance(value, dict):
            return f"{where} must be an object"
        for name in meta.get("required", []):
            if name not in value:
                return f"{where}.{name} is required"
        for name, member in value.items():
            if name not in shape.members:
                return f"{where}.{name} is not a member of {shape.name}"
            problem = _check(member, shape.members[name], f"{where}.{name}", enums)
            if problem:
                return problem
        return None
    if kind == "list":
        if not isinstance(value, (list, tuple)):
            return f"{where} must be a list"
        return _size(len(value), meta, where, "items") or _first(
            _check(item, shape.member, f"{where}[{i}]", enums) for i, item in enumerate(value)
        )
    if kind == "map":
        if not isinstance(value, dict):
            return f"{where} must be an object"
        return _size(len(value), meta, where, "entries") or _first(
            _check(k, shape.key, f"{where} key", enums) or _check(v, shape.value, f"{where}[{k!r}]", enums)
            for k, v in value.items()
        )
    if kind == "string":
        if not isinstance(value, str):
            return f"{where} must be a string, got {value!r}"
        size = _size(len(value), meta, where, "characters")
        if size:
            return size
        if "pattern" in meta and not _pattern(meta["pattern"]).fullmatch(value):
            return f"{where} {_short(value)} does not match the pattern {meta['pattern']}"
        if enums and shape.enum and value not in shape.enum:
            return f"{where} {_short(value)} is not one of the values the API knows"
        return None
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{where} must be an integer, got {value!r}"
        if "min" in meta and value < meta["min"]:
            return f"{where} is {value}; the minimum is {meta['min']}"
        if "max" in meta and value > meta["max"]:
            return f"{where} is {value}; the maximum is {meta['max']}"
        return None
    if kind == "boolean" and not isinstance(value, bool):
        return f"{where} must be true or false, got {value!r}"
    return None


def _size(size: int, meta: dict[str, Any], where: str, unit: str) -> str | None:
    if "min" in meta and size < meta["min"]:
        return f"{where} has {size} {unit}; at least {meta['min']} needed"
    if "max" in meta and size > meta["max"]:
        return f"{where} has {size} {unit}; at most {meta['max']} allowed"
    return None


def _first(problems: Any) -> str | None:
    return next((p for p in problems if p), None)


def _short(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:37] + "...")
