"""Terraform relations (validator.sources.terraform_relations), each positively and negatively,
read through the real `.tf` and plan sources."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from validator.inventory.cloudtrail_events import recorded
from validator.model import InputProblem
from validator.sources import terraform_hcl, terraform_plan
from validator.sources.context import SourceContext
from validator.sources.files import InputFile
from validator.sources.terraform_relations import RELATIONS, entry_of, relate, related_to, relation_names


def tf(text: str, display: str = "main.tf") -> list:
    return [r for r in terraform_hcl.scan_texts([(display, text)]) if not isinstance(r, InputProblem)]


def planned(changes: list[dict], root: dict | None = None, display: str = "plan.json") -> list:
    data = {"format_version": "1.2", "terraform_version": "1.9.0", "resource_changes": changes}
    if root is not None:
        data["configuration"] = {"root_module": root}
    found = terraform_plan.parse(json.dumps(data), InputFile(None, display), SourceContext(Path.cwd()))
    return [r for r in found if not isinstance(r, InputProblem)]


def change(address: str, after: dict, unknown: dict | None = None, actions=("create",)) -> dict:
    type_, name = address.split("[")[0].split(".")[-2:]
    return {"address": address, "mode": "managed", "type": type_, "name": name,
            "change": {"actions": list(actions), "before": None, "after": after, "after_unknown": unknown or {}}}


def config(address: str, expressions: dict, **extra) -> dict:
    type_, name = address.split(".")
    return {"address": address, "mode": "managed", "type": type_, "name": name, "expressions": expressions, **extra}


def relations_of(resources: list) -> dict:
    found = relate([entry_of(r) for r in resources])
    return {r.ref: related_to(found, entry_of(r).scope, r.ref, r.kind) for r in resources}


def test_relation_names_per_type():
    assert relation_names("aws_s3_bucket") == [
        "accessLogSources", "accountPublicAccessBlocks", "bucketPolicies", "cloudTrails", "encryptionConfigurations", "loggingConfigurations",
        "publicAccessBlocks", "versioningConfigurations"]
    assert relation_names("aws_iam_role") == ["inlinePolicies", "policyAttachments"]
    assert relation_names("aws_vpc") == ["defaultSecurityGroupRules", "defaultSecurityGroups", "flowLogs"]
    assert relation_names("aws_instance") == []
    assert len({(r.name, t) for r in RELATIONS for t in r.target_types}) == sum(len(r.target_types) for r in RELATIONS)


BUCKET_CHILDREN = [
    ("publicAccessBlocks", "aws_s3_bucket_public_access_block", "bucket"),
    ("encryptionConfigurations", "aws_s3_bucket_server_side_encryption_configuration", "bucket"),
    ("versioningConfigurations", "aws_s3_bucket_versioning", "bucket"),
    ("loggingConfigurations", "aws_s3_bucket_logging", "bucket"),
    ("bucketPolicies", "aws_s3_bucket_policy", "bucket"),
    ("accessLogSources", "aws_s3_bucket_logging", "target_bucket"),
    ("cloudTrails", "aws_cloudtrail", "s3_bucket_name"),
]


@pytest.mark.parametrize("relation, type_, attribute", BUCKET_CHILDREN)
def test_bucket_relations_in_tf(relation, type_, attribute):
    found = relations_of(tf(f'''
resource "aws_s3_bucket" "data" {{
  bucket = "acme-data"
}}
resource "aws_s3_bucket" "other" {{
  bucket = "acme-other"
}}
resource "{type_}" "child" {{
  {attribute} = aws_s3_bucket.data.id
}}
'''))
    assert found["aws_s3_bucket.data"][relation].certain == [f"{type_}.child"]
    assert found["aws_s3_bucket.other"][relation].missing
    others = [name for name in relation_names("aws_s3_bucket") if name != relation]
    assert all(found["aws_s3_bucket.data"][name].missing for name in others)


@pytest.mark.parametrize("relation, type_, attribute", BUCKET_CHILDREN)
def test_bucket_relations_in_a_plan(relation, type_, attribute):
    resources = planned(
        [change("module.s.aws_s3_bucket.b[0]", {"bucket": "acme-data"}, {"id": True}),
         change("module.s.aws_s3_bucket.b[1]", {"bucket": "acme-more"}, {"id": True}),
         change(f"module.s.{type_}.child[1]", {}, {attribute: True})],
        {"module_calls": {"s": {"source": "./s", "module": {"resources": [
            config("aws_s3_bucket.b", {}, count_expression={"constant_value": 2}),
            config(f"{type_}.child", {attribute: {"references": ["aws_s3_bucket.b", "count.index"]}},
                   count_expression={"constant_value": 2}),
        ]}}}})
    found = relations_of(resources)
    assert found["module.s.aws_s3_bucket.b[1]"][relation].certain == [f"module.s.{type_}.child[1]"]
    assert found["module.s.aws_s3_bucket.b[0]"][relation].missing


def test_by_value_in_a_plan_of_existing_resources():
    resources = planned([
        change("aws_s3_bucket.b", {"bucket": "acme-data", "id": "acme-data"}, actions=["no-op"]),
        change("aws_s3_bucket.c", {"bucket": "acme-c", "id": "acme-c"}, actions=["no-op"]),
        change("aws_s3_bucket_public_access_block.p", {"bucket": "acme-data", "block_public_acls": True}, actions=["no-op"]),
    ])  # no configuration at all: values only
    found = relations_of(resources)
    assert found["aws_s3_bucket.b"]["publicAccessBlocks"].certain == ["aws_s3_bucket_public_access_block.p"]
    assert found["aws_s3_bucket.c"]["publicAccessBlocks"].missing


def test_by_literal_value_in_tf_and_across_directories():
    here = tf('''
resource "aws_s3_bucket" "b" {
  bucket = "acme-data"
}
resource "aws_s3_bucket_versioning" "v" {
  bucket = "acme-data"
  versioning_configuration {
    status = "Enabled"
  }
}
''', "a/main.tf")
    there = tf('''
resource "aws_s3_bucket_logging" "l" {
  bucket        = "acme-data"
  target_bucket = "acme-logs"
}
''', "b/main.tf")
    found = relations_of(here + there)
    assert found["aws_s3_bucket.b"]["versioningConfigurations"].certain == ["aws_s3_bucket_versioning.v"]
    assert found["aws_s3_bucket.b"]["loggingConfigurations"].certain == [] and found["aws_s3_bucket.b"]["loggingConfigurations"].maybe


def test_unknown_pointer_makes_every_target_of_its_scope_uncertain():
    found = relations_of(tf('''
variable "bucket" {}
resource "aws_s3_bucket" "b" {
  bucket = "acme-data"
}
resource "aws_s3_bucket_public_access_block" "p" {
  bucket = var.bucket
}
''', "a/main.tf") + tf('''
resource "aws_s3_bucket" "elsewhere" {
  bucket = "acme-other"
}
''', "b/main.tf"))
    assert found["aws_s3_bucket.b"]["publicAccessBlocks"].maybe
    assert not found["aws_s3_bucket.b"]["publicAccessBlocks"].certain
    assert found["aws_s3_bucket.elsewhere"]["publicAccessBlocks"].missing  # another directory


def test_known_pointer_to_a_bucket_whose_name_is_unknown_is_uncertain():
    found = relations_of(tf('''
resource "aws_s3_bucket" "named" {
  bucket_prefix = "acme-"
}
resource "aws_s3_bucket_versioning" "v" {
  bucket = "acme-legacy"
}
'''))
    assert found["aws_s3_bucket.named"]["versioningConfigurations"].maybe


def test_exported_bucket_and_unreadable_module_are_uncertain():
    found = relations_of(tf('''
resource "aws_s3_bucket" "out" {
  bucket = "acme-out"
}
resource "aws_s3_bucket" "kept" {
  bucket = "acme-kept"
}
output "bucket_id" {
  value = aws_s3_bucket.out.id
}
'''))
    assert found["aws_s3_bucket.out"]["publicAccessBlocks"].maybe
    assert found["aws_s3_bucket.kept"]["publicAccessBlocks"].missing
    module = terraform_hcl.Module([terraform_hcl.source_file("a.tf", 'resource "aws_s3_bucket" "b" {\n}\n'),
                                   terraform_hcl.source_file("b.tf", "resource {")])
    broken = [module.build(block) for block in module.resources]
    assert relations_of(broken)["aws_s3_bucket.b"]["versioningConfigurations"].maybe


def test_possible_link_is_not_certain():
    resources = planned(
        [change("aws_iam_user.u[0]", {"name": "a"}), change("aws_iam_user.u[1]", {"name": "b"}),
         change("aws_iam_policy_attachment.all", {"name": "all", "policy_arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"},
                {"users": True})],
        {"resources": [config("aws_iam_user.u", {}, count_expression={"constant_value": 2}),
                       config("aws_iam_policy_attachment.all", {"users": {"references": ["aws_iam_user.u"]}})]})
    found = relations_of(resources)
    assert found["aws_iam_user.u[0]"]["policyAttachments"].certain == []
    assert found["aws_iam_user.u[0]"]["policyAttachments"].maybe


def test_security_group_rules():
    found = relations_of(tf('''
resource "aws_security_group" "web" {
  name = "web"
}
resource "aws_default_security_group" "default" {
  vpc_id = aws_vpc.main.id
}
resource "aws_security_group" "quiet" {
  name = "quiet"
}
resource "aws_vpc" "main" {
  cidr_block = "10.0.0.0/16"
}
resource "aws_security_group_rule" "ssh" {
  type              = "ingress"
  security_group_id = aws_security_group.web.id
  from_port         = 22
  to_port           = 22
  protocol          = "tcp"
  cidr_blocks       = ["0.0.0.0/0"]
}
resource "aws_vpc_security_group_ingress_rule" "https" {
  security_group_id = aws_default_security_group.default.id
  from_port         = 443
  to_port           = 443
  ip_protocol       = "tcp"
  cidr_ipv4         = "0.0.0.0/0"
}
resource "aws_vpc_security_group_egress_rule" "out" {
  security_group_id = aws_vpc.main.default_security_group_id
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}
resource "aws_flow_log" "f" {
  vpc_id       = aws_vpc.main.id
  traffic_type = "ALL"
}
'''))
    assert found["aws_security_group.web"]["securityGroupRules"].certain == ["aws_security_group_rule.ssh"]
    assert found["aws_default_security_group.default"]["securityGroupRules"].certain == ["aws_vpc_security_group_ingress_rule.https"]
    assert found["aws_security_group.quiet"]["securityGroupRules"].missing
    vpc = found["aws_vpc.main"]
    assert vpc["defaultSecurityGroupRules"].certain == ["aws_vpc_security_group_egress_rule.out"]
    assert vpc["flowLogs"].certain == ["aws_flow_log.f"]
    assert vpc["defaultSecurityGroups"].certain == ["aws_default_security_group.default"]


def test_vpc_without_flow_log_or_default_group():
    found = relations_of(tf('''
resource "aws_vpc" "main" {
  cidr_block = "10.0.0.0/16"
}
resource "aws_vpc" "other" {
  cidr_block = "10.1.0.0/16"
}
resource "aws_flow_log" "f" {
  vpc_id       = aws_vpc.other.id
  traffic_type = "ALL"
}
resource "aws_security_group_rule" "r" {
  type              = "ingress"
  security_group_id = aws_vpc.main.id
  from_port         = 1
  to_port           = 1
  protocol          = "tcp"
}
'''))
    assert found["aws_vpc.main"]["flowLogs"].missing
    assert found["aws_vpc.main"]["defaultSecurityGroups"].missing
    assert found["aws_vpc.main"]["defaultSecurityGroupRules"].missing  # not through default_security_group_id


@pytest.mark.parametrize("principal, attachment, attribute, inline", [
    ("aws_iam_role", "aws_iam_role_policy_attachment", "role", "aws_iam_role_policy"),
    ("aws_iam_user", "aws_iam_user_policy_attachment", "user", "aws_iam_user_policy"),
    ("aws_iam_group", "aws_iam_group_policy_attachment", "group", "aws_iam_group_policy"),
])
def test_iam_principals_and_their_policies(principal, attachment, attribute, inline):
    found = relations_of(tf(f'''
resource "{principal}" "ops" {{
  name = "ops"
}}
resource "{principal}" "dev" {{
  name = "dev"
}}
resource "{attachment}" "admin" {{
  {attribute}      = {principal}.ops.name
  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
}}
resource "{inline}" "own" {{
  {attribute} = "ops"
  policy = "{{}}"
}}
resource "aws_iam_policy_attachment" "legacy" {{
  name       = "legacy"
  {attribute}s = ["ops", "nobody"]
  policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
}}
'''))
    ops, dev = found[f"{principal}.ops"], found[f"{principal}.dev"]
    assert ops["policyAttachments"].certain == [f"{attachment}.admin", "aws_iam_policy_attachment.legacy"]
    assert ops["inlinePolicies"].certain == [f"{inline}.own"]
    assert dev["policyAttachments"].missing and dev["inlinePolicies"].missing


def test_customer_managed_policy_and_its_attachments():
    found = relations_of(tf('''
resource "aws_iam_policy" "admin" {
  name   = "admin"
  policy = "{}"
}
resource "aws_iam_policy" "unused" {
  name   = "unused"
  policy = "{}"
}
resource "aws_iam_role_policy_attachment" "a" {
  role       = "ops"
  policy_arn = aws_iam_policy.admin.arn
}
'''))
    assert found["aws_iam_policy.admin"]["policyAttachments"].certain == ["aws_iam_role_policy_attachment.a"]
    assert found["aws_iam_policy.unused"]["policyAttachments"].missing


def test_login_profile():
    found = relations_of(tf('''
resource "aws_iam_user" "alice" {
  name = "alice"
}
resource "aws_iam_user" "robot" {
  name = "robot"
}
resource "aws_iam_user_login_profile" "alice" {
  user = aws_iam_user.alice.name
}
'''))
    assert found["aws_iam_user.alice"]["loginProfiles"].certain == ["aws_iam_user_login_profile.alice"]
    assert found["aws_iam_user.robot"]["loginProfiles"].missing


def test_plan_module_variable_and_for_each_pairing():
    resources = planned(
        [change('aws_s3_bucket.b["x"]', {"bucket": "acme-x"}, {"id": True}),
         change('aws_s3_bucket.b["y"]', {"bucket": "acme-y"}, {"id": True}),
         change('module.guard.aws_s3_bucket_public_access_block.p["x"]', {"block_public_acls": True}, {"bucket": True})],
        {"resources": [config("aws_s3_bucket.b", {}, for_each_expression={"references": ["var.names"]})],
         "module_calls": {"guard": {"source": "./guard",
                                    "expressions": {"buckets": {"references": ["aws_s3_bucket.b"]}},
                                    "module": {"resources": [config("aws_s3_bucket_public_access_block.p", {
                                        "bucket": {"references": ["each.value.id", "each.value"]}},
                                        for_each_expression={"references": ["var.buckets"]})]}}}})
    found = relations_of(resources)
    assert found['aws_s3_bucket.b["x"]']["publicAccessBlocks"].certain == [
        'module.guard.aws_s3_bucket_public_access_block.p["x"]']
    assert found['aws_s3_bucket.b["y"]']["publicAccessBlocks"].missing


def test_account_level_settings_relate_to_every_target_of_the_configuration():
    a = tf('''
resource "aws_s3_bucket" "b" {
  bucket = "acme-b"
}
resource "aws_s3_account_public_access_block" "account" {
  block_public_acls = true
}
resource "aws_iam_user_login_profile" "alice" {
  user = "alice"
}
''', "a/main.tf")
    b = tf('''
resource "aws_s3_bucket" "c" {
  bucket = "acme-c"
}
resource "aws_iam_account_password_policy" "strict" {
  minimum_password_length = 14
}
''', "b/main.tf")
    c = tf('''
resource "aws_iam_user_login_profile" "bob" {
  user = "bob"
}
''', "c/main.tf")
    found = relations_of(a + b)
    assert found["aws_s3_bucket.b"]["accountPublicAccessBlocks"].certain == ["aws_s3_account_public_access_block.account"]
    assert found["aws_s3_bucket.c"]["accountPublicAccessBlocks"].possible == [
        ("tf:a", "aws_s3_account_public_access_block.account")]
    assert found["aws_iam_user_login_profile.alice"]["accountPasswordPolicies"].maybe
    assert relations_of(c)["aws_iam_user_login_profile.bob"]["accountPasswordPolicies"].missing
    found = relations_of(b + c)
    assert found["aws_iam_user_login_profile.bob"]["accountPasswordPolicies"].possible


def test_inline_setting_not_known_but_written_is_uncertain():
    resources = planned(
        [change("aws_s3_bucket.v3", {"bucket": "acme-v3"}, {"versioning": True, "logging": True}),
         change("aws_s3_bucket.v5", {"bucket": "acme-v5"}, {"versioning": True, "logging": True}),
         change("aws_s3_bucket.old", {"bucket": "acme-old", "versioning": [{"enabled": False}], "logging": []})],
        {"resources": [config("aws_s3_bucket.v3", {"bucket": {"constant_value": "acme-v3"},
                                                   "versioning": [{"enabled": {"references": ["var.on"]}}]}),
                       config("aws_s3_bucket.v5", {"bucket": {"constant_value": "acme-v5"}}),
                       config("aws_s3_bucket.old", {"bucket": {"constant_value": "acme-old"}})]})
    found = relations_of(resources)
    assert found["aws_s3_bucket.v3"]["versioningConfigurations"].inline == "versioning"
    assert found["aws_s3_bucket.v3"]["loggingConfigurations"].missing  # computed by the provider
    assert found["aws_s3_bucket.v5"]["versioningConfigurations"].missing
    assert found["aws_s3_bucket.old"]["versioningConfigurations"].missing
    without_configuration = planned([change("aws_s3_bucket.v5", {"bucket": "acme-v5"}, {"versioning": True})])
    assert relations_of(without_configuration)["aws_s3_bucket.v5"]["versioningConfigurations"].maybe
    dynamic = relations_of(tf('''
resource "aws_s3_bucket" "b" {
  bucket = "acme"
  dynamic "versioning" {
    for_each = var.versioning
    content {
      enabled = true
    }
  }
}
'''))
    assert dynamic["aws_s3_bucket.b"]["versioningConfigurations"].inline == "versioning"


def test_azure_relations_per_type():
    assert relation_names("azurerm_storage_account") == [
        "customerManagedKeys", "diagnosticSettings", "networkRules", "privateEndpoints", "queueProperties",
        "storedDiagnosticSettings"]
    assert relation_names("azurerm_mssql_server") == [
        "auditingPolicies", "defenderPlans", "securityAlertPolicies", "tdeConfigurations"]
    assert relation_names("azurerm_mysql_server") == ["serverConfigurations"]
    assert relation_names("azurerm_virtual_machine") == ["bastionHosts", "extensions"]


PRIVATE_ENDPOINT = """
resource "azurerm_key_vault" "app" {
  name = "acme-app"
}
resource "azurerm_key_vault" "ops" {
  name = "acme-ops"
}
resource "azurerm_private_endpoint" "ops" {
  name = "acme-ops"
  private_service_connection {
    name                           = "acme-ops"
    private_connection_resource_id = azurerm_key_vault.ops.id
  }
}
"""


def test_a_pointer_in_a_nested_block_in_tf():
    found = relations_of(tf(PRIVATE_ENDPOINT))
    assert found["azurerm_key_vault.ops"]["privateEndpoints"].certain == ["azurerm_private_endpoint.ops"]
    assert found["azurerm_key_vault.app"]["privateEndpoints"].missing
    unknown = tf(PRIVATE_ENDPOINT.replace("azurerm_key_vault.ops.id", "var.target"))
    assert relations_of(unknown)["azurerm_key_vault.app"]["privateEndpoints"].maybe


def test_a_pointer_in_a_nested_block_in_a_plan():
    vault_id = "/subscriptions/0/resourceGroups/s/providers/Microsoft.KeyVault/vaults/acme-ops"
    resources = planned([
        change("azurerm_key_vault.ops", {"name": "acme-ops", "id": vault_id}, actions=("no-op",)),
        change("azurerm_key_vault.app", {"name": "acme-app"}, {"id": True}),
        change("azurerm_private_endpoint.ops", {"private_service_connection": [
            {"name": "ops", "private_connection_resource_id": vault_id}]}, {"id": True}),
        change("azurerm_private_endpoint.app", {"private_service_connection": [{"name": "app"}]},
               {"id": True, "private_service_connection": [{"private_connection_resource_id": True}]}),
    ], {"resources": [config("azurerm_key_vault.ops", {}), config("azurerm_key_vault.app", {}),
                      config("azurerm_private_endpoint.ops", {}),
                      config("azurerm_private_endpoint.app", {"private_service_connection": [
                          {"private_connection_resource_id": {"references": ["azurerm_key_vault.app.id",
                                                                              "azurerm_key_vault.app"]}}]})]})
    found = relations_of(resources)
    assert found["azurerm_key_vault.ops"]["privateEndpoints"].certain == ["azurerm_private_endpoint.ops"]
    assert found["azurerm_key_vault.app"]["privateEndpoints"].certain == ["azurerm_private_endpoint.app"]


def test_a_diagnostic_setting_of_a_storage_service_relates_to_its_account():
    account = "/subscriptions/0/resourceGroups/d/providers/Microsoft.Storage/storageAccounts/acme"
    resources = planned([
        change("azurerm_storage_account.data", {"name": "acme", "id": account}, actions=("no-op",)),
        change("azurerm_storage_account.other", {"name": "other", "id": account + "x"}, actions=("no-op",)),
        change("azurerm_monitor_diagnostic_setting.blob", {"target_resource_id": account + "/blobServices/default"},
               {"id": True}),
    ])
    found = relations_of(resources)
    assert found["azurerm_storage_account.data"]["diagnosticSettings"].certain == [
        "azurerm_monitor_diagnostic_setting.blob"]
    assert found["azurerm_storage_account.other"]["diagnosticSettings"].missing


def test_diagnostic_settings_of_vaults_and_storage_services_are_one_relation():
    found = relations_of(tf("""
