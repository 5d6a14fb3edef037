"""Context values as CDK hands them over (`-c key=value` always a string; cdk.json JSON values) turned into the type
of the settings field they fill, or one line naming the key. The rules on the values live in stacks/settings.py."""

from __future__ import annotations

import json
import re
from typing import Any


class SettingsError(ValueError):
    """A context key holds a value the platform cannot use."""


def coerce(key: str, raw: Any, default: Any) -> Any:
    """Turn a context value into the field's type. `-c` values always arrive as strings."""

    def fail(allowed: str) -> SettingsError:
        return SettingsError(f"context key '{key}': got '{raw}'; allowed: {allowed}")

    if isinstance(default, bool):
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
            return raw.strip().lower() == "true"
        raise fail("true or false")
    if isinstance(default, int):
        if isinstance(raw, bool):
            raise fail("an integer")
        if isinstance(raw, int):
            return raw
        if isinstance(raw, float) and raw.is_integer():
            return int(raw)
        if isinstance(raw, str) and re.fullmatch(r"\s*-?\d+\s*", raw):
            return int(raw)
        raise fail("an integer")
    if isinstance(default, float):
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            return float(raw)
        try:
            return float(raw)
        except (TypeError, ValueError):
            raise fail("a number") from None
    if isinstance(default, tuple):
        items: Any = raw
        if key == "tags" and isinstance(raw, dict):  # cdk.json may hold the tags as a JSON object
            raw = items = [f"{name}={value}" for name, value in raw.items()]
        if isinstance(raw, str):
            text = raw.strip()
            if text.startswith("["):
                try:
                    items = json.loads(text)
                except json.JSONDecodeError:
                    raise fail("a JSON list or a comma-separated list") from None
            else:
                items = [part.strip() for part in text.split(",") if part.strip()]
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            raise fail("a list of strings (JSON list or comma-separated)")
        return tuple(items)
    if not isinstance(raw, str):
        raise fail("a string")
    return raw.strip()
