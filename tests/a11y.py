"""axe-core in a Playwright page: WCAG 2.0 to 2.2, levels A and AA (tests/vendor/axe-core, MPL-2.0)."""

from __future__ import annotations

from pathlib import Path

AXE_VERSION = "4.14.1"
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


# The page a user reads: no script run going on, and none of the last run's elements left stale (Streamlit
# fades those while a run goes on, and axe would rightly find their faded text too light).
SETTLED = """() => { const app = document.querySelector("[data-testid='stApp']");
    return (!app || app.dataset.testScriptState === 'notRunning') && !document.querySelector("[data-stale='true']"); }"""


def audit(page) -> list[dict]:
    """axe's violations on the page as it stands, once settled: one dict per rule, with the nodes that break it."""
    page.wait_for_function(SETTLED, timeout=180_000)
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html.slice(0, 300),
                                          summary: (n.failureSummary || '').slice(0, 400)}))}));
        }""",
        TAGS,
    )


def describe(violations: list[dict], limit: int = 3) -> str:
    """One line per rule and a few of its nodes: the message a failing test prints."""
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({len(v['nodes'])} nodes): {v['help']}")
        for n in v["nodes"][:limit]:
            lines.append(f"    {n['target']}: {n['html'][:160]}")
            if n["summary"]:
                lines.append(f"        {n['summary'][:300]}")
    return "\n".join(lines)


WIDTHS = (1400, 390)  # desktop and phone


def audit_widths(page, label: str, widths=WIDTHS, settle_ms: int = 800) -> dict[str, list[dict]]:
    """axe on the page as it stands, at each width in turn (the same session and state: only the window
    is resized, as a user turning a tablet would); {"label@width": violations} for the widths with any."""
    size = page.viewport_size or {"width": 1400, "height": 1000}
    found = {}
    try:
        for width in widths:
            if width != (page.viewport_size or {}).get("width"):
                page.set_viewport_size({"width": width, "height": size["height"]})
                page.wait_for_timeout(settle_ms)  # Streamlit and plotly re-lay out
            violations = audit(page)
            if violations:
                found[f"{label}@{width}"] = violations
    finally:
        page.set_viewport_size(size)
    return found


def report(found: dict[str, list[dict]]) -> str:
    return "\n".join(f"== {where}\n{describe(v)}" for where, v in found.items())


def assert_accessible(page, label: str) -> None:
    """No axe violation on the page as it stands, at 1400 and 390 px."""
    found = audit_widths(page, label)
    assert not found, "axe found WCAG 2.2 A/AA violations:\n" + report(found)
