"""Terraform entries and relations (see validator/inventory/__init__.py).

Which resource refers to which comes from validator.sources.terraform_refs (the plan's
configuration, or the expressions of the `.tf` files), and the relations are resolved by
validator.sources.terraform_relations, over all Terraform entries of the scan at once, the
first time a policy asks (`Inventory.index`).

Each relation starts from a target (a bucket, a security group, a VPC, an IAM principal or
policy) and gives the resources that refer to it, as items:

    {"ref": "aws_s3_bucket_versioning.data", "kind": "aws_s3_bucket_versioning",
     "name": "aws_s3_bucket_versioning.data", "inScan": true, "file": "s3.tf", "line": 9, "column": 1,
     "certain": true,              # false: it may refer to this target, or to another one
     ...facts of its kind (the known values of a few attributes, see FACTS),
     "unknownFacts": [...]}        # those of its FACTS whose value is not known (absent when none)

and, when the target may have related resources that the scan does not show (it leaves its
`.tf` module through an `output` or a `module` argument, or a file of its module could not
be read), one more item `{"ref": "(outside this module)", "inScan": false, "certain": false}`.

So `related.X.size() == 0` means "known to have none", and `related.X.exists(r, r.certain &&
...)` means "certainly has one that ...": a policy never reports a missing relation that may
exist, nor a relation that may not.
"""

from __future__ import annotations

import json
from typing import Any

from validator.inventory import Entry, Inventory, entry_id, extractor, relation
from validator.model import Resource
from validator.sources.terraform_refs import ResourceLinks
from validator.sources.terraform_relations import RELATIONS, Related, entry_attributes, entry_of, relate

_POLICY_DOCUMENTS = ("aws_iam_policy", "aws_iam_role_policy", "aws_iam_user_policy", "aws_iam_group_policy")
_RULE_FACTS = ("type", "from_port", "to_port", "protocol", "ip_protocol", "cidr_blocks", "ipv6_cidr_blocks",
               "cidr_ipv4", "cidr_ipv6", "self", "source_security_group_id", "referenced_security_group_id",
               "prefix_list_id", "prefix_list_ids")
_ATTACHMENT_FACTS = ("policy_arn", "policy_arns")
# The attributes each kind's items show (known values only), beside those relations read.
FACTS: dict[str, tuple[str, ...]] = {
    "aws_security_group_rule": _RULE_FACTS,
    "aws_vpc_security_group_ingress_rule": _RULE_FACTS,
    "aws_vpc_security_group_egress_rule": _RULE_FACTS,
    "aws_iam_role_policy_attachment": _ATTACHMENT_FACTS,
    "aws_iam_user_policy_attachment": _ATTACHMENT_FACTS,
    "aws_iam_group_policy_attachment": _ATTACHMENT_FACTS,
    "aws_iam_policy_attachment": _ATTACHMENT_FACTS,
    "aws_iam_role_policy_attachments_exclusive": _ATTACHMENT_FACTS,
    "aws_iam_user_policy_attachments_exclusive": _ATTACHMENT_FACTS,
    "aws_iam_group_policy_attachments_exclusive": _ATTACHMENT_FACTS,
    "aws_iam_policy": ("name", "arn"),
    "aws_iam_role_policy": ("name",),
    "aws_iam_user_policy": ("name",),
    "aws_iam_group_policy": ("name",),
    "aws_s3_bucket_public_access_block": ("block_public_acls", "block_public_policy", "ignore_public_acls",
                                          "restrict_public_buckets"),
    "aws_cloudtrail": ("name", "is_multi_region_trail", "enable_logging"),
    "aws_flow_log": ("traffic_type",),
    "azurerm_mssql_server_extended_auditing_policy": ("enabled", "retention_in_days", "log_monitoring_enabled"),
    "azurerm_mssql_server_transparent_data_encryption": ("key_vault_key_id", "managed_hsm_key_id"),
    "azurerm_postgresql_flexible_server_configuration": ("name", "value"),
    "azurerm_postgresql_configuration": ("name", "value"),
    "azurerm_mysql_flexible_server_configuration": ("name", "value"),
    "azurerm_mysql_configuration": ("name", "value"),
    "azurerm_storage_account_network_rules": ("default_action",),
    "azurerm_monitor_diagnostic_setting": ("target_resource_id",),
    "azurerm_mssql_server_security_alert_policy": ("state",),
    "azurerm_security_center_subscription_pricing": ("tier", "resource_type", "subplan"),
    "azurerm_mssql_server_vulnerability_assessment": ("storage_container_path",),
    "azurerm_virtual_machine_extension": ("publisher", "type"),
}
# Facts shown under another key: a database server parameter's `name` would hide the item's own.
_RENAMED: dict[str, dict[str, str]] = {kind: {"name": "parameter"} for kind in (
    "azurerm_postgresql_flexible_server_configuration", "azurerm_postgresql_configuration",
    "azurerm_mysql_flexible_server_configuration", "azurerm_mysql_configuration")}
