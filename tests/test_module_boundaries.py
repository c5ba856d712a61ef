"""No module of the portal reaches into another's private names.

A name that starts with an underscore belongs to its module: another module that needs it
asks for a public name instead, so that a module can change its insides without breaking
its neighbours. This reads every module under ``portal/`` and fails on
``from portal.x import _y`` and on ``x._y`` where ``x`` is an imported portal module.
"""

from __future__ import annotations

import ast
from pathlib import Path

PORTAL = Path(__file__).resolve().parent.parent / "portal"


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PORTAL.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _portal_modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PORTAL.rglob("*.py"))}


def _absolute(node: ast.ImportFrom, own: str, is_package: bool) -> str:
    """The module an import reads from, with a relative import resolved against ``own``."""
    if not node.level:
        return node.module or ""
    base = own.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def crossings(source: str, own: str, modules: set[str], is_package: bool = False) -> list[str]:
    """Every place in ``source`` (the module ``own``) that uses another portal module's
    private name, as "line: what" (empty when there is none)."""
    tree = ast.parse(source)
    aliases: dict[str, str] = {}
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name not in modules:
                    continue
                if a.asname:
                    aliases[a.asname] = a.name
                else:  # ``import portal.x`` binds ``portal``
                    aliases[a.name.split(".")[0]] = a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            source_module = _absolute(node, own, is_package)
            if source_module not in modules or source_module == own:
                continue
            for a in node.names:
                submodule = f"{source_module}.{a.name}"
                if submodule in modules:
                    aliases[a.asname or a.name] = submodule
                elif _is_private(a.name):
                    found.append(f"{node.lineno}: from {source_module} import {a.name}")
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        # Resolve a chain such as ``portal.monitoring.measures._x`` or ``measures._x``.
        chain, value = [], node.value
        while isinstance(value, ast.Attribute):
            chain.append(value.attr)
            value = value.value
        if not isinstance(value, ast.Name) or value.id not in aliases:
            continue
        dotted = ".".join([aliases[value.id], *reversed(chain)])
        if dotted in modules and dotted != own and _is_private(node.attr):
            found.append(f"{node.lineno}: {dotted}.{node.attr}")
    return found


def test_the_check_finds_a_private_name_used_across_modules():
    modules = {"portal", "portal.a", "portal.b", "portal.pkg", "portal.pkg.c"}
    assert crossings("from portal.b import _hidden\n", "portal.a", modules) == [
        "1: from portal.b import _hidden"
    ]
    assert crossings("from portal import b\nb._hidden()\n", "portal.a", modules) == [
        "2: portal.b._hidden"
    ]
    assert crossings("from portal import b as other\nx = other._n\n", "portal.a", modules) == [
        "2: portal.b._n"
    ]
    assert crossings("import portal.b\nportal.b._f()\n", "portal.a", modules) == [
        "2: portal.b._f"
    ]
    assert crossings("from . import c\nc._f()\n", "portal.pkg.d", modules | {"portal.pkg.d"}) == [
        "2: portal.pkg.c._f"
    ]
    assert crossings("def f():\n    from portal.pkg import c\n    c._f()\n", "portal.a", modules)
    # What a module may do: use its own private names, others' public ones, and dunders.
    allowed = (
        "from portal.b import shown\n"
        "from portal import b\n"
        "b.shown()\n"
        "b.__name__\n"
        "def _mine():\n    pass\n"
        "_mine()\n"
        "row._sa_instance_state\n"
    )
    assert crossings(allowed, "portal.a", modules) == []


def test_no_portal_module_uses_another_modules_private_names():
    modules = _portal_modules()
    names = set(modules)
    problems = []
    for name, path in modules.items():
        for where in crossings(path.read_text(), name, names, path.name == "__init__.py"):
            problems.append(f"{path.relative_to(PORTAL.parent)}:{where}")
    assert problems == [], "private names used across modules:\n" + "\n".join(problems)
