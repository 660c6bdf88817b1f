"""GCP relations: a project and the resources configuring it (by `project`, the provider's
project when not written), the sinks exporting to a bucket (by a prefixed destination), the
DNS policies of a network (a pointer inside blocks), and the facts their items carry."""

from __future__ import annotations

import json
from pathlib import Path

from validator import inventory
from validator.model import InputProblem
from validator.sources import terraform_hcl, terraform_plan
from validator.sources.context import SourceContext
from validator.sources.files import InputFile


def tf(text: str) -> dict:
    return {r.ref: r for r in terraform_hcl.scan_texts([("main.tf", text)]) if not isinstance(r, InputProblem)}


def plan(*changes: tuple[str, str, dict, dict]) -> dict:
    data = {"format_version": "1.2", "terraform_version": "1.9.0", "resource_changes": [
        {"address": address, "mode": "managed", "type": type_, "name": address.rsplit(".", 1)[1],
         "change": {"actions": ["create"], "after": after, "after_unknown": unknown}}
        for type_, address, after, unknown in changes]}
    parsed = terraform_plan.parse(json.dumps(data), InputFile(None, "plan.json"), SourceContext(Path.cwd()))
    return {r.ref: r for r in parsed}


PROJECT = '''
resource "google_project" "prod" {
  name       = "prod"
  project_id = "acme-prod"
}
'''


def test_project_resources_relate_by_reference_value_or_provider_default():
    resources = tf(PROJECT + '''
resource "google_project_service" "by_reference" {
  project = google_project.prod.project_id
  service = "cloudasset.googleapis.com"
}
resource "google_project_service" "by_value" {
  project = "acme-prod"
  service = "compute.googleapis.com"
}
resource "google_project_service" "provider_default" {
  service = "dns.googleapis.com"
}
resource "google_project_service" "other" {
  project = "acme-shared"
  service = "cloudasset.googleapis.com"
}
''')
    items = inventory.build_from(list(resources.values())).related(
        resources["google_project.prod"], ["projectServices"])["projectServices"]
    found = {i["ref"]: (i["certain"], i.get("service")) for i in items}
    assert found == {"google_project_service.by_reference": (True, "cloudasset.googleapis.com"),
                     "google_project_service.by_value": (True, "compute.googleapis.com"),
                     "google_project_service.provider_default": (False, "dns.googleapis.com")}


def test_every_resource_on_the_provider_default_is_an_item():
    resources = tf(PROJECT + ''.join(f'''
resource "google_logging_metric" "m{n}" {{
  name   = "m{n}"
  filter = "resource.type=\\"gce_route\\""
}}
''' for n in range(3)))
    items = inventory.build_from(list(resources.values())).related(
        resources["google_project.prod"], ["logMetrics"])["logMetrics"]
    assert sorted((i["name"], i["metricName"]) for i in items if "filter" in i) == [
        ("google_logging_metric.m0", "m0"), ("google_logging_metric.m1", "m1"), ("google_logging_metric.m2", "m2")]
    assert not any(i["certain"] for i in items)


def test_alert_policies_name_the_metrics_their_conditions_refer_to():
    resources = tf(PROJECT + '''
resource "google_logging_metric" "routes" {
  project = google_project.prod.project_id
  name    = "routes"
  filter  = "resource.type=\\"gce_route\\""
}
resource "google_monitoring_alert_policy" "routes" {
  project      = google_project.prod.project_id
  display_name = "routes"
  combiner     = "OR"
  conditions {
    display_name = "routes"
    condition_threshold {
      filter     = "metric.type=\\"logging.googleapis.com/user/${google_logging_metric.routes.name}\\""
      comparison = "COMPARISON_GT"
    }
  }
}
''')
    [alert] = inventory.build_from(list(resources.values())).related(
        resources["google_project.prod"], ["alertPolicies"])["alertPolicies"]
    assert alert["metricRefs"] == ["google_logging_metric.routes"] and alert["opaqueFilters"] is False


def test_planned_alert_filters_are_known_and_an_unknown_one_is_opaque():
    resources = plan(
        ("google_project", "google_project.prod", {"project_id": "acme-prod", "name": "prod"}, {}),
        ("google_monitoring_alert_policy", "google_monitoring_alert_policy.known",
         {"project": "acme-prod", "conditions": [{"condition_threshold": [{"filter": "metric.type=\"x\""}]}]}, {}),
        ("google_monitoring_alert_policy", "google_monitoring_alert_policy.unknown",
         {"project": "acme-prod", "conditions": [{"condition_threshold": [{}]}]},
         {"conditions": [{"condition_threshold": [{"filter": True}]}]}),
    )
    items = inventory.build_from(list(resources.values())).related(
        resources["google_project.prod"], ["alertPolicies"])["alertPolicies"]
    found = {i["ref"]: (i["filters"], i["opaqueFilters"]) for i in items}
    assert found == {"google_monitoring_alert_policy.known": (['metric.type="x"'], False),
                     "google_monitoring_alert_policy.unknown": ([], True)}