_WANTED = entry_attributes()
OUTSIDE = {"ref": "(outside this module)", "kind": "", "name": "", "inScan": False, "certain": False}


@extractor
def terraform_entry(resource: Resource) -> Entry | None:
    if not isinstance(resource.tf_links, ResourceLinks) or resource.kind not in _WANTED:
        return None
    facts: dict[str, Any] = {"_tf": entry_of(resource)}
    document = resource.document if isinstance(resource.document, dict) else {}
    names = FACTS.get(resource.kind, ())
    unknown = {path[0] for path in resource.unknown_paths if path} if names and resource.unknown_paths else set()
    renamed = _RENAMED.get(resource.kind, {})
    for name in names:
        value = document.get(name)
        if name not in unknown and (isinstance(value, (str, bool, int, float)) or (
                isinstance(value, list) and all(isinstance(v, (str, int, float, bool)) for v in value))):
            facts[renamed.get(name, name)] = value
    not_known = [renamed.get(name, name) for name in names if name in unknown]
    if not_known:  # told apart from attributes left unset (the provider's default)
        facts["unknownFacts"] = sorted(not_known)
    if resource.kind in _POLICY_DOCUMENTS and "policy" not in unknown:
        verdict = allows_everything(document.get("policy"))
        if verdict is not None:
            facts["allowsEverything"] = verdict
    return Entry(entry_id(resource), resource.kind, resource.ref, None, resource.locate(()), facts, ref=resource.ref)


def allows_everything(document: Any) -> bool | None:
    """Whether an IAM policy document (JSON text) allows every action on every resource; None
    when it is not a readable document (`(sensitive)`, not JSON)."""
    if not isinstance(document, str):
        return None
    try:
        data = json.loads(document)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    statements = data.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]

    def listed(value: Any) -> list[Any]:
        return value if isinstance(value, list) else [value]

    return any(isinstance(s, dict) and s.get("Effect") == "Allow"
               and any(a in ("*", "*:*") for a in listed(s.get("Action", [])))
               and "*" in listed(s.get("Resource", [])) for s in statements)


def _relations(inventory: Inventory) -> tuple[dict[tuple[str, str], dict[str, Related]], dict[tuple[str, str], Entry]]:
    found = [e for e in inventory.entries if "_tf" in e.facts]
    by_address = {(e.facts["_tf"].scope, e.facts["_tf"].address): e for e in found}
    return relate([e.facts["_tf"] for e in found]), by_address


def item(found: Entry, certain: bool, **extra: Any) -> dict[str, Any]:
    result = {"ref": found.ref, "kind": found.kind, "name": found.name, "inScan": True,
              "file": found.location.path, "line": found.location.line, "column": found.location.column,
              "certain": certain}
    result.update((key, value) for key, value in found.facts.items() if not key.startswith("_"))
    result.update(extra)
    return result


def _extra(found: Entry, by_address: dict[tuple[str, str], Entry]) -> dict[str, Any]:
    """Facts an item gets from the resource it refers to in turn: an attachment's policy."""
    tf = found.facts["_tf"]
    for link in tf.links.links:
        if link.attribute == ("policy_arn",) and link.certain:
            policy = by_address.get((tf.scope, link.target))
            if policy is not None and policy.kind == "aws_iam_policy":
                extra = {"policyRef": policy.ref}
                if "allowsEverything" in policy.facts:
                    extra["policyAllowsEverything"] = policy.facts["allowsEverything"]
                return extra
    return {}


def _compute(name: str):
    types = {t for r in RELATIONS if r.name == name for t in r.target_types}

    def compute(inventory: Inventory, start: Entry) -> list[dict[str, Any]]:
        tf = start.facts.get("_tf")
        if tf is None or start.kind not in types:
            return []
        relations, by_address = inventory.index("tf:relations", _relations)
        found = relations.get((tf.scope, tf.address), {}).get(name)
        if found is None:
            return []
        items = []
        for address in found.certain:
            other = by_address.get((tf.scope, address))
            if other is not None:
                items.append(item(other, True, **_extra(other, by_address)))
        for key in found.possible:
            other = by_address.get(key)
            if other is not None:
                items.append(item(other, False, **_extra(other, by_address)))
        if found.outside:
            items.append(dict(OUTSIDE))
        if found.inline:
            items.append({"ref": f"{start.ref}.{found.inline}", "kind": start.kind, "name": start.name,
                          "inScan": False, "certain": False})
        return items

    return compute


def _describe(name: str) -> tuple[str, str]:
    rows = [r for r in RELATIONS if r.name == name]
    kinds = ", ".join(dict.fromkeys(t for r in rows for t in r.target_types))
    sources = "; ".join(dict.fromkeys((f"`{t}` whose `{a}` is it" if a else f"every `{t}` of its configuration")
                                      for r in rows for t, a in r.sources))
    return kinds, sources


for _name in dict.fromkeys(r.name for r in RELATIONS):
    relation(_name, *_describe(_name))(_compute(_name))
