"""axe-core in chromium: the serious and critical violations of the page shown, readable.

axe-core is a devDependency of the widget (`make widget`'s `npm ci` installs it); Playwright
injects it as an init script (`page.add_init_script(path=str(AXE))`), which no page's CSP blocks.
"""

from pathlib import Path

from playwright.sync_api import Page

AXE = Path(__file__).resolve().parents[2] / "frontend-widget/node_modules/axe-core/axe.min.js"

RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({id: v.id, impact: v.impact, help: v.help, url: v.helpUrl,
                  nodes: v.nodes.map((n) => n.target.join(" ") + ": " + n.failureSummary)}));
}"""


def serious_violations(page: Page) -> list[dict]:
    """axe's serious and critical violations of what `page` shows now (axe injected before)."""
    return page.evaluate(RUN_AXE)


def readable(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['impact']}: {violation['id']}: {violation['help']}")
        lines.append(f"  {violation['url']}")
        lines.extend(f"    {node}" for node in violation["nodes"])
    return "\n".join(lines)