def test_sinks_export_to_a_bucket_by_reference_or_prefixed_name():
    resources = tf('''
resource "google_storage_bucket" "logs" {
  name     = "acme-logs"
  location = "EU"
}
resource "google_logging_project_sink" "by_reference" {
  name        = "a"
  destination = "storage.googleapis.com/${google_storage_bucket.logs.name}"
}
resource "google_logging_organization_sink" "by_name" {
  name        = "b"
  org_id      = "1"
  destination = "storage.googleapis.com/acme-logs"
}
resource "google_logging_project_sink" "elsewhere" {
  name        = "c"
  destination = "bigquery.googleapis.com/projects/p/datasets/logs"
}
''')
    items = inventory.build_from(list(resources.values())).related(
        resources["google_storage_bucket.logs"], ["exportingSinks"])["exportingSinks"]
    assert {(i["ref"], i["certain"]) for i in items} == {("google_logging_project_sink.by_reference", True),
                                                        ("google_logging_organization_sink.by_name", True)}


def test_dns_policies_point_at_networks_from_their_blocks():
    resources = plan(
        ("google_compute_network", "google_compute_network.main",
         {"name": "main", "id": "projects/p/global/networks/main"}, {}),
        ("google_compute_network", "google_compute_network.other",
         {"name": "other", "id": "projects/p/global/networks/other"}, {}),
        ("google_dns_policy", "google_dns_policy.logging",
         {"name": "logging", "enable_logging": True,
          "networks": [{"network_url": "projects/p/global/networks/main"}]}, {}),
    )
    index = inventory.build_from(list(resources.values()))
    [item] = index.related(resources["google_compute_network.main"], ["dnsPolicies"])["dnsPolicies"]
    assert item["ref"] == "google_dns_policy.logging" and item["certain"] and item["logging"] is True
    assert index.related(resources["google_compute_network.other"], ["dnsPolicies"])["dnsPolicies"] == []


def test_project_grants_relate_within_one_project():
    resources = tf(PROJECT + '''
resource "google_project_iam_member" "admin" {
  project = google_project.prod.project_id
  role    = "roles/iam.serviceAccountAdmin"
  member  = "user:ops@example.com"
}
resource "google_project_iam_binding" "same_reference" {
  project = google_project.prod.project_id
  role    = "roles/iam.serviceAccountUser"
  members = ["user:ops@example.com"]
}
resource "google_project_iam_member" "literal" {
  project = "acme-other"
  role    = "roles/iam.serviceAccountUser"
  member  = "user:ops@example.com"
}
resource "google_project_iam_member" "variable" {
  project = var.project
  role    = "roles/iam.serviceAccountUser"
  member  = "user:ops@example.com"
}
''')
    index = inventory.build_from(list(resources.values()))
    items = index.related(resources["google_project_iam_member.admin"], ["projectIamGrants"])["projectIamGrants"]
    assert {i["ref"]: i["certain"] for i in items} == {"google_project_iam_binding.same_reference": True,
                                                       "google_project_iam_member.variable": False}
    [binding] = [i for i in items if i["ref"] == "google_project_iam_binding.same_reference"]
    assert binding["members"] == ["user:ops@example.com"] and binding["role"] == "roles/iam.serviceAccountUser"
    literal = index.related(resources["google_project_iam_member.literal"], ["projectIamGrants"])["projectIamGrants"]
    assert {i["ref"]: i["certain"] for i in literal} == {"google_project_iam_member.variable": False}


def test_every_resource_whose_project_is_not_known_is_a_possible_item():
    resources = tf(PROJECT + ''.join(f'''
resource "google_logging_metric" "m{n}" {{
  project = var.project_id
  name    = "m{n}"
  filter  = "resource.type=\\"gce_route\\""
}}
''' for n in range(3)))
    items = inventory.build_from(list(resources.values())).related(
        resources["google_project.prod"], ["logMetrics"])["logMetrics"]
    assert sorted((i["ref"], i["certain"]) for i in items) == [
        ("google_logging_metric.m0", False), ("google_logging_metric.m1", False), ("google_logging_metric.m2", False)]
