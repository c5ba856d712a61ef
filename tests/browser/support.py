"""Helpers for the browser tests: the axe-core check every page must pass."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

_axe = Axe()


def _describe(violations: list[dict]) -> str:
    lines = [f"{len(violations)} accessibility violation(s):"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation.get('impact')}): {violation['help']}")
        lines.append(f"  {violation.get('helpUrl', '')}")
        for node in violation["nodes"]:
            target = ", ".join(str(t) for t in node["target"])
            lines.append(f"    at {target}")
            lines.append(f"       {node.get('html', '').strip()[:300]}")
            summary = node.get("failureSummary")
            if summary:
                lines.extend("       " + line for line in summary.splitlines())
    return "\n".join(lines)


def assert_accessible(page) -> None:
    """Run axe-core on the page as it is now; fail with every violation if any."""
    page.wait_for_load_state("load")
    results = _axe.run(
        page,
        options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]},
    )
    violations = results.response["violations"]
    url = page.url
    assert not violations, f"{url}\n{_describe(violations)}"
    checked = getattr(page, "axe_checked", None)
    if checked is not None:
        checked.add(url.split("#", 1)[0])
