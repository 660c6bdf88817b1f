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
import re
from typing import Any

from validator.inventory import Entry, Inventory, entry_id, extractor, relation
from validator.inventory.cloudtrail_events import recorded
from validator.inventory.cloudwatch_patterns import monitored
from validator.model import Resource
from validator.sources.terraform_refs import ResourceLinks
from validator.sources.terraform_relations import RELATIONS, Related, entry_attributes, entry_of, metric_of, relate

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
    "aws_cloudwatch_log_group": ("name",),
    "aws_iam_access_key": ("status",),
    "aws_iam_role": ("managed_policy_arns",),
    "aws_accessanalyzer_analyzer": ("analyzer_name", "type"),
    "aws_ebs_encryption_by_default": ("enabled",),
    "aws_config_configuration_recorder_status": ("name", "is_enabled"),
    "aws_account_alternate_contact": ("alternate_contact_type",),
    "aws_cloudwatch_log_metric_filter": ("name", "pattern"),
    "aws_cloudwatch_metric_alarm": ("alarm_name", "metric_name", "namespace", "alarm_actions"),
    "google_project_iam_audit_config": ("service",),
    "google_folder_iam_audit_config": ("service",),
    "google_organization_iam_audit_config": ("service",),
    "google_logging_metric": ("filter", "disabled"),
    "google_monitoring_alert_policy": ("enabled",),
    "google_logging_project_sink": ("filter", "disabled", "destination"),
    "google_logging_folder_sink": ("filter", "disabled", "destination", "include_children"),
    "google_logging_organization_sink": ("filter", "disabled", "destination", "include_children"),
    "google_logging_billing_account_sink": ("filter", "disabled", "destination"),
    "google_project_service": ("service",),
    "google_compute_project_metadata_item": ("key", "value"),
    "google_project_iam_member": ("role", "member"),
    "google_project_iam_binding": ("role", "members"),
    "azurerm_security_center_subscription_pricing": ("resource_type", "tier", "subplan"),
    "azurerm_security_center_contact": ("email", "alert_notifications", "alerts_to_admins"),
    "azurerm_security_center_setting": ("setting_name", "enabled"),
    "azurerm_security_center_auto_provisioning": ("auto_provision",),
    "azurerm_security_center_server_vulnerability_assessments_setting": ("vulnerability_assessment_provider",),
    "azurerm_monitor_activity_log_alert": ("enabled", "scopes"),
    "azurerm_monitor_diagnostic_setting": ("target_resource_id",),
    "azurerm_iot_security_solution": ("enabled",),
    "azurerm_network_watcher_flow_log": ("enabled", "target_resource_id"),
    "azurerm_role_definition": ("name", "role_definition_resource_id"),
    "azurerm_role_assignment": ("role_definition_id", "role_definition_name"),
    "azuread_conditional_access_policy": ("display_name", "state"),
    "azuread_named_location": ("display_name",),
    "azurerm_mssql_server_extended_auditing_policy": ("enabled", "retention_in_days", "log_monitoring_enabled"),
    "azurerm_mssql_server_transparent_data_encryption": ("key_vault_key_id", "managed_hsm_key_id"),
    "azurerm_postgresql_flexible_server_configuration": ("name", "value"),
    "azurerm_postgresql_configuration": ("name", "value"),
    "azurerm_mysql_flexible_server_configuration": ("name", "value"),
    "azurerm_mysql_configuration": ("name", "value"),
    "azurerm_storage_account_network_rules": ("default_action",),
    "azurerm_mssql_server_security_alert_policy": ("state",),
    "azurerm_mssql_server_vulnerability_assessment": ("storage_container_path",),
    "azurerm_virtual_machine_extension": ("publisher", "type"),
}
# Facts shown under another key: a database server parameter's `name` would hide the item's own.
_RENAMED: dict[str, dict[str, str]] = {kind: {"name": "parameter"} for kind in (
    "azurerm_postgresql_flexible_server_configuration", "azurerm_postgresql_configuration",
    "azurerm_mysql_flexible_server_configuration", "azurerm_mysql_configuration")}
