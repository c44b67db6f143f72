"""docker/compose*.yaml read the way ``docker compose`` reads it, for running without docker.

Compose parses the YAML, then substitutes ``${VAR}`` in every string value: ``${VAR:?msg}``
stops with ``msg`` when VAR is unset or empty, ``${VAR:-default}`` and ``${VAR:+alt}``
take the other branch, operands may nest, and ``$$`` is a literal dollar; YAML anchors and
``<<`` merges are YAML's own, and ``extends`` takes a service from another file. The stack test
takes the services' commands and environments from the result, so what it runs is what
the file says, with only the adjustments a test on one machine needs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker" / "compose.yaml"
REGIONS_FILE = ROOT / "docker" / "compose.regions.yaml"
CADDYFILE = ROOT / "docker" / "Caddyfile"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class MissingVariable(ValueError):
    """A ``${VAR:?message}`` whose VAR has no value: compose refuses to start."""


def _closing(text: str, start: int) -> int:
    """The index of the ``}`` that closes a ``${`` whose body starts at ``start``."""
    depth, i = 1, start
    while i < len(text):
        if text.startswith("${", i):
            depth, i = depth + 1, i + 2
            continue
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError(f"unclosed ${{ in {text!r}")


def _expand(body: str, env: Mapping[str, str]) -> str:
    match = _NAME.match(body)
    if match is None:
        raise ValueError(f"bad variable reference ${{{body}}}")
    name, rest = match.group(), body[match.end() :]
    value = env.get(name)
    for operator in (":?", "?", ":-", "-", ":+", "+"):
        if rest.startswith(operator):
            operand = rest[len(operator) :]
            break
    else:
        if rest:
            raise ValueError(f"bad variable reference ${{{body}}}")
        return value or ""
    missing = value is None or (operator.startswith(":") and value == "")
    if operator.endswith("?"):
        if missing:
            raise MissingVariable(
                f"required variable {name} is missing a value: {interpolate(operand, env)}"
            )
        return value or ""
    if operator.endswith("-"):
        return interpolate(operand, env) if missing else value or ""
    return "" if missing else interpolate(operand, env)


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """``text`` with compose's variable substitution applied."""
    out: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("$$", i):
            out.append("$")
            i += 2
        elif text.startswith("${", i):
            end = _closing(text, i + 2)
            out.append(_expand(text[i + 2 : end], env))
            i = end + 1
        elif text[i] == "$" and (match := _NAME.match(text, i + 1)) is not None:
            out.append(env.get(match.group(), ""))
            i = match.end()
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _substitute(node: Any, env: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [_substitute(item, env) for item in node]
    if isinstance(node, dict):
        return {key: _substitute(value, env) for key, value in node.items()}
    return node


@dataclass(frozen=True)
class Compose:
    """The compose file after substitution."""

    data: dict[str, Any]

    def service(self, name: str) -> dict[str, Any]:
        services: dict[str, dict[str, Any]] = self.data["services"]
        return services[name]

    def environment(self, name: str) -> dict[str, str]:
        """A service's environment (the mapping form our file uses)."""
        env: dict[str, object] = self.service(name).get("environment", {})
        return {key: str(value) for key, value in env.items()}

    def command(self, name: str) -> list[str]:
        command: list[str] = self.service(name)["command"]
        return [str(part) for part in command]

    def ports(self, name: str) -> list[str]:
        return [str(port) for port in self.service(name).get("ports", [])]


def _extended(service: dict[str, Any], folder: Path, env: Mapping[str, str]) -> dict[str, Any]:
    """``service`` with its ``extends`` (from another file) applied, the way our files use it.

    As compose does, the other file is substituted whole with the same variables (so its
    required ones are required here too), and a service that depends on another cannot
    be a base. Our extending services add keys; a key they repeat replaces the base's.
    """
    extends = service.get("extends")
    if extends is None:
        return service
    base_file = load_compose(env, folder / extends["file"])
    base = dict(base_file.service(extends["service"]))
    for key in ("depends_on", "links", "volumes_from"):
        if key in base:
            raise ValueError(f"{extends['file']}: {extends['service']} has {key}: not a base")
    local = {key: value for key, value in service.items() if key != "extends"}
    return {**base, **local}


def load_compose(env: Mapping[str, str], path: Path = COMPOSE_FILE) -> Compose:
    """Parse and substitute the compose file as ``docker compose config`` would."""
    data = _substitute(yaml.safe_load(path.read_text()), env)
    services: dict[str, dict[str, Any]] = data["services"]
    for name, service in services.items():
        services[name] = _extended(service, path.parent, env)
    return Compose(data)
