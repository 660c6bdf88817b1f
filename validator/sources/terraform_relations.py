"""Terraform relations: a resource and the resources that refer to it, by kind of relation.

A relation names a kind of referring resource and the attribute that points at the target:
a bucket's `public_access_block` is an `aws_s3_bucket_public_access_block` whose `bucket`
is that bucket. The table is `RELATIONS`; `relate` resolves it over the Terraform resources
of a scan in one pass (each referring attribute is looked at once, targets are found through
dictionaries).

How a referring attribute reaches its target, in order:

1. **references** (terraform_refs): the plan's configuration or the `.tf` expression names
   the target (`bucket = aws_s3_bucket.b.id`). A reference to one instance is certain; to
   one of several instances (a `count` bucket referred to without an index), possible.
2. **values**, where no reference exists: plans of resources that already exist, literal
   names in `.tf` files, configurations split across directories. A known value equal to a
   target's identifying attribute (a bucket's `bucket` or `id`, a role's `name`, a group's
   `id`) links them: certainly within the same plan or `.tf` directory, possibly across
   them (names such as an IAM role's repeat between accounts).

Each target then has, per relation, the referring resources that are certainly related, and
whether others *may* be: a possible link; a referring attribute of that kind in the same
scope whose value is not known and that no reference resolves (it may point anywhere, so no
policy may say the relation is missing); a referring value that matches no target while a
target's own name is not known; a `.tf` target that leaves its module through an `output`
or a `module` argument (the caller may complete it); a `.tf` module with a file that could
not be read. A policy asserts that a relation is missing only when nothing is certain and
nothing may be.

The scope of a resource is its plan file, or the directory of its `.tf` file: one module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from validator.sources.terraform_refs import ResourceLinks
from validator.sources.terraform_values import UNKNOWN_ITEM


@dataclass(frozen=True)
class Relation:
    name: str  # as policies ask for it (`related.publicAccessBlocks`)
    target_types: tuple[str, ...]
    # (referring type, attribute pointing at the target; `block.attribute` for one inside a nested block)
    sources: tuple[tuple[str, str], ...]
    keys: tuple[str, ...] = ("id",)  # target attributes a referring value may equal
    via: tuple[str, ...] | None = None  # only references reading one of these target attributes
    inline: str | None = None  # the target's own attribute for the same setting (AWS provider v3)
    scope_wide: bool = False  # every source of the scope is related (account settings): no pointer
    suffix: str = ""  # left out of referring values and target keys before they are compared (`:*` of an ARN)
    suffix_pattern: str | None = None  # a regex: what a referring value may add to a key (a sub-resource's path)
    unset_any: bool = False  # a source not writing the pointer (the provider's default) or not known: maybe any target
    value_prefix: str = ""  # a referring value names a target after this prefix (others point elsewhere)
    nested: str = ""  # the pointer is this attribute of the blocks of the source attribute


# Azure: the subscription-level resources a configuration that manages a subscription's security
# baseline declares (Defender for Cloud, activity log alerts). They have no pointer to a subscription
# resource; every one of them in a configuration relates to every other (`scope_wide`).
AZURE_SUBSCRIPTION = ("azurerm_security_center_subscription_pricing", "azurerm_security_center_contact",
                      "azurerm_security_center_setting", "azurerm_security_center_auto_provisioning",
                      "azurerm_security_center_server_vulnerability_assessments_setting",
                      "azurerm_monitor_activity_log_alert")
_SQL_SERVERS = ("azurerm_mssql_server", "azurerm_sql_server")
_STORAGE = ("azurerm_storage_account",)
_DIAGNOSED = ("azurerm_key_vault", "azurerm_linux_web_app", "azurerm_windows_web_app", "azurerm_app_service",
              "azurerm_linux_function_app", "azurerm_windows_function_app", "azurerm_function_app")
AZURE_RELATIONS: tuple[Relation, ...] = (
    Relation("subscriptionResources", AZURE_SUBSCRIPTION, tuple((t, "") for t in AZURE_SUBSCRIPTION),
             scope_wide=True),
    Relation("subscriptionDiagnosticSettings", AZURE_SUBSCRIPTION, (("azurerm_monitor_diagnostic_setting", ""),),
             scope_wide=True),
    Relation("applicationInsights", AZURE_SUBSCRIPTION, (("azurerm_application_insights", ""),), scope_wide=True),
    # a storage account's diagnostic settings may name one of its services (`<account id>/blobServices/default`)
    Relation("diagnosticSettings", _DIAGNOSED + _STORAGE,
             (("azurerm_monitor_diagnostic_setting", "target_resource_id"),),
             suffix_pattern=r"(?i)/(blob|queue|table|file)Services/default/?$"),
    Relation("iotSecuritySolutions", ("azurerm_iothub",), (("azurerm_iot_security_solution", "iothub_ids"),)),
    Relation("flowLogs", ("azurerm_network_security_group",), (
        ("azurerm_network_watcher_flow_log", "network_security_group_id"),
        ("azurerm_network_watcher_flow_log", "target_resource_id"))),
    Relation("configurationFlowLogs", ("azurerm_network_security_group",),
             (("azurerm_network_watcher_flow_log", ""),), scope_wide=True),
    Relation("storedDiagnosticSettings", ("azurerm_storage_account",),
             (("azurerm_monitor_diagnostic_setting", "storage_account_id"),)),
    Relation("roleAssignments", ("azurerm_role_definition",),
             (("azurerm_role_assignment", "role_definition_id"), ("azurerm_role_assignment", "role_definition_name")),
             ("role_definition_resource_id", "name")),
    Relation("configurationRoles", ("azurerm_role_definition",),
             (("azurerm_role_definition", ""), ("azurerm_role_assignment", "")), scope_wide=True),
    Relation("conditionalAccess", ("azuread_conditional_access_policy",),
             (("azuread_conditional_access_policy", ""), ("azuread_named_location", "")), scope_wide=True),
    Relation("customerManagedKeys", _STORAGE,
             (("azurerm_storage_account_customer_managed_key", "storage_account_id"),), inline="customer_managed_key"),
    # Azure: settings of a SQL server, a database server or a storage account kept in resources of their own
    Relation("auditingPolicies", _SQL_SERVERS, (("azurerm_mssql_server_extended_auditing_policy", "server_id"),),
             inline="extended_auditing_policy"),
    Relation("tdeConfigurations", ("azurerm_mssql_server",),
             (("azurerm_mssql_server_transparent_data_encryption", "server_id"),)),
    Relation("securityAlertPolicies", ("azurerm_mssql_server",),
             (("azurerm_mssql_server_security_alert_policy", "server_name"),), ("name",)),
    Relation("defenderPlans", ("azurerm_mssql_server",), (("azurerm_security_center_subscription_pricing", ""),),
             scope_wide=True),
    Relation("vulnerabilityAssessments", ("azurerm_mssql_server_security_alert_policy",),
             (("azurerm_mssql_server_vulnerability_assessment", "server_security_alert_policy_id"),)),
    Relation("serverConfigurations", ("azurerm_postgresql_flexible_server",),
             (("azurerm_postgresql_flexible_server_configuration", "server_id"),)),
    Relation("serverConfigurations", ("azurerm_postgresql_server",),
             (("azurerm_postgresql_configuration", "server_name"),), ("name",)),
    Relation("serverConfigurations", ("azurerm_mysql_flexible_server",),
             (("azurerm_mysql_flexible_server_configuration", "server_name"),), ("name",)),
    Relation("serverConfigurations", ("azurerm_mysql_server",), (("azurerm_mysql_configuration", "server_name"),),
             ("name",)),
    Relation("networkRules", _STORAGE, (("azurerm_storage_account_network_rules", "storage_account_id"),
                                        ("azurerm_storage_account_network_rules", "storage_account_name")),
             ("id", "name"), inline="network_rules"),
    Relation("queueProperties", _STORAGE, (("azurerm_storage_account_queue_properties", "storage_account_id"),),
             inline="queue_properties"),
    Relation("privateEndpoints", ("azurerm_storage_account", "azurerm_cosmosdb_account", "azurerm_key_vault"),
             (("azurerm_private_endpoint", "private_service_connection.private_connection_resource_id"),)),
    Relation("bastionHosts", ("azurerm_linux_virtual_machine", "azurerm_windows_virtual_machine",
                              "azurerm_virtual_machine"), (("azurerm_bastion_host", ""),), scope_wide=True),
    Relation("extensions", ("azurerm_virtual_machine",),
             (("azurerm_virtual_machine_extension", "virtual_machine_id"),)),
)

_BUCKET = ("aws_s3_bucket",)
_BUCKET_KEYS = ("bucket", "id")
_RULES = (("aws_security_group_rule", "security_group_id"),
          ("aws_vpc_security_group_ingress_rule", "security_group_id"),
          ("aws_vpc_security_group_egress_rule", "security_group_id"))

RELATIONS: tuple[Relation, ...] = (
    Relation("publicAccessBlocks", _BUCKET, (("aws_s3_bucket_public_access_block", "bucket"),), _BUCKET_KEYS),
    Relation("accountPublicAccessBlocks", _BUCKET, (("aws_s3_account_public_access_block", ""),), scope_wide=True),
    Relation("encryptionConfigurations", _BUCKET, (("aws_s3_bucket_server_side_encryption_configuration", "bucket"),),
             _BUCKET_KEYS, inline="server_side_encryption_configuration"),
    Relation("versioningConfigurations", _BUCKET, (("aws_s3_bucket_versioning", "bucket"),), _BUCKET_KEYS,
             inline="versioning"),
    Relation("loggingConfigurations", _BUCKET, (("aws_s3_bucket_logging", "bucket"),), _BUCKET_KEYS, inline="logging"),
    Relation("bucketPolicies", _BUCKET, (("aws_s3_bucket_policy", "bucket"),), _BUCKET_KEYS, inline="policy"),
    Relation("accessLogSources", _BUCKET, (("aws_s3_bucket_logging", "target_bucket"),), _BUCKET_KEYS),
    Relation("cloudTrails", _BUCKET, (("aws_cloudtrail", "s3_bucket_name"),), _BUCKET_KEYS),
    Relation("securityGroupRules", ("aws_security_group", "aws_default_security_group"), _RULES),
    Relation("flowLogs", ("aws_vpc",), (("aws_flow_log", "vpc_id"),)),
    Relation("defaultSecurityGroups", ("aws_vpc",), (("aws_default_security_group", "vpc_id"),)),
    Relation("defaultSecurityGroupRules", ("aws_vpc",), _RULES, ("default_security_group_id",),
             via=("default_security_group_id",)),
    Relation("policyAttachments", ("aws_iam_role",), (
        ("aws_iam_role_policy_attachment", "role"), ("aws_iam_policy_attachment", "roles"),
        ("aws_iam_role_policy_attachments_exclusive", "role_name")), ("name", "id")),
    Relation("inlinePolicies", ("aws_iam_role",), (("aws_iam_role_policy", "role"),), ("name", "id")),
    Relation("policyAttachments", ("aws_iam_user",), (
        ("aws_iam_user_policy_attachment", "user"), ("aws_iam_policy_attachment", "users"),
        ("aws_iam_user_policy_attachments_exclusive", "user_name")), ("name", "id")),
    Relation("inlinePolicies", ("aws_iam_user",), (("aws_iam_user_policy", "user"),), ("name", "id")),
    Relation("loginProfiles", ("aws_iam_user",), (("aws_iam_user_login_profile", "user"),), ("name", "id")),
    Relation("accessKeys", ("aws_iam_user",), (("aws_iam_access_key", "user"),), ("name", "id")),
    Relation("accountPasswordPolicies", ("aws_iam_user_login_profile",), (("aws_iam_account_password_policy", ""),),
             scope_wide=True),
    Relation("policyAttachments", ("aws_iam_group",), (
        ("aws_iam_group_policy_attachment", "group"), ("aws_iam_policy_attachment", "groups"),
        ("aws_iam_group_policy_attachments_exclusive", "group_name")), ("name", "id")),
    Relation("inlinePolicies", ("aws_iam_group",), (("aws_iam_group_policy", "group"),), ("name", "id")),
    Relation("policyAttachments", ("aws_iam_policy",), (
        ("aws_iam_role_policy_attachment", "policy_arn"), ("aws_iam_user_policy_attachment", "policy_arn"),
        ("aws_iam_group_policy_attachment", "policy_arn"), ("aws_iam_policy_attachment", "policy_arn")), ("arn",)),
    # The account's security baseline, as far as the configuration of a trail declares it
    # (CIS 1.2, 1.17, 1.20, 2.2.1, 3.1, 3.3, 3.8, 3.9, 4.16): every resource of these kinds.
    Relation("accountBaseline", ("aws_cloudtrail",), tuple((type_, "") for type_ in (
        "aws_cloudtrail", "aws_securityhub_account", "aws_accessanalyzer_analyzer", "aws_ebs_encryption_by_default",
        "aws_config_configuration_recorder_status", "aws_account_alternate_contact", "aws_iam_role",
        "aws_iam_role_policy_attachment", "aws_iam_policy_attachment", "aws_iam_role_policy_attachments_exclusive")),
        scope_wide=True),
    # A web ACL protecting a load balancer or an API Gateway stage (by its ARN).
    Relation("webAclAssociations", ("aws_lb", "aws_alb", "aws_api_gateway_stage"), (
        ("aws_wafv2_web_acl_association", "resource_arn"), ("aws_wafregional_web_acl_association", "resource_arn")),
        ("arn",), via=("arn",)),
    # CloudTrail to CloudWatch Logs (CIS 4.x): the trail names its log group by ARN (often
    # `"${aws_cloudwatch_log_group.x.arn}:*"`), metric filters name it by name, and alarms
    # name the filter's metric (`metricName`, read from its `metric_transformation`).
    Relation("logGroupTrails", ("aws_cloudwatch_log_group",), (("aws_cloudtrail", "cloud_watch_logs_group_arn"),),
             ("arn",), via=("arn",), suffix=":*"),
    Relation("metricFilters", ("aws_cloudwatch_log_group",), (("aws_cloudwatch_log_metric_filter", "log_group_name"),),
             ("name", "id"), via=("name", "id")),
    # an alarm names the filter's metric, not the filter (`aws_cloudwatch_log_metric_filter.x.name`)
    Relation("metricAlarms", ("aws_cloudwatch_log_metric_filter",), (("aws_cloudwatch_metric_alarm", "metric_name"),),
             ("metricName",), via=("metric_transformation",)),
) + AZURE_RELATIONS


_PROJECT = ("google_project",)
_SINKS = ("google_logging_project_sink", "google_logging_folder_sink", "google_logging_organization_sink",
          "google_logging_billing_account_sink")

# GCP: the resources that configure a project point at it by `project` (the provider's project
# when not written, so such a resource may be any project of its scope).
RELATIONS += (
    Relation("auditConfigs", _PROJECT, (("google_project_iam_audit_config", "project"),
                                        ("google_project_iam_policy", "project")), ("project_id",), unset_any=True),
    Relation("parentAuditConfigs", _PROJECT, (("google_organization_iam_audit_config", ""),
                                              ("google_folder_iam_audit_config", ""),
                                              ("google_organization_iam_policy", ""),
                                              ("google_folder_iam_policy", "")), scope_wide=True),
    Relation("logMetrics", _PROJECT, (("google_logging_metric", "project"),), ("project_id",), unset_any=True),
    Relation("alertPolicies", _PROJECT, (("google_monitoring_alert_policy", "project"),), ("project_id",),
             unset_any=True),
    Relation("logSinks", _PROJECT, (("google_logging_project_sink", "project"),), ("project_id",), unset_any=True),
    Relation("parentLogSinks", _PROJECT, (("google_logging_organization_sink", ""),
                                          ("google_logging_folder_sink", "")), scope_wide=True),
    Relation("projectServices", _PROJECT, (("google_project_service", "project"),), ("project_id",),
             unset_any=True),
    Relation("accessApprovalSettings", _PROJECT, (("google_project_access_approval_settings", "project_id"),),
             ("project_id",)),
    Relation("parentAccessApprovalSettings", _PROJECT, (("google_organization_access_approval_settings", ""),
                                                        ("google_folder_access_approval_settings", "")),
             scope_wide=True),
    Relation("projectMetadata", _PROJECT, (("google_compute_project_metadata", "project"),
                                           ("google_compute_project_metadata_item", "project")), ("project_id",),
             unset_any=True),
    Relation("exportingSinks", ("google_storage_bucket",), tuple((t, "destination") for t in _SINKS), ("name",),
             value_prefix="storage.googleapis.com/"),
    Relation("tables", ("google_bigquery_dataset",), (("google_bigquery_table", "dataset_id"),), ("dataset_id",)),
    Relation("dnsPolicies", ("google_compute_network",), (("google_dns_policy", "networks"),), ("id", "self_link"),
             nested="network_url"),
)
# Attributes whose references the inventory reads as facts of their resource, beside pointers:
# an alert policy's conditions name the log-based metrics they watch; a project grant names its
# project (validator.inventory.terraform relates grants through it).
LINKED_FACTS: dict[str, tuple[str, ...]] = {"google_monitoring_alert_policy": ("conditions",),
                                            "google_project_iam_member": ("project",),
                                            "google_project_iam_binding": ("project",)}


def relation_names(resource_type: str) -> list[str]:
    return sorted({r.name for r in RELATIONS if resource_type in r.target_types})


@dataclass(frozen=True)
class Entry:
    """What relations need of one Terraform resource (picklable, no document)."""

    address: str  # as the scan names it (instance address in a plan)
    type: str
    scope: str  # the plan file, or the directory of the `.tf` file
    values: dict[str, Any]  # known values of the attributes relations read (keys and pointers)
    unknown: frozenset[str] = frozenset()  # those of them not known (or holding an unknown item)
    links: ResourceLinks = ResourceLinks()
    exported: bool = False  # `.tf`: leaves its module through an output or a module argument
    complete: bool = True  # `.tf`: every file of its module could be read
    written: frozenset[str] | None = None  # plan: the attributes its configuration writes (None: not known)
    path: str = ""  # the file it is read from
    files: frozenset[tuple[str, str]] = frozenset()  # `.tf`: (file, type) of its module's resources relations read


@dataclass
class Related:
    """The resources certainly in one relation with a target, those that may be, and whether
    one may be outside what the scan shows."""

    certain: list[str] = field(default_factory=list)  # addresses (in its scope), in scan order
    possible: list[tuple[str, str]] = field(default_factory=list)  # (scope, address), in scan order
    outside: bool = False  # the target leaves its module, or its module could not all be read
    inline: str | None = None  # the target's own attribute for the setting, written but not known

    @property
    def maybe(self) -> bool:
        return bool(self.possible) or self.outside or self.inline is not None

    @property
    def missing(self) -> bool:
        """Nothing related, and nothing that may be: the relation is known to be absent."""
        return not self.certain and not self.maybe


def entry_attributes() -> dict[str, set[str]]:
    """Per resource type, the top-level attributes relations read (what an Entry keeps)."""
    wanted: dict[str, set[str]] = {}
    for relation in RELATIONS:
        for type_ in relation.target_types:
            wanted.setdefault(type_, set()).update(relation.keys + ((relation.inline,) if relation.inline else ()))
        for type_, attribute in relation.sources:
            wanted.setdefault(type_, set()).update((attribute.partition(".")[0],) if attribute else ())
    for type_ in LINKED_FACTS:
        wanted.setdefault(type_, set())
    return wanted


_WANTED = entry_attributes()


def pointer_attributes() -> dict[str, frozenset[str]]:
    """Per referring resource type, the attributes that point at a target: the only references
    relations read (the `.tf` reader follows no others)."""
    found: dict[str, set[str]] = {}
    for relation in RELATIONS:
        for type_, attribute in relation.sources:
            if attribute:
                found.setdefault(type_, set()).add(attribute.partition(".")[0])
    for type_, names in LINKED_FACTS.items():
        found.setdefault(type_, set()).update(names)
    return {type_: frozenset(names) for type_, names in found.items()}


def make_entry(address: str, type_: str, scope: str, document: dict[str, Any], unknown_paths: Iterable[tuple],
               links: ResourceLinks | None = None, exported: bool = False, complete: bool = True,
               path: str = "") -> Entry:
    """The Entry of a resource, from its document (unknown values removed) and unknown paths."""
    wanted = _WANTED.get(type_, set())
    unknown: set[str] = set()
    for steps in unknown_paths:
        if not steps or steps[0] not in wanted:
            continue
        if len(steps) == 1 or steps[1:] == (UNKNOWN_ITEM,):
            unknown.add(steps[0])
        elif isinstance(steps[-1], str) and steps[-1] != UNKNOWN_ITEM:
            unknown.add(f"{steps[0]}.{steps[-1]}")  # an attribute of a nested block
    values = {name: document[name] for name in wanted if name in document}
    if type_ == "aws_cloudwatch_log_metric_filter":
        name = metric_of(document, unknown_paths)[0]
        if name is not None:
            values["metricName"] = name
    links = links or ResourceLinks()
    return Entry(address, type_, scope, values, frozenset(unknown), links, exported, complete, links.written,
                 path, links.files)


def metric_of(document: dict[str, Any], unknown_paths: Iterable[tuple]) -> tuple[str | None, str | None]:
    """The metric name and namespace a metric filter writes (`metric_transformation`), each
    None when not known."""
    unknown = {tuple(path[:3]) for path in unknown_paths if path and path[0] == "metric_transformation"}
    blocks = document.get("metric_transformation")
    block = blocks[0] if isinstance(blocks, list) and len(blocks) == 1 and isinstance(blocks[0], dict) else {}

    def known(name: str) -> str | None:
        value = block.get(name)
        hidden = {("metric_transformation",), ("metric_transformation", UNKNOWN_ITEM), ("metric_transformation", 0),
                  ("metric_transformation", 0, name)}
        return value if isinstance(value, str) and not unknown & hidden else None

    return known("name"), known("namespace")


def _key(value: str, suffix: str) -> str:
    return value[:-len(suffix)] if suffix and value.endswith(suffix) else value


def relate(entries: list[Entry]) -> dict[tuple[str, str], dict[str, Related]]:
    """Per target (scope, address), per relation name: what is related. Targets with no
    relation at all are absent; `related_to` fills in the defaults."""
    relating = _Relating(entries)
    for relation in RELATIONS:
        relating.relation(relation)
    for relations in relating.result.values():
        for related in relations.values():
            related.certain = list(dict.fromkeys(related.certain))
            certain = set(related.certain)
            related.possible = [p for p in dict.fromkeys(related.possible) if p[1] not in certain]
    return relating.result


def _unseen(entries: list[Entry]) -> dict[str, set[str]]:
    """Per `.tf` scope, the types of the resources relations read that sit in files of its module
    that were not scanned."""
    needed: dict[str, set[tuple[str, str]]] = {}
    scanned: dict[str, set[str]] = {}
    for entry in entries:
        needed.setdefault(entry.scope, set()).update(entry.files)
        scanned.setdefault(entry.scope, set()).add(entry.path)
    return {scope: {type_ for path, type_ in files if path not in scanned[scope]} for scope, files in needed.items()}


def _pointers(values: dict[str, Any], attribute: str, nested: str = "", prefix: str = "") -> list[str]:
    """The known names an attribute holds; `block.attribute`: those of every such block."""
    first, _, inner = attribute.partition(".")
    if not inner:
        return _strings(values.get(first), nested, prefix)
    blocks = values.get(first)
    return [name for block in (blocks if isinstance(blocks, list) else [blocks]) if isinstance(block, dict)
            for name in _strings(block.get(inner), nested, prefix)]


def _strings(value: Any, nested: str = "", prefix: str = "") -> list[str]:
    """A referring attribute's known names: one string, or the strings of a list (with `nested`,
    that attribute of each block of the list; with `prefix`, only values after it)."""
    if nested:
        value = [block.get(nested) for block in value if isinstance(block, dict)] if isinstance(value, list) else []
    if isinstance(value, str):
        value = [value]
    found = [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
    return [v[len(prefix):] for v in found if v.startswith(prefix)] if prefix else found


class _Relating:
    """One pass over the entries of a scan, relation by relation."""

    def __init__(self, entries: list[Entry]):
        self.by_address = {(e.scope, e.address): e for e in entries}
        self.unseen = _unseen(entries)
        self.by_type: dict[str, list[Entry]] = {}
        for entry in entries:
            self.by_type.setdefault(entry.type, []).append(entry)
        self.result: dict[tuple[str, str], dict[str, Related]] = {}

    def slot(self, target: Entry, name: str) -> Related:
        return self.result.setdefault((target.scope, target.address), {}).setdefault(name, Related())

    def relation(self, relation: Relation) -> None:
        targets = [t for type_ in relation.target_types for t in self.by_type.get(type_, ())]
        if not targets:
            return
        unnamed = self._index_names(relation, targets)
        # per scope, the first source whose pointer is not known (it may point at any target of
        # the scope), and the first whose known name matches no target (it may be one whose
        # name is not known): one uncertain item each, so that the pass stays linear
        self.anywhere: dict[str, Entry] = {}
        self.unmatched: dict[str, Entry] = {}
        for type_, attribute in relation.sources:
            for source in self.by_type.get(type_, ()):
                if relation.scope_wide:
                    self._whole_configuration(relation, source, targets)
                elif self._by_reference(relation, source, attribute) and relation.unset_any:
                    self._whole_configuration(relation, source, targets, certain=False)
        for target in targets:
            anywhere = self.anywhere.get(target.scope)
            if anywhere is not None:
                self._add(target, relation.name, anywhere, False)
            unmatched = self.unmatched.get(target.scope)
            if unmatched is not None and (target.scope, target.address) in unnamed:
                self._add(target, relation.name, unmatched, False)
        self._unknowns(relation, targets)

    def _index_names(self, relation: Relation, targets: list[Entry]) -> set[tuple[str, str]]:
        """Index the targets by their known names (`by_key`); the targets without one."""
        self.by_key: dict[str, list[Entry]] = {}
        unnamed: set[tuple[str, str]] = set()
        for target in targets:
            known = [_key(target.values[k], relation.suffix) for k in relation.keys
                     if isinstance(target.values.get(k), str)]
            for value in set(known):
                self.by_key.setdefault(value, []).append(target)
            if not known:
                unnamed.add((target.scope, target.address))
        return unnamed

    def _unknowns(self, relation: Relation, targets: list[Entry]) -> None:
        """What may be related without the scan showing it: a file of the module not scanned, a
        target leaving its module, an inline setting written but not known."""
        kinds = {type_ for type_, _ in relation.sources}
        for target in targets:
            if (kinds & self.unseen.get(target.scope, set())
                    or (not relation.scope_wide and (target.exported or not target.complete))):
                self.slot(target, relation.name).outside = True
            inline = relation.inline
            if inline and inline in target.unknown and (target.written is None or inline in target.written):
                self.slot(target, relation.name).inline = inline

    def _add(self, target: Entry, name: str, source: Entry, certain: bool) -> None:
        related = self.slot(target, name)
        if certain:
            related.certain.append(source.address)
        else:
            related.possible.append((source.scope, source.address))

    def _whole_configuration(self, relation: Relation, source: Entry, targets: list[Entry],
                             certain: bool = True) -> None:
        """An account-level setting: certain in its scope, possible in another scanned one (with
        `certain` false, possible in its own scope only: a resource using the provider's default)."""
        for target in targets:
            if certain or target.scope == source.scope:
                self._add(target, relation.name, source, certain and target.scope == source.scope)

    def _by_reference(self, relation: Relation, source: Entry, attribute: str) -> bool:
        """Relate the targets the source points at; whether it may point at any target of its
        scope (its pointer is not written, or not known and no reference says where it points)."""
        linked = self._links(relation, source, attribute)
        for item in _pointers(source.values, attribute, relation.nested, relation.value_prefix):
            item = _key(item, relation.suffix)
            if relation.suffix_pattern:
                item = re.sub(relation.suffix_pattern, "", item)
            matches = self.by_key.get(item, ())
            for target in matches:
                self._add(target, relation.name, source, target.scope == source.scope)
            if not matches and not linked:
                self.unmatched.setdefault(source.scope, source)
        if (attribute in source.unknown or attribute.partition(".")[0] in source.unknown) and not linked:
            # not known, and no reference says where it points: it may be any target of its scope
            self.anywhere.setdefault(source.scope, source)
        if linked or attribute in source.values:
            return False
        # not written (the provider's default), or not known: it may be any target of its scope
        return attribute in source.unknown or source.written is None or attribute not in source.written

    def _links(self, relation: Relation, source: Entry, attribute: str) -> bool:
        """Relate what the attribute's references point at; whether it has any (maybe to another
        kind of resource)."""
        linked = False
        path = tuple(attribute.split("."))
        for link in source.links.links:
            if link.attribute[:len(path)] != path:  # the attribute, or one inside its blocks (`nested`)
                continue
            linked = True
            target = self.by_address.get((source.scope, link.target))
            if target is None or target.type not in relation.target_types:
                continue
            if relation.via is None or link.via in relation.via:
                self._add(target, relation.name, source, link.certain)
        return linked


def related_to(relations: dict[tuple[str, str], dict[str, Related]], scope: str, address: str,
               type_: str) -> dict[str, Related]:
    """Every relation of a resource type, for one resource (empty ones included)."""
    found = relations.get((scope, address), {})
    return {name: found.get(name, Related()) for name in relation_names(type_)}


def scope_of(resource: Any) -> str:
    """A Terraform resource's scope: its plan file, or the directory of its `.tf` file."""
    plan = resource.metadata.get("terraform-plan") if resource.metadata else None
    if plan:
        return "plan:" + plan
    directory = resource.path.rpartition("/")[0]
    return "tf:" + directory


def entry_of(resource: Any) -> Entry:
    """The Entry of a Terraform Resource (read before the resource is detached)."""
    links = resource.tf_links if isinstance(resource.tf_links, ResourceLinks) else ResourceLinks()
    return make_entry(resource.ref, resource.kind, scope_of(resource), resource.document, resource.unknown_paths,
                      links, links.exported, links.complete, resource.path)