# Facts read from nested blocks: an activity log alert's operations, a diagnostic setting's log categories, a
# role's actions, a Conditional Access policy's users, applications and grant controls, a trusted location.
_BLOCK_FACTS = {"azurerm_monitor_activity_log_alert": ("criteria",), "azurerm_role_definition": ("permissions",),
                "azuread_conditional_access_policy": ("conditions", "grant_controls"),
                "azuread_named_location": ("ip",),
                "azurerm_monitor_diagnostic_setting": ("enabled_log", "log")}
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
    if resource.kind.startswith(("azurerm_", "azuread_")):
        facts.update(azure_facts(resource, document, {str(n) for n in unknown & set(names)}))
    if resource.kind in _POLICY_DOCUMENTS and "policy" not in unknown:
        verdict = allows_everything(document.get("policy"))
        if verdict is not None:
            facts["allowsEverything"] = verdict
    facts.update(_monitoring_facts(resource, document, unknown))
    gcp = _GCP_FACTS.get(resource.kind)
    if gcp is not None:
        facts.update(gcp(resource, document, {tuple(p) for p in resource.unknown_paths or ()}))
    # Kept as they are, not packed: they hold the resource's links (`_tf`), which marshal cannot write.
    return Entry(entry_id(resource), resource.kind, resource.ref, None, resource.locate(()), facts, ref=resource.ref)


def _blocks(value: Any) -> list[dict[str, Any]]:
    return [block for block in value if isinstance(block, dict)] if isinstance(value, list) else []


def _unknown_under(unknown: set[tuple], prefix: tuple) -> bool:
    return any(path[:len(prefix)] == prefix for path in unknown)


def _audit_facts(resource: Resource, document: dict[str, Any], unknown: set[tuple]) -> dict[str, Any]:
    """An audit configuration's `logTypes` and whether it `exempts` members (when known)."""
    if _unknown_under(unknown, ("audit_log_config",)):
        return {}
    configs = _blocks(document.get("audit_log_config"))
    types = [c.get("log_type") for c in configs]
    if not all(isinstance(t, str) for t in types):
        return {}
    return {"logTypes": types, "exempts": any(bool(c.get("exempted_members")) for c in configs)}


_METRIC = re.compile(r"(?:^|\.)google_logging_metric\.")


def _alert_facts(resource: Resource, document: dict[str, Any], unknown: set[tuple]) -> dict[str, Any]:
    """An alert policy's known condition `filters`, the log-based metrics its conditions refer to
    (`metricRefs`), and whether a filter is neither known nor a reference (`opaqueFilters`)."""
    links = resource.tf_links if isinstance(resource.tf_links, ResourceLinks) else ResourceLinks()
    refs = sorted({link.target for link in links.links
                   if link.attribute[:1] == ("conditions",) and _METRIC.search(link.target)})
    filters: list[str] = []
    opaque = False
    for index, condition in enumerate(_blocks(document.get("conditions"))):
        for kind, blocks in condition.items():
            for inner, block in enumerate(_blocks(blocks)):
                if "filter" not in block and ("conditions", index, kind, inner, "filter") not in unknown:
                    continue
                if isinstance(block.get("filter"), str):
                    filters.append(block["filter"])
                else:
                    opaque = opaque or not refs
    if _unknown_under(unknown, ("conditions",)) and not refs:
        opaque = True
    return {"filters": filters, "metricRefs": refs, "opaqueFilters": opaque}


def _metadata_facts(resource: Resource, document: dict[str, Any], unknown: set[tuple]) -> dict[str, Any]:
    """Project metadata's `enable-oslogin` value (empty when not set), when known."""
    metadata = document.get("metadata")
    if _unknown_under(unknown, ("metadata",)) or not isinstance(metadata, dict):
        return {} if _unknown_under(unknown, ("metadata",)) else {"osLogin": ""}
    value = metadata.get("enable-oslogin", "")
    return {"osLogin": str(value)} if isinstance(value, (str, bool, int)) else {}


def _table_facts(resource: Resource, document: dict[str, Any], unknown: set[tuple]) -> dict[str, Any]:
    """Whether a BigQuery table names its own customer-managed key (`customerKey`), when known."""
    if _unknown_under(unknown, ("encryption_configuration",)):
        return {}
    return {"customerKey": bool(_blocks(document.get("encryption_configuration")))}


