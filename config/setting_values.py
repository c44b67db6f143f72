"""Turning one raw setting (TOML value or environment string) into its typed value.

Each parser raises ``ValueError`` with a short reason; ``config.settings`` adds the key
and where the value came from.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


def parse_int(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError("expected a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise ValueError("expected a whole number")


def parse_float(value: object) -> float:
    if isinstance(value, bool):
        raise ValueError("expected a number")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            pass
    raise ValueError("expected a number")


def parse_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false")


def parse_optional_bool(value: object) -> bool | None:
    if isinstance(value, str) and not value.strip():
        return None
    return parse_bool(value)


def parse_str(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("expected a string")
    return value.strip()


def parse_optional_str(value: object) -> str | None:
    text = parse_str(value)
    return text or None


def parse_optional_int(value: object) -> int | None:
    if isinstance(value, str) and not value.strip():
        return None
    return parse_int(value)


def parse_path(value: object) -> Path:
    text = parse_str(value)
    if not text:
        raise ValueError("expected a path")
    return Path(text)


def parse_optional_path(value: object) -> Path | None:
    text = parse_str(value)
    return Path(text) if text else None


def parse_str_tuple(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        items: list[object] = list(value.split(","))
    elif isinstance(value, list):
        items = list(value)
    else:
        raise ValueError("expected a list of strings or a comma-separated string")
    result = []
    for item in items:
        if not isinstance(item, str):
            raise ValueError("expected a list of strings")
        if item.strip():
            result.append(item.strip())
    return tuple(result)


def parse_choice(choices: tuple[str, ...], *, upper: bool) -> Callable[[object], str]:
    def parse(value: object) -> str:
        text = parse_str(value)
        text = text.upper() if upper else text.lower()
        if text not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}")
        return text

    return parse
