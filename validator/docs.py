"""Policy documentation rendered from the policy files themselves."""

from __future__ import annotations

import re
from typing import Iterable

from validator.engine.policy import Policy

INFORMATION_URI = "https://github.com/trusted-delivery/tdv"
POLICY_DOCS_URI = f"{INFORMATION_URI}/blob/main/docs/policies.md"

CATALOGUE_COMMAND = "tdv policies docs --output docs/policies.md"


def policy_markdown(policy: Policy, heading: str = "#") -> str:
    lines = [
        f"{heading} {policy.id}: {policy.title}",
        "",
        f"- **Severity:** {policy.severity.label}",
        f"- **Category:** {policy.category}",
        f"- **Applies to:** {', '.join(policy.targets.kinds)}",
    ]
    if policy.relations:
        lines.append(f"- **Reads other objects of the scan:** {', '.join(policy.relations)} (cross-resource)")
    if not policy.enabled:
        lines.append("- **Off by default:** runs only when `policies.include` or `--policy` names its id")
    for name, controls in policy.standards.items():
        lines.append(f"- **{name}:** {', '.join(controls)}")
    for name, controls in policy.partial.items():
        lines.append(f"- **{name} (in part):** {', '.join(controls)}")
    lines += ["", policy.description.strip(), "", f"{heading}# Remediation", "", policy.remediation.strip()]
    if policy.parameters:
        lines += ["", f"{heading}# Parameters", "", "| name | type | default | description |", "|---|---|---|---|"]
        for p in policy.parameters:
            cells = (f"`{p.name}`", p.type, f"`{p.default!r}`", p.description)
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def anchor(policy: Policy) -> str:
    """The stable link target of a policy's section: its lower-case id."""
    return policy.id.lower()


def catalogue_markdown(policies: Iterable[Policy]) -> str:
    """The policy catalogue: a table of every policy, then one section per policy."""
    ordered = sorted(policies, key=lambda p: p.id)
    lines = [
        "# Policy catalogue",
        "",
        f"<!-- Generated from the policy files by `{CATALOGUE_COMMAND}`. Do not edit by hand. -->",
        "",
        f"{len(ordered)} policies. Each section below is also printed by `tdv policies show ID`.",
        "",
        "| ID | Title | Severity | Category | Standards |",
        "|---|---|---|---|---|",
    ]
    for p in ordered:
        cells = (f"[{p.id}](#{anchor(p)})", _cell(p.title), p.severity.label, p.category,
                 _cell(", ".join(p.standards)))
        lines.append("| " + " | ".join(cells) + " |")
    for p in ordered:
        lines += ["", f'<a id="{anchor(p)}"></a>', "", policy_markdown(p, heading="##").rstrip("\n")]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    """Make text safe inside a Markdown table cell."""
    return " ".join(text.replace("|", "\\|").split())


def docs_anchor(policy: Policy) -> str:
    """GitHub's anchor for the `ID: title` heading written for a policy."""
    heading = f"{policy.id}: {policy.title}".strip().lower()
    return re.sub(r"[^\w\- ]", "", heading).replace(" ", "-")


def policy_url(policy: Policy) -> str:
    """The policy's own help link, else its entry in the policy reference."""
    return policy.help_uri or f"{POLICY_DOCS_URI}#{docs_anchor(policy)}"