def _iam_policy_facts(resource: Resource, document: dict[str, Any], unknown: set[tuple]) -> dict[str, Any]:
    """The `auditConfigs` of an authoritative IAM policy's `policy_data` (service, logTypes), when known."""
    text = document.get("policy_data")
    if ("policy_data",) in unknown or not isinstance(text, str):
        return {}
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return {}
    configs = data.get("auditConfigs", []) if isinstance(data, dict) else None
    if not isinstance(configs, list):
        return {}
    found = []
    for config in _blocks(configs):
        logs = _blocks(config.get("auditLogConfigs"))
        found.append({"service": str(config.get("service", "")),
                      "logTypes": [str(c.get("logType", "")) for c in logs],
                      "exempts": any(bool(c.get("exemptedMembers")) for c in logs)})
    return {"auditConfigs": found}


def _sink_facts(resource: Resource, document: dict[str, Any], unknown: set[tuple]) -> dict[str, Any]:
    """Whether a log sink has an exclusion that is not disabled (`excludes`), when known."""
    if _unknown_under(unknown, ("exclusions",)):
        return {}
    return {"excludes": any(e.get("disabled") is not True for e in _blocks(document.get("exclusions")))}


def _dns_policy_facts(resource: Resource, document: dict[str, Any], unknown: set[tuple]) -> dict[str, Any]:
    """Whether a DNS policy logs queries (`logging`: off when not written), when known."""
    return {} if ("enable_logging",) in unknown else {"logging": document.get("enable_logging") is True}


def _metric_facts(resource: Resource, document: dict[str, Any], unknown: set[tuple]) -> dict[str, Any]:
    """A log-based metric's `metricName` (an item's `name` is its address), when known."""
    name = document.get("name")
    return {"metricName": name} if ("name",) not in unknown and isinstance(name, str) else {}


def _grant_facts(resource: Resource, document: dict[str, Any], unknown: set[tuple]) -> dict[str, Any]:
    """Which project a project-level grant is in (`projectKey`), when it can be told: its known
    `project`, the google_project its reference certainly names, or the provider's default."""
    project = document.get("project")
    if ("project",) not in unknown and isinstance(project, str):
        return {"projectKey": "project:" + project}
    links = resource.tf_links if isinstance(resource.tf_links, ResourceLinks) else ResourceLinks()
    targets = [link.target for link in links.links if link.attribute == ("project",)]
    if len(targets) == 1 and all(link.certain for link in links.links if link.attribute == ("project",)):
        return {"projectKey": "resource:" + targets[0]}
    if not targets and ("project",) not in unknown and "project" not in document and (
            links.written is None or "project" not in links.written):
        return {"projectKey": "provider default"}
    return {}


_GCP_FACTS = {
    "google_project_iam_member": _grant_facts,
    "google_project_iam_binding": _grant_facts,
    "google_logging_metric": _metric_facts,
    "google_dns_policy": _dns_policy_facts,
    "google_logging_project_sink": _sink_facts,
    "google_logging_folder_sink": _sink_facts,
    "google_logging_organization_sink": _sink_facts,
    "google_logging_billing_account_sink": _sink_facts,
    "google_project_iam_policy": _iam_policy_facts,
    "google_folder_iam_policy": _iam_policy_facts,
    "google_organization_iam_policy": _iam_policy_facts,
    "google_project_iam_audit_config": _audit_facts,
    "google_folder_iam_audit_config": _audit_facts,
    "google_organization_iam_audit_config": _audit_facts,
    "google_monitoring_alert_policy": _alert_facts,
    "google_compute_project_metadata": _metadata_facts,
    "google_bigquery_table": _table_facts,
}


