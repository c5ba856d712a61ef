"""Feature code contains no SQL text: queries go through the ORM, so tenancy applies."""

from __future__ import annotations

import ast
from pathlib import Path

PORTAL = Path(__file__).resolve().parent.parent / "portal"

# The one audited escape hatch: the tenancy module sets the transaction's tenant for
# row-level security and holds the migrations' policy helpers. database.py only sets
# SQLite's connection PRAGMAs (WAL, foreign keys) and reads no data.
ALLOWED = {PORTAL / "tenancy.py", PORTAL / "database.py"}

RAW_CALLS = {"text", "exec_driver_sql", "literal_column", "from_statement"}
# Constructs whose inner tables the scoping hooks do not walk: a table named only inside a
# loader criterion or a cached lambda would escape the tenant condition (row-level
# security would still hold on PostgreSQL, but SQLite has no second wall).
RAW_CALLS |= {"with_loader_criteria", "lambda_stmt"}


def raw_sql_uses(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in RAW_CALLS:
                found.append(f"{path.relative_to(PORTAL.parent)}:{node.lineno} {name}()")
            if name == "execute" and node.args and isinstance(node.args[0], ast.Constant):
                found.append(f"{path.relative_to(PORTAL.parent)}:{node.lineno} execute(<string>)")
        if isinstance(node, ast.ImportFrom) and node.module == "sqlalchemy":
            for alias in node.names:
                if alias.name in {"text", "literal_column"}:
                    found.append(
                        f"{path.relative_to(PORTAL.parent)}:{node.lineno} imports {alias.name}"
                    )
    return found


def test_feature_code_has_no_raw_sql():
    offenders = []
    for path in sorted(PORTAL.rglob("*.py")):
        if path not in ALLOWED:
            offenders += raw_sql_uses(path)
    assert offenders == [], "SQL text outside portal/tenancy.py:\n" + "\n".join(offenders)


def test_the_check_finds_raw_sql(tmp_path):
    sample = tmp_path / "portal" / "sample.py"
    sample.parent.mkdir()
    sample.write_text(
        "from sqlalchemy import text\n"
        "def f(session):\n"
        "    session.execute(text('SELECT * FROM commitment'))\n"
        "    session.connection().exec_driver_sql('DELETE FROM commitment')\n"
        "    session.execute('SELECT 1')\n"
        "    select(Tenant).options(with_loader_criteria(Tenant, lambda c: c.id > 0))\n"
    )
    global PORTAL
    saved, PORTAL = PORTAL, tmp_path / "portal"
    try:
        assert len(raw_sql_uses(sample)) == 5
    finally:
        PORTAL = saved