resource "azurerm_key_vault" "ops" {
  name = "acme-ops"
}
resource "azurerm_storage_account" "data" {
  name = "acmedata"
}
resource "azurerm_monitor_diagnostic_setting" "vault" {
  name               = "vault"
  target_resource_id = azurerm_key_vault.ops.id
}
resource "azurerm_monitor_diagnostic_setting" "blob" {
  name               = "blob"
  target_resource_id = "${azurerm_storage_account.data.id}/blobServices/default"
}
"""))
    assert found["azurerm_key_vault.ops"]["diagnosticSettings"].certain == ["azurerm_monitor_diagnostic_setting.vault"]
    assert found["azurerm_storage_account.data"]["diagnosticSettings"].certain == [
        "azurerm_monitor_diagnostic_setting.blob"]
    assert relation_names("azurerm_key_vault") == ["diagnosticSettings", "privateEndpoints"]


def test_database_server_parameters_relate_by_server_name():
    found = relations_of(tf("""
resource "azurerm_mysql_flexible_server" "shop" {
  name = "acme-shop"
}
resource "azurerm_mysql_flexible_server" "other" {
  name = "acme-other"
}
resource "azurerm_mysql_flexible_server_configuration" "audit" {
  name        = "audit_log_enabled"
  server_name = "acme-shop"
  value       = "ON"
}
"""))
    assert found["azurerm_mysql_flexible_server.shop"]["serverConfigurations"].certain == [
        "azurerm_mysql_flexible_server_configuration.audit"]
    assert found["azurerm_mysql_flexible_server.other"]["serverConfigurations"].missing


def test_account_baseline_of_a_trail_holds_the_settings_of_its_configuration():
    a = tf('''
resource "aws_cloudtrail" "main" {
  name           = "main"
  s3_bucket_name = "acme-trail"
}
resource "aws_securityhub_account" "this" {}
resource "aws_iam_role" "support" {
  name = "support"
}
resource "aws_s3_bucket" "b" {
  bucket = "acme-b"
}
''', "a/main.tf")
    b = tf('''
resource "aws_accessanalyzer_analyzer" "this" {
  analyzer_name = "account"
}
''', "b/main.tf")
    found = relations_of(a + b)["aws_cloudtrail.main"]["accountBaseline"]
    assert found.certain == ["aws_cloudtrail.main", "aws_securityhub_account.this", "aws_iam_role.support"]
    assert found.possible == [("tf:b", "aws_accessanalyzer_analyzer.this")]
    assert relation_names("aws_cloudtrail") == ["accountBaseline"]


def test_log_groups_metric_filters_and_alarms_are_related():
    found = relations_of(tf('''
resource "aws_cloudwatch_log_group" "trail" {
  name = "trail"
}
resource "aws_cloudtrail" "main" {
  name                       = "main"
  s3_bucket_name             = "acme-trail"
  cloud_watch_logs_group_arn = "arn:aws:logs:us-east-1:111122223333:log-group:other:*"
}
resource "aws_cloudtrail" "by_reference" {
  name                       = "by-reference"
  s3_bucket_name             = "acme-trail"
  cloud_watch_logs_group_arn = "${aws_cloudwatch_log_group.trail.arn}:*"
}
resource "aws_cloudwatch_log_metric_filter" "literal" {
  name           = "literal"
  log_group_name = "trail"
  pattern        = "{ $.eventName = DeleteTrail }"
  metric_transformation {
    name      = "Literal"
    namespace = "CIS"
    value     = "1"
  }
}
resource "aws_cloudwatch_metric_alarm" "literal" {
  alarm_name  = "literal"
  metric_name = "Literal"
  namespace   = "CIS"
}
resource "aws_cloudwatch_metric_alarm" "other" {
  alarm_name  = "other"
  metric_name = "Other"
  namespace   = "CIS"
}
'''))
    assert found["aws_cloudwatch_log_group.trail"]["logGroupTrails"].certain == ["aws_cloudtrail.by_reference"]
    assert found["aws_cloudwatch_log_group.trail"]["metricFilters"].certain == ["aws_cloudwatch_log_metric_filter.literal"]
    assert found["aws_cloudwatch_log_metric_filter.literal"]["metricAlarms"].certain == [
        "aws_cloudwatch_metric_alarm.literal"]


@pytest.mark.parametrize("blocks, expected", [
    ("", (True, False, False)),
    ('event_selector {\n read_write_type = "ReadOnly"\n}', (False, False, False)),
    ('event_selector {\n read_write_type = "ReadOnly"\n}\nevent_selector {\n read_write_type = "WriteOnly"\n}',
     (True, False, False)),
    ('event_selector {\n include_management_events = false\n data_resource {\n type = "AWS::S3::Object"\n'
     ' values = ["arn:aws:s3"]\n }\n}', (False, True, True)),
    ('event_selector {\n read_write_type = "WriteOnly"\n data_resource {\n type = "AWS::S3::Object"\n'
     ' values = ["arn:aws:s3:::"]\n }\n}', (False, True, False)),
    ('event_selector {\n data_resource {\n type = "AWS::S3::Object"\n values = ["arn:aws:s3:::acme/"]\n }\n}',
     (True, False, False)),
    ('advanced_event_selector {\n field_selector {\n field = "eventCategory"\n equals = ["Data"]\n }\n'
     ' field_selector {\n field = "resources.type"\n equals = ["AWS::S3::Object"]\n }\n'
     ' field_selector {\n field = "readOnly"\n equals = ["true"]\n }\n}', (False, False, True)),
    ('advanced_event_selector {\n field_selector {\n field = "eventCategory"\n equals = ["Data"]\n }\n'
     ' field_selector {\n field = "resources.type"\n equals = ["AWS::S3::Object"]\n }\n'
     ' field_selector {\n field = "resources.ARN"\n starts_with = ["arn:aws:s3:::acme/"]\n }\n}', (False, False, False)),
    ('advanced_event_selector {\n field_selector {\n field = "eventCategory"\n equals = ["Management"]\n }\n}',
     (True, False, False)),
])
def test_what_a_trail_records(blocks, expected):
    [trail] = tf(f'resource "aws_cloudtrail" "t" {{\n name = "t"\n s3_bucket_name = "b"\n{blocks}\n}}\n')
    assert recorded(trail.document) == expected


def test_web_acl_associations_by_reference_and_by_arn():
    found = relations_of(tf('''
resource "aws_lb" "web" {
  name = "web"
}
resource "aws_api_gateway_stage" "prod" {
  stage_name = "prod"
}
resource "aws_wafv2_web_acl_association" "web" {
  resource_arn = aws_lb.web.arn
  web_acl_arn  = "arn:aws:wafv2:us-east-1:111122223333:regional/webacl/edge/a1b2"
}
resource "aws_wafregional_web_acl_association" "by_name" {
  resource_arn = aws_lb.web.name
  web_acl_id   = "a1b2"
}
'''))
    assert found["aws_lb.web"]["webAclAssociations"].certain == ["aws_wafv2_web_acl_association.web"]
    assert found["aws_api_gateway_stage.prod"]["webAclAssociations"].missing