def _monitoring_facts(resource: Resource, document: dict[str, Any], unknown: set[Any]) -> dict[str, Any]:
    """A metric filter's metric and the CIS controls its pattern serves (`monitors`, when the
    pattern is known); whether an alarm notifies anyone (`_actions`: None when not known);
    whether an access key is active (when known)."""
    if resource.kind == "aws_cloudwatch_log_metric_filter":
        name, namespace = metric_of(document, resource.unknown_paths)
        facts: dict[str, Any] = {"metricName": name} if name is not None else {}
        if namespace is not None:
            facts["metricNamespace"] = namespace
        pattern = document.get("pattern")
        controls = monitored(pattern) if "pattern" not in unknown and isinstance(pattern, str) else None
        if controls is not None:  # a pattern tdv cannot read (not JSON) is not judged
            facts["monitors"] = controls
        return facts
    if resource.kind == "aws_cloudtrail":
        return _trail_facts(document, unknown)
    if resource.kind == "aws_iam_access_key":
        return {} if "status" in unknown else {"active": document.get("status", "Active") == "Active"}
    if resource.kind == "aws_cloudwatch_metric_alarm":
        actions = document.get("alarm_actions")
        enabled = document.get("actions_enabled", True)
        if "alarm_actions" in unknown or "actions_enabled" in unknown:
            return {"_actions": None}
        return {"_actions": bool(actions) and isinstance(actions, list) and enabled is not False}
    return {}


def _trail_facts(document: dict[str, Any], unknown: set[Any]) -> dict[str, Any]:
    """What a trail records (see cloudtrail_events), when known: `recordsEveryRegion` (a
    multi-region trail, logging, with every management event), `s3ObjectWrites` and
    `s3ObjectReads` (logging the object-level events of every bucket)."""
    if unknown & {"event_selector", "advanced_event_selector", "enable_logging"}:
        return {}
    management, writes, reads = recorded(document)
    logging = document.get("enable_logging", True) is not False
    facts = {"s3ObjectWrites": logging and writes, "s3ObjectReads": logging and reads}
    if "is_multi_region_trail" not in unknown:
        facts["recordsEveryRegion"] = logging and management and document.get("is_multi_region_trail") is True
    return facts


# The attribute that refers to another resource of the configuration, per kind, and the fact
# that names what it refers to: a diagnostic setting's or flow log's target kind, an
# assignment's role.
_REFERRED = {"azurerm_monitor_diagnostic_setting": (("target_resource_id",), "targetKind"),
             "azurerm_network_watcher_flow_log": (("target_resource_id",), "targetKind"),
             "azurerm_role_assignment": (("role_definition_id", "role_definition_name"), "roleRef")}


def azure_facts(resource: Resource, document: dict[str, Any], unknown: set[str]) -> dict[str, Any]:
    """Azure items' facts beside their attributes: `unknown` (the facts not known before apply),
    those read from nested blocks, and what a pointer refers to (a resource's kind, or for a
    role assignment the role definition's address); data sources are not followed."""
    facts: dict[str, Any] = {"unknown": sorted(unknown)} if unknown else {}
    if resource.kind in _BLOCK_FACTS:
        facts.update(block_facts(resource.kind, document, {str(path[0]) for path in resource.unknown_paths if path}))
    if resource.kind in _REFERRED:
        attributes, fact = _REFERRED[resource.kind]
        targets = [link.target for link in resource.tf_links.links
                   if link.attribute[:1] in [(a,) for a in attributes] and len(link.attribute) == 1 and link.certain]
        if targets:
            facts[fact] = targets[0] if fact == "roleRef" else re.sub(r"\[[^\]]*\]", "", targets[0]).split(".")[-2]
    return facts


def _lower(block: dict[str, Any], *names: str) -> str | None:
    for name in names:
        if isinstance(block.get(name), str) and block[name]:
            return str(block[name]).lower()
    return None


def block_facts(kind: str, document: dict[str, Any], unknown: set[str]) -> dict[str, Any]:
    """An activity log alert's `operations` (the operation names of its criteria, lower case)
    and `category`; a diagnostic setting's `logCategories` (the categories and category groups
    it exports, lower case). `blocksKnown` is false when a block is not known before apply."""
    names = _BLOCK_FACTS[kind]
    if any(name in unknown for name in names):
        return {"blocksKnown": False}
    if kind == "azurerm_monitor_activity_log_alert":
        criteria = _blocks(document.get("criteria"))
        operations = [_lower(c, "operation_name") for c in criteria]
        categories = [_lower(c, "category") for c in criteria]
        return {"blocksKnown": True, "operations": [o for o in operations if o],
                "category": next((c for c in categories if c), "")}
    if kind.startswith("azuread_"):
        return {"blocksKnown": True, **_entra_facts(kind, document)}
    if kind == "azurerm_role_definition":
        permissions = _blocks(document.get("permissions"))
        return {"blocksKnown": True, "actions": [str(a).lower() for p in permissions
                                                 for a in (p.get("actions") or []) if isinstance(a, str)]}
    exported = _blocks(document.get("enabled_log")) + [
        b for b in _blocks(document.get("log")) if b.get("enabled", True) is True]
    categories = [_lower(b, "category", "category_group") for b in exported]
    return {"blocksKnown": True, "logCategories": [c for c in categories if c]}


