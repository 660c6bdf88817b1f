"""Terraform in the inventory (validator/inventory/terraform.py): entries, items, pickling."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

from validator import inventory
from validator.inventory.terraform import allows_everything
from validator.model import InputProblem
from validator.sources import terraform_hcl, terraform_plan
from validator.sources.context import SourceContext
from validator.sources.files import InputFile


def tf(text: str, display: str = "main.tf") -> list:
    return [r for r in terraform_hcl.scan_texts([(display, text)]) if not isinstance(r, InputProblem)]


def by_ref(resources: list) -> dict:
    return {r.ref: r for r in resources}


def test_only_kinds_that_relations_read_get_an_entry():
    resources = tf('''
resource "aws_s3_bucket" "b" {
  bucket = "acme"
}
resource "aws_instance" "i" {
  ami = "ami-1"
}
''')
    kinds = {e.kind for e in inventory.entries(resources)}
    assert kinds == {"aws_s3_bucket"}


def test_items_carry_location_certainty_and_facts():
    resources = tf('''
resource "aws_iam_role" "ci" {
  name = "ci"
}
resource "aws_iam_policy" "all" {
  name   = "all"
  policy = "{\\"Statement\\":{\\"Effect\\":\\"Allow\\",\\"Action\\":\\"*\\",\\"Resource\\":\\"*\\"}}"
}
resource "aws_iam_role_policy_attachment" "ci" {
  role       = aws_iam_role.ci.name
  policy_arn = aws_iam_policy.all.arn
}
''')
    index = inventory.build_from(resources)
    [item] = index.related(by_ref(resources)["aws_iam_role.ci"], ["policyAttachments"])["policyAttachments"]
    assert item["ref"] == "aws_iam_role_policy_attachment.ci" and item["kind"] == "aws_iam_role_policy_attachment"
    assert (item["file"], item["line"], item["inScan"], item["certain"]) == ("main.tf", 9, True, True)
    assert item["policyRef"] == "aws_iam_policy.all" and item["policyAllowsEverything"] is True
    assert "policy_arn" not in item  # not known in a .tf file: a reference
    assert not any(key.startswith("_") for key in item)
    [attached] = index.related(by_ref(resources)["aws_iam_policy.all"], ["policyAttachments"])["policyAttachments"]
    assert attached["ref"] == "aws_iam_role_policy_attachment.ci"


def test_outside_and_inline_items_are_not_in_the_scan():
    resources = tf('''
resource "aws_s3_bucket" "out" {
  bucket = "acme-out"
  dynamic "logging" {
    for_each = var.logging
    content {
      target_bucket = logging.value
    }
  }
}
output "id" {
  value = aws_s3_bucket.out.id
}
''')
    related = inventory.build_from(resources).related(resources[0], ["publicAccessBlocks", "loggingConfigurations"])
    assert related["publicAccessBlocks"] == [
        {"ref": "(outside this module)", "kind": "", "name": "", "inScan": False, "certain": False}]
    assert [(i["ref"], i["inScan"], i["certain"]) for i in related["loggingConfigurations"]] == [
        ("(outside this module)", False, False), ("aws_s3_bucket.out.logging", False, False)]


def test_relations_of_another_kind_are_empty():
    resources = tf('resource "aws_vpc" "v" {\n  cidr_block = "10.0.0.0/16"\n}\n')
    assert inventory.build_from(resources).related(resources[0], ["publicAccessBlocks", "flowLogs"]) == {
        "publicAccessBlocks": [], "flowLogs": []}


def test_inventory_with_terraform_entries_pickles_and_gives_the_same_relations():
    resources = tf('''
resource "aws_s3_bucket" "b" {
  bucket = "acme"
}
resource "aws_s3_bucket_versioning" "v" {
  bucket = aws_s3_bucket.b.id
  versioning_configuration {
    status = "Enabled"
  }
}
''')
    index = inventory.build_from(resources)
    before = index.related(resources[0], ["versioningConfigurations"])
    copy = pickle.loads(pickle.dumps(index))
    assert copy.related(resources[0], ["versioningConfigurations"]) == before
    assert [i["ref"] for i in before["versioningConfigurations"]] == ["aws_s3_bucket_versioning.v"]
    # entries computed one by one (as in worker processes) give the same inventory
    rebuilt = inventory.build(pickle.loads(pickle.dumps(inventory.entry(r))) for r in resources)
    assert rebuilt.related(resources[0], ["versioningConfigurations"]) == before


def test_plan_entries_point_at_the_plan_and_keep_known_facts():
    data = {"format_version": "1.2", "terraform_version": "1.9.0", "resource_changes": [
        {"address": "aws_security_group.web", "mode": "managed", "type": "aws_security_group", "name": "web",
         "change": {"actions": ["no-op"], "after": {"id": "sg-1", "name": "web"}}},
        {"address": "aws_security_group_rule.ssh", "mode": "managed", "type": "aws_security_group_rule", "name": "ssh",
         "change": {"actions": ["no-op"], "after": {"security_group_id": "sg-1", "type": "ingress", "from_port": 22,
                                                    "to_port": 22, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"]}}},
    ]}
    resources = [r for r in terraform_plan.parse(json.dumps(data), InputFile(None, "plan.json"), SourceContext(Path.cwd()))]
    [item] = inventory.build_from(resources).related(resources[0], ["securityGroupRules"])["securityGroupRules"]
    assert item["file"] == "plan.json" and item["certain"] is True
    assert (item["from_port"], item["to_port"], item["cidr_blocks"]) == (22, 22, ["0.0.0.0/0"])


def test_allows_everything():
    assert allows_everything('{"Statement":[{"Effect":"Allow","Action":["s3:*","*"],"Resource":["*"]}]}') is True
    assert allows_everything('{"Statement":{"Effect":"Allow","Action":"*:*","Resource":"*"}}') is True
    assert allows_everything('{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}') is False
    assert allows_everything('{"Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b"}]}') is False
    assert allows_everything("(sensitive)") is None and allows_everything(None) is None
    assert allows_everything("[1]") is None


_TRAIL_TF = '''
resource "aws_cloudwatch_log_group" "trail" {
  name = "cloudtrail"
}
resource "aws_cloudtrail" "main" {
  name                       = "main"
  s3_bucket_name             = "acme-trail"
  cloud_watch_logs_group_arn = "${aws_cloudwatch_log_group.trail.arn}:*"
}
resource "aws_cloudwatch_log_metric_filter" "kms" {
  name           = "kms"
  log_group_name = aws_cloudwatch_log_group.trail.name
  pattern        = "{ $.eventSource = kms.amazonaws.com && (($.eventName = DisableKey) || ($.eventName = ScheduleKeyDeletion)) }"
  metric_transformation {
    name      = "KmsKeyDisabled"
    namespace = NAMESPACE
    value     = "1"
  }
}
resource "aws_cloudwatch_metric_alarm" "kms" {
  alarm_name    = "kms"
  metric_name   = aws_cloudwatch_log_metric_filter.kms.metric_transformation[0].name
  namespace     = "CIS"
  alarm_actions = ACTIONS
}
'''


def _trail_groups(text: str) -> list:
    resources = tf(text)
    trail = by_ref(resources)["aws_cloudtrail.main"]
    return inventory.build_from(resources).related(trail, ["trailLogGroups"])["trailLogGroups"]


def test_a_trail_relates_to_its_log_groups_filters_and_alarms():
    [group] = _trail_groups(_TRAIL_TF.replace("NAMESPACE", '"CIS"').replace("ACTIONS", '["arn:aws:sns:x"]'))
    assert group["ref"] == "aws_cloudwatch_log_group.trail" and group["certain"] is True
    [found] = group["metricFilters"]
    assert (found["certain"], found["monitors"], found["alarmed"]) == (True, ["4.7"], True)
    assert found["alarms"] == ["aws_cloudwatch_metric_alarm.kms"]


def test_alarms_without_actions_or_on_another_namespace_do_not_count():
    [group] = _trail_groups(_TRAIL_TF.replace("NAMESPACE", '"CIS"').replace("ACTIONS", "[]"))
    assert (group["metricFilters"][0]["alarmed"], group["metricFilters"][0]["alarmUnknown"]) == (False, False)
    [group] = _trail_groups(_TRAIL_TF.replace("NAMESPACE", '"Other"').replace("ACTIONS", '["arn:aws:sns:x"]'))
    assert (group["metricFilters"][0]["alarmed"], group["metricFilters"][0]["alarmUnknown"]) == (False, False)


def test_an_alarm_on_the_filter_name_instead_of_its_metric_does_not_count():
    text = _TRAIL_TF.replace("NAMESPACE", '"CIS"').replace("ACTIONS", '["arn:aws:sns:x"]')
    [group] = _trail_groups(text.replace(".metric_transformation[0].name", ".name"))
    assert (group["metricFilters"][0]["alarmed"], group["metricFilters"][0]["alarmUnknown"]) == (False, False)


def test_unknown_actions_or_namespace_leave_the_filter_undecided():
    [group] = _trail_groups(_TRAIL_TF.replace("NAMESPACE", '"CIS"').replace("ACTIONS", "var.actions"))
    assert (group["metricFilters"][0]["alarmed"], group["metricFilters"][0]["alarmUnknown"]) == (False, True)
    [group] = _trail_groups(_TRAIL_TF.replace("NAMESPACE", "var.namespace").replace("ACTIONS", '["arn:aws:sns:x"]'))
    assert (group["metricFilters"][0]["alarmed"], group["metricFilters"][0]["alarmUnknown"]) == (False, True)
    [group] = _trail_groups(_TRAIL_TF.replace("NAMESPACE", '"CIS"').replace("ACTIONS", '["arn:aws:sns:x"]')
                            .replace('pattern        = "{', 'pattern        = var.pattern # "{'))
    assert group["metricFilters"][0]["certain"] is False


def test_a_trail_to_a_group_outside_the_scan_or_to_none():
    text = '''
resource "aws_cloudtrail" "main" {
  name                       = "main"
  s3_bucket_name             = "acme-trail"
  cloud_watch_logs_group_arn = "arn:aws:logs:us-east-1:111122223333:log-group:central:*"
}
'''
    [group] = _trail_groups(text)
    assert (group["inScan"], group["certain"]) == (False, False)
    assert _trail_groups(text.replace("cloud_watch_logs_group_arn", "# cloud_watch_logs_group_arn")) == []


def test_a_trail_names_an_existing_group_by_arn_in_a_plan():
    data = {"format_version": "1.2", "terraform_version": "1.9.0", "resource_changes": [
        {"address": "aws_cloudwatch_log_group.trail", "mode": "managed", "type": "aws_cloudwatch_log_group",
         "name": "trail", "change": {"actions": ["no-op"], "after": {
             "name": "cloudtrail", "arn": "arn:aws:logs:us-east-1:111122223333:log-group:cloudtrail"}}},
        {"address": "aws_cloudtrail.main", "mode": "managed", "type": "aws_cloudtrail", "name": "main",
         "change": {"actions": ["no-op"], "after": {
             "name": "main", "cloud_watch_logs_group_arn": "arn:aws:logs:us-east-1:111122223333:log-group:cloudtrail:*"}}},
    ]}
    resources = [r for r in terraform_plan.parse(json.dumps(data), InputFile(None, "plan.json"), SourceContext(Path.cwd()))]
    [group] = inventory.build_from(resources).related(resources[1], ["trailLogGroups"])["trailLogGroups"]
    assert (group["ref"], group["certain"], group["metricFilters"]) == ("aws_cloudwatch_log_group.trail", True, [])
def test_azure_subscription_resources_relate_to_each_other_and_tell_which_is_judged():
    resources = tf('''
resource "azurerm_security_center_contact" "soc" {
  email = "soc@example.com"
}
resource "azurerm_monitor_activity_log_alert" "nsg" {
  name   = "nsg"
  scopes = ["/subscriptions/0000"]
  criteria {
    operation_name = "Microsoft.Network/networkSecurityGroups/write"
    category       = "Administrative"
  }
}
resource "azurerm_monitor_diagnostic_setting" "activity" {
  target_resource_id = "/subscriptions/0000"
  enabled_log {
    category = "Security"
  }
  log {
    category = "Policy"
    enabled  = false
  }
}
resource "azurerm_key_vault" "kv" {
  name = "kv"
}
resource "azurerm_monitor_diagnostic_setting" "kv" {
  target_resource_id = azurerm_key_vault.kv.id
  enabled_log {
    category_group = "audit"
  }
}
''')
    index = inventory.build_from(resources)
    refs = by_ref(resources)
    related = index.related(refs["azurerm_monitor_activity_log_alert.nsg"],
                            ["subscriptionResources", "subscriptionDiagnosticSettings", "applicationInsights"])
    assert [(i["ref"], i["self"]) for i in related["subscriptionResources"]] == [
        ("azurerm_security_center_contact.soc", False), ("azurerm_monitor_activity_log_alert.nsg", True)]
    alert = related["subscriptionResources"][1]
    assert alert["operations"] == ["microsoft.network/networksecuritygroups/write"]
    assert (alert["category"], alert["blocksKnown"]) == ("administrative", True)
    assert related["subscriptionResources"][0]["email"] == "soc@example.com"
    settings = {i["ref"]: i for i in related["subscriptionDiagnosticSettings"]}
    assert settings["azurerm_monitor_diagnostic_setting.activity"]["logCategories"] == ["security"]
    assert settings["azurerm_monitor_diagnostic_setting.activity"]["target_resource_id"] == "/subscriptions/0000"
    assert related["applicationInsights"] == []
    vault_settings = index.related(refs["azurerm_key_vault.kv"], ["diagnosticSettings"])["diagnosticSettings"]
    # the subscription's setting names a literal id, which may be the vault's (its id is not known)
    assert [(i["ref"], i["certain"]) for i in vault_settings] == [
        ("azurerm_monitor_diagnostic_setting.kv", True), ("azurerm_monitor_diagnostic_setting.activity", False)]
    vault_setting = vault_settings[0]
    assert vault_setting["ref"] == "azurerm_monitor_diagnostic_setting.kv"
    assert vault_setting["logCategories"] == ["audit"] and "self" not in vault_setting
    assert index.related(refs["azurerm_monitor_diagnostic_setting.kv"], ["subscriptionResources"]) == {
        "subscriptionResources": []}


def test_azure_blocks_not_known_before_apply_are_marked():
    data = {"format_version": "1.2", "terraform_version": "1.9.0", "resource_changes": [
        {"address": "azurerm_monitor_activity_log_alert.a", "mode": "managed",
         "type": "azurerm_monitor_activity_log_alert", "name": "a",
         "change": {"actions": ["create"], "before": None, "after": {"name": "a", "criteria": [{}]},
                    "after_unknown": {"criteria": [{"operation_name": True}]}}}]}
    resources = [r for r in terraform_plan.parse(json.dumps(data), InputFile(None, "plan.json"),
                                                 SourceContext(Path.cwd())) if not isinstance(r, InputProblem)]
    [item] = inventory.build_from(resources).related(resources[0], ["subscriptionResources"])["subscriptionResources"]
    assert item["blocksKnown"] is False and item["self"] is True and "operations" not in item


def test_azure_items_tell_what_their_pointer_refers_to():
    resources = tf('''
resource "azurerm_role_definition" "locks" {
  name  = "Resource Lock Administrator"
  scope = "/subscriptions/0000"
  permissions {
    actions = ["Microsoft.Authorization/locks/*"]
  }
}
resource "azurerm_role_assignment" "locks" {
  scope              = "/subscriptions/0000"
  role_definition_id = azurerm_role_definition.locks.role_definition_resource_id
  principal_id       = "1111"
}
resource "azurerm_role_assignment" "reader" {
  scope                = "/subscriptions/0000"
  role_definition_name = "Reader"
  principal_id         = "1111"
}
resource "azurerm_storage_account" "logs" {
  name = "logs"
}
resource "azurerm_monitor_diagnostic_setting" "blobs" {
  target_resource_id = "${azurerm_storage_account.logs.id}/blobServices/default"
  storage_account_id = azurerm_storage_account.logs.id
}
resource "azurerm_virtual_network" "app" {
  name = "app"
}
resource "azurerm_network_watcher_flow_log" "app" {
  target_resource_id = azurerm_virtual_network.app.id
}
resource "azurerm_network_security_group" "app" {
  name = "app"
}
''')
    index = inventory.build_from(resources)
    refs = by_ref(resources)
    roles = {i["ref"]: i for i in index.related(refs["azurerm_role_definition.locks"],
                                                ["configurationRoles"])["configurationRoles"]}
    assert roles["azurerm_role_definition.locks"]["actions"] == ["microsoft.authorization/locks/*"]
    assert roles["azurerm_role_definition.locks"]["self"] is True
    assert roles["azurerm_role_assignment.locks"]["roleRef"] == "azurerm_role_definition.locks"
    assert "roleRef" not in roles["azurerm_role_assignment.reader"]
    assert roles["azurerm_role_assignment.reader"]["role_definition_name"] == "Reader"
    [assigned] = index.related(refs["azurerm_role_definition.locks"], ["roleAssignments"])["roleAssignments"]
    assert (assigned["ref"], assigned["certain"]) == ("azurerm_role_assignment.locks", True)
    [stored] = index.related(refs["azurerm_storage_account.logs"], ["storedDiagnosticSettings"])[
        "storedDiagnosticSettings"]
    assert stored["targetKind"] == "azurerm_storage_account"
    [flow] = index.related(refs["azurerm_network_security_group.app"], ["configurationFlowLogs"])[
        "configurationFlowLogs"]
    assert flow["targetKind"] == "azurerm_virtual_network"
    assert index.related(refs["azurerm_network_security_group.app"], ["flowLogs"]) == {"flowLogs": []}


def test_conditional_access_items_carry_their_users_applications_and_controls():
    resources = tf('''
resource "azuread_conditional_access_policy" "admins" {
  display_name = "MFA for admins"
  state        = "enabled"
  conditions {
    client_app_types    = ["all"]
    sign_in_risk_levels = ["High"]
    applications {
      included_applications = ["All"]
    }
    users {
      included_roles = ["62e90394-69f5-4237-9190-012177145e10"]
    }
  }
  grant_controls {
    operator                          = "OR"
    authentication_strength_policy_id = "/policies/authenticationStrengthPolicies/00000000-0000-0000-0000-000000000002"
  }
}
resource "azuread_named_location" "countries" {
  display_name = "Allowed countries"
  country {
    countries_and_regions = ["NL"]
  }
}
''')
    items = inventory.build_from(resources).related(resources[0], ["conditionalAccess"])["conditionalAccess"]
    policy, location = items
    assert policy["self"] is True and policy["state"] == "enabled"
    assert (policy["includedUsers"], policy["includedRoles"]) == ([], ["62e90394-69f5-4237-9190-012177145e10"])
    assert policy["includedApplications"] == ["all"] and policy["signInRiskLevels"] == ["high"]
    assert policy["grantControls"] == ["authenticationstrength"]
    assert location["trusted"] is False and location["self"] is False
