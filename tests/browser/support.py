"""Helpers for the browser tests: the axe-core check every page must pass."""

from __future__ import annotations

import json

from axe_playwright_python.base import AxeResults
from axe_playwright_python.sync_playwright import Axe

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}

_axe = Axe()


def install_axe(context) -> None:
    """Load axe-core into every document of a browser context as it starts.

    Cheaper than sending the script with each check; a page without it is still checked,
    through ``Axe.run``, which injects it first.
    """
    context.add_init_script(script=_axe.axe_script)


def _run(page) -> AxeResults:
    if page.evaluate("typeof window.axe === 'undefined'"):
        return _axe.run(page, options=AXE_OPTIONS)
    return AxeResults(page.evaluate(f"axe.run({json.dumps(AXE_OPTIONS)})"))


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
    """Run axe-core (WCAG 2.0–2.2 A and AA rules) on the page as it is now.

    Fails listing every violation: its rule, what it means, and the elements at fault.
    """
    page.wait_for_load_state("load")
    violations = _run(page).response["violations"]
    assert not violations, f"{page.url}\n{_describe(violations)}"
    documents = getattr(page, "axe_documents", None)
    if documents is not None:  # a page from the browser_page fixture: note this document
        page.axe_checked.add(len(documents))
