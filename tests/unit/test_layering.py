"""The dependency direction of DESIGN.md, checked on every import statement.

``signaling`` and ``streaming`` never import each other (they meet through ports wired
in ``web``), and nothing below ``web`` imports it. Imports inside functions and under
``TYPE_CHECKING`` count too: a cycle hidden there is still a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("config", "signaling", "streaming", "web")

# importer -> packages it must not import
FORBIDDEN: dict[str, frozenset[str]] = {
    "config": frozenset({"signaling", "streaming", "web"}),  # everyone may import config
    "signaling": frozenset({"streaming", "web"}),
    "streaming": frozenset({"signaling", "web"}),
}


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(tree: ast.AST, module: str, is_package: bool) -> list[tuple[int, str]]:
    """Every module an ``import`` or ``from ... import`` anywhere in ``tree`` names."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                found.append((node.lineno, node.module or ""))
                continue
            # Relative: ``from ..x import y`` counts from the importing module's package.
            package = module.split(".") if is_package else module.split(".")[:-1]
            base = package[: len(package) - (node.level - 1)]
            if node.module:
                found.append((node.lineno, ".".join([*base, node.module])))
            else:  # ``from .. import x``: each name is a module of that package
                found.extend((node.lineno, ".".join([*base, a.name])) for a in node.names)
    return sorted(found)


def layering_violations(root: Path) -> list[str]:
    """One line per forbidden import: ``file:line: importer imports target``."""
    violations: list[str] = []
    for package, forbidden in FORBIDDEN.items():
        for path in sorted((root / package).rglob("*.py")):
            module = module_name(root, path)
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for line, target in imported_modules(tree, module, path.name == "__init__.py"):
                if target.split(".")[0] in forbidden:
                    where = path.relative_to(root)
                    violations.append(f"{where}:{line}: {module} imports {target}")
    return violations


def test_planes_keep_the_dependency_direction() -> None:
    violations = layering_violations(ROOT)
    assert not violations, "imports against DESIGN.md's direction:\n" + "\n".join(violations)


def test_the_check_sees_every_kind_of_import(tmp_path: Path) -> None:
    for package in PACKAGES:
        (tmp_path / package / "sub").mkdir(parents=True)
        (tmp_path / package / "__init__.py").write_text("")
        (tmp_path / package / "sub" / "__init__.py").write_text("")
    (tmp_path / "signaling" / "sub" / "late.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from streaming.hub import MediaHub\n"
        "def later():\n"
        "    import web.keys\n"
        "from ... import streaming\n"
        "from config import Event\n"
    )
    (tmp_path / "streaming" / "fine.py").write_text("from streaming import errors\nimport config\n")
    (tmp_path / "streaming" / "bad.py").write_text("import signaling.errors as errors\n")
    (tmp_path / "config" / "bad.py").write_text("from web.app import create_app\n")
    (tmp_path / "web" / "anything.py").write_text("import signaling, streaming, config\n")

    assert layering_violations(tmp_path) == [
        "config/bad.py:1: config.bad imports web.app",
        "signaling/sub/late.py:3: signaling.sub.late imports streaming.hub",
        "signaling/sub/late.py:5: signaling.sub.late imports web.keys",
        "signaling/sub/late.py:6: signaling.sub.late imports streaming",
        "streaming/bad.py:1: streaming.bad imports signaling.errors",
    ]


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the modules of our packages it imports (``from a import b`` with ``a.b``
    a module counts as importing ``a.b``)."""
    files = {
        module_name(root, path): path
        for package in PACKAGES
        for path in sorted((root / package).rglob("*.py"))
    }
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets = {t for _, t in imported_modules(tree, module, path.name == "__init__.py")}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                targets.update(f"{node.module}.{alias.name}" for alias in node.names)
        graph[module] = {t for t in targets if t in files and t != module}
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every group of modules that import each other in a circle (Tarjan's SCC)."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        order[module] = low[module] = len(order)
        stack.append(module)
        for target in sorted(graph[module]):
            if target not in order:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], order[target])
        if low[module] == order[module]:
            group: list[str] = []
            while not group or group[-1] != module:
                group.append(stack.pop())
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in sorted(graph):
        if module not in order:
            visit(module)
    return cycles


def test_no_modules_import_each_other_in_a_circle() -> None:
    cycles = import_cycles(import_graph(ROOT))
    assert not cycles, "import circles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_the_cycle_check_finds_a_circle(tmp_path: Path) -> None:
    for package in PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "signaling" / "hub.py").write_text("from signaling import commands\n")
    (tmp_path / "signaling" / "commands.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from signaling.hub import Hub\n"
    )
    (tmp_path / "streaming" / "stats.py").write_text("import config\n")
    assert import_cycles(import_graph(tmp_path)) == [["signaling.commands", "signaling.hub"]]
