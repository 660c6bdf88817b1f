"""Policy documentation rendered from the policy files themselves."""

from __future__ import annotations

from validator.engine.policy import Policy


def policy_markdown(policy: Policy, heading: str = "#") -> str:
    lines = [
        f"{heading} {policy.id}: {policy.title}",
        "",
        f"- **Severity:** {policy.severity.label}",
        f"- **Category:** {policy.category}",
        f"- **Applies to:** {', '.join(policy.targets.kinds)}",
    ]
    for name, controls in policy.standards.items():
        lines.append(f"- **{name}:** {', '.join(controls)}")
    lines += ["", policy.description.strip(), "", f"{heading}# Remediation", "", policy.remediation.strip()]
    if policy.parameters:
        lines += ["", f"{heading}# Parameters", "", "| name | type | default | description |", "|---|---|---|---|"]
        for p in policy.parameters:
            cells = (f"`{p.name}`", p.type, f"`{p.default!r}`", p.description)
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    """Make text safe inside a Markdown table cell."""
    return " ".join(text.replace("|", "\\|").split())