def _strings_of(block: dict[str, Any], name: str) -> list[str]:
    value = block.get(name)
    return [str(v).lower() for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _entra_facts(kind: str, document: dict[str, Any]) -> dict[str, Any]:
    """A named location's `trusted` (an IP location marked trusted); a Conditional Access
    policy's included users, roles and applications, sign-in risk levels and grant controls
    (lower case)."""
    if kind == "azuread_named_location":
        return {"trusted": any(b.get("trusted") is True for b in _blocks(document.get("ip")))}
    conditions = (_blocks(document.get("conditions")) or [{}])[0]
    users = (_blocks(conditions.get("users")) or [{}])[0]
    applications = (_blocks(conditions.get("applications")) or [{}])[0]
    grant = (_blocks(document.get("grant_controls")) or [{}])[0]
    return {"includedUsers": _strings_of(users, "included_users"),
            "includedRoles": _strings_of(users, "included_roles"),
            "includedApplications": _strings_of(applications, "included_applications"),
            "signInRiskLevels": _strings_of(conditions, "sign_in_risk_levels"),
            "grantControls": _strings_of(grant, "built_in_controls")
            + (["authenticationstrength"] if grant.get("authentication_strength_policy_id") else [])}


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
    # a relation between the settings of a whole configuration: its items tell which one is the
    # resource judged (`self`), so that a policy can report a missing setting once, on the first
    wide = any(r.scope_wide for r in RELATIONS if r.name == name)

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
                extra = {"self": address == tf.address} if wide else {}
                items.append(item(other, True, **_extra(other, by_address), **extra))
        for key in found.possible:
            other = by_address.get(key)
            if other is not None:
                items.append(item(other, False, **_extra(other, by_address), **({"self": False} if wide else {})))
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


# CloudTrail to CloudWatch Logs (CIS 4.1 to 4.15): from a trail, its log group, the group's
# metric filters, and the alarms on each filter's metric.

_NOT_SEEN = {"ref": "(log group not in the scan)", "kind": "aws_cloudwatch_log_group", "name": "", "inScan": False,
             "certain": False, "metricFilters": []}
_FILTER_NOT_SEEN = dict(OUTSIDE, monitors=[], alarmed=False, alarmUnknown=True, alarms=[])


def _groups_of_trails(inventory: Inventory) -> dict[tuple[str, str], list[tuple[tuple[str, str], bool]]]:
    """Per trail (scope, address), the log groups it sends to, each with whether certainly."""
    relations, _ = inventory.index("tf:relations", _relations)
    found: dict[tuple[str, str], list[tuple[tuple[str, str], bool]]] = {}
    for (scope, address), related in relations.items():
        trails = related.get("logGroupTrails")
        if trails is None:
            continue
        for trail in trails.certain:
            found.setdefault((scope, trail), []).append(((scope, address), True))
        for key in trails.possible:
            found.setdefault(key, []).append(((scope, address), False))
    return found


def _alarms(relations: dict[tuple[str, str], dict[str, Related]], by_address: dict[tuple[str, str], Entry],
            metric_filter: Entry) -> tuple[list[str], bool]:
    """The alarms with actions on a filter's metric (same name and namespace), and whether
    another one may be."""
    tf = metric_filter.facts["_tf"]
    related = relations.get((tf.scope, tf.address), {}).get("metricAlarms", Related())
    namespace = metric_filter.facts.get("metricNamespace")
    alarmed: list[str] = []
    maybe = bool(related.possible) or related.outside
    for address in related.certain:
        alarm = by_address.get((tf.scope, address))
        if alarm is None:
            continue
        actions, other = alarm.facts.get("_actions"), alarm.facts.get("namespace")
        if actions is None or namespace is None or other is None:
            maybe = True
        elif other == namespace and actions:
            alarmed.append(alarm.ref)
    return alarmed, maybe


def _metric_filters(relations: dict[tuple[str, str], dict[str, Related]], by_address: dict[tuple[str, str], Entry],
                    group: tuple[str, str]) -> list[dict[str, Any]]:
    related = relations.get(group, {}).get("metricFilters", Related())
    found = [(by_address.get((group[0], address)), True) for address in related.certain]
    found += [(by_address.get(key), False) for key in related.possible]
    items = []
    for metric_filter, certain in found:
        if metric_filter is None:
            continue
        alarmed, maybe = _alarms(relations, by_address, metric_filter)
        monitors = metric_filter.facts.get("monitors")
        items.append(item(metric_filter, certain and monitors is not None, monitors=monitors or [],
                          alarmed=bool(alarmed), alarmUnknown=not alarmed and maybe, alarms=alarmed))
    if related.outside:
        items.append(dict(_FILTER_NOT_SEEN))
    return items


@relation("trailLogGroups", "`aws_cloudtrail`",
          "the `aws_cloudwatch_log_group` its `cloud_watch_logs_group_arn` names (an uncertain item when it is not "
          "in the scan), with `metricFilters`: the `aws_cloudwatch_log_metric_filter` on it, each with `monitors` "
          "(the CIS 4.x controls whose events its pattern matches), `alarmed` and `alarms` (the "
          "`aws_cloudwatch_metric_alarm` with actions on its metric) and `alarmUnknown` (one may be)")
def trail_log_groups(inventory: Inventory, start: Entry) -> list[dict[str, Any]]:
    tf = start.facts.get("_tf")
    if tf is None or start.kind != "aws_cloudtrail":
        return []
    attribute = "cloud_watch_logs_group_arn"
    if not (attribute in tf.values or attribute in tf.unknown
            or any(link.attribute == (attribute,) for link in tf.links.links)):
        return []  # the trail does not send to CloudWatch Logs (TDV-AWS-049)
    relations, by_address = inventory.index("tf:relations", _relations)
    items = []
    for key, certain in inventory.index("tf:trailLogGroups", _groups_of_trails).get((tf.scope, tf.address), []):
        group = by_address.get(key)
        if group is not None:
            items.append(item(group, certain, metricFilters=_metric_filters(relations, by_address, key)))
    if not any(i["certain"] for i in items):
        items.append(dict(_NOT_SEEN))
    return items
_GRANTS = ("google_project_iam_member", "google_project_iam_binding")


def _grant_members(found: Entry) -> list[str]:
    member = found.facts.get("member")
    members = [member] if isinstance(member, str) else found.facts.get("members", [])
    return [m for m in members if isinstance(m, str)]


def _grants_by_member(inventory: Inventory) -> dict[tuple[str, str], list[Entry]]:
    """Project grants by (scope, member)."""
    index: dict[tuple[str, str], list[Entry]] = {}
    for found in inventory.entries:
        if found.kind in _GRANTS and "_tf" in found.facts:
            for member in dict.fromkeys(_grant_members(found)):
                index.setdefault((found.facts["_tf"].scope, member), []).append(found)
    return index


@relation("projectIamGrants", ", ".join(_GRANTS),
          "the other project member and binding resources of its configuration that grant one of its members a "
          "role in the same project (certain when both projects are known to be the same, possible when either "
          "is not known)")
def project_iam_grants(inventory: Inventory, start: Entry) -> list[dict[str, Any]]:
    if start.kind not in _GRANTS or "_tf" not in start.facts:
        return []
    index = inventory.index("tf:gcp-grants", _grants_by_member)
    scope, key = start.facts["_tf"].scope, start.facts.get("projectKey")
    found: dict[str, dict[str, Any]] = {}
    for member in _grant_members(start):
        for other in index.get((scope, member), ()):
            theirs = other.facts.get("projectKey")
            if other.ref == start.ref or other.ref in found or None not in (key, theirs) and theirs != key:
                continue
            found[other.ref] = item(other, key is not None and theirs == key)
    return list(found.values())
