"""Terraform scan speed: N AWS resources as a plan JSON, and as .tf files.

Writes the same N resources (a mix of S3, security groups, RDS, EBS, IAM, KMS and EC2, about
one in ten breaking a policy) both as `terraform show -json` output and as .tf files (50
resource blocks per file, one module), then times in one run:

- `tdv scan` of the plan (run_scan: policy loading, reading, evaluation), against the
  budget of 0.5 s for 2,000 resources;
- `tdv scan` of the .tf directory, against 1.5 x the time python-hcl2 alone
  (`hcl2.load`) takes to parse the same files.

Each figure is the lowest CPU time of --repeat runs. The budgets are set for N = 2,000 (the default).
The plan figure includes loading every built-in policy and compiling those that target a
kind present in the scan (the scan compiles lazily); loading, that compilation, and what
compiling every policy up front would cost are shown apart.
Exits 1 when a budget is exceeded.

Usage: python bench/terraform.py [N] [--repeat 5] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import hcl2

from validator.pipeline import scan as run_scan
from validator.engine import Engine
from validator.engine.library import load_policies
from validator.model import Severity

PLAN_BUDGET = 0.5  # seconds, for 2,000 resources
HCL_RATIO_BUDGET = 1.5  # tdv scan of .tf files / hcl2.load of the same files
PER_FILE = 50
UNKNOWN = object()  # a value Terraform only knows after apply


def resources(count: int, seed: int = 1) -> list[tuple[str, str, dict[str, Any]]]:
    """(type, name, attributes); UNKNOWN marks values computed at apply time."""
    rng = random.Random(seed)
    makers = [_bucket, _bucket_acl, _bucket_versioning, _bucket_encryption, _security_group, _sg_rule,
              _db_instance, _ebs_volume, _iam_policy, _kms_key, _instance]
    return [makers[i % len(makers)](rng, i, rng.random() < 0.1) for i in range(count)]


def _bucket(rng: random.Random, i: int, bad: bool) -> tuple[str, str, dict[str, Any]]:
    return "aws_s3_bucket", f"b{i}", {"bucket": f"acme-data-{i}", "force_destroy": False,
                                       "tags": {"Team": rng.choice(["web", "data"]), "Env": "prod"}, "arn": UNKNOWN}


def _bucket_acl(rng: random.Random, i: int, bad: bool) -> tuple[str, str, dict[str, Any]]:
    return "aws_s3_bucket_acl", f"acl{i}", {"bucket": UNKNOWN, "acl": "public-read" if bad else "private"}


def _bucket_versioning(rng: random.Random, i: int, bad: bool) -> tuple[str, str, dict[str, Any]]:
    return "aws_s3_bucket_versioning", f"v{i}", {
        "bucket": UNKNOWN, "versioning_configuration": [{"status": "Suspended" if bad else "Enabled"}]}


def _bucket_encryption(rng: random.Random, i: int, bad: bool) -> tuple[str, str, dict[str, Any]]:
    default = [] if bad else [{"sse_algorithm": "aws:kms", "kms_master_key_id": UNKNOWN}]
    return "aws_s3_bucket_server_side_encryption_configuration", f"e{i}", {
        "bucket": UNKNOWN, "rule": [{"apply_server_side_encryption_by_default": default, "bucket_key_enabled": True}]}


def _security_group(rng: random.Random, i: int, bad: bool) -> tuple[str, str, dict[str, Any]]:
    ingress = [{"from_port": 443, "to_port": 443, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"],
                "ipv6_cidr_blocks": ["::/0"], "description": "https"},
               {"from_port": 22, "to_port": 22, "protocol": "tcp",
                "cidr_blocks": ["0.0.0.0/0" if bad else "10.20.0.0/16"], "ipv6_cidr_blocks": [], "description": "ssh"}]
    return "aws_security_group", f"sg{i}", {"name": f"sg-{i}", "description": "web tier", "ingress": ingress,
                                             "vpc_id": UNKNOWN, "id": UNKNOWN}


def _sg_rule(rng: random.Random, i: int, bad: bool) -> tuple[str, str, dict[str, Any]]:
    return "aws_security_group_rule", f"r{i}", {
        "type": "ingress", "from_port": 3389, "to_port": 3389, "protocol": "tcp",
        "cidr_blocks": ["0.0.0.0/0" if bad else "192.168.0.0/16"], "security_group_id": UNKNOWN}


def _db_instance(rng: random.Random, i: int, bad: bool) -> tuple[str, str, dict[str, Any]]:
    return "aws_db_instance", f"db{i}", {
        "identifier": f"db-{i}", "engine": "postgres", "instance_class": "db.t4g.medium", "allocated_storage": 50,
        "publicly_accessible": bad, "storage_encrypted": not bad, "username": "app", "endpoint": UNKNOWN}


def _ebs_volume(rng: random.Random, i: int, bad: bool) -> tuple[str, str, dict[str, Any]]:
    return "aws_ebs_volume", f"vol{i}", {"availability_zone": "eu-west-1a", "size": rng.choice([20, 100, 500]),
                                          "encrypted": not bad, "kms_key_id": UNKNOWN}


def _iam_policy(rng: random.Random, i: int, bad: bool) -> tuple[str, str, dict[str, Any]]:
    action = "*" if bad else ["s3:GetObject", "s3:PutObject"]
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]}
    return "aws_iam_policy", f"p{i}", {"name": f"policy-{i}", "path": "/", "policy": document, "arn": UNKNOWN}


def _kms_key(rng: random.Random, i: int, bad: bool) -> tuple[str, str, dict[str, Any]]:
    return "aws_kms_key", f"k{i}", {"description": f"key {i}", "enable_key_rotation": not bad,
                                     "deletion_window_in_days": 30, "key_id": UNKNOWN}


def _instance(rng: random.Random, i: int, bad: bool) -> tuple[str, str, dict[str, Any]]:
    return "aws_instance", f"i{i}", {
        "ami": "ami-0abcdef1234567890", "instance_type": rng.choice(["t3.micro", "m7g.large"]),
        "metadata_options": [{"http_endpoint": "enabled", "http_tokens": "optional" if bad else "required"}],
        "root_block_device": [{"volume_size": 20, "encrypted": True}], "private_ip": UNKNOWN}


# --- as a plan -------------------------------------------------------------------------

def plan_document(items: list[tuple[str, str, dict[str, Any]]]) -> dict[str, Any]:
    changes, planned = [], []
    for type_, name, attributes in items:
        after, unknown = _split(attributes)
        address = f"{type_}.{name}"
        common = {"address": address, "mode": "managed", "type": type_, "name": name,
                  "provider_name": "registry.terraform.io/hashicorp/aws"}
        changes.append(common | {"change": {"actions": ["create"], "before": None, "after": after,
                                            "after_unknown": unknown, "before_sensitive": False, "after_sensitive": {}}})
        planned.append(common | {"schema_version": 0, "values": after, "sensitive_values": {}})
    return {"format_version": "1.2", "terraform_version": "1.9.5",
            "planned_values": {"root_module": {"resources": planned}}, "resource_changes": changes}


def _split(value: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    known, unknown = {}, {}
    for key, item in value.items():
        if item is UNKNOWN:
            unknown[key] = True
        elif key == "policy":
            known[key] = json.dumps(item)
        elif isinstance(item, list) and item and isinstance(item[0], dict):
            parts = [_split(element) for element in item]
            known[key] = [p[0] for p in parts]
            unknown[key] = [p[1] for p in parts]
        else:
            known[key] = item
    return known, unknown


# --- as .tf files ----------------------------------------------------------------------

def hcl_block(type_: str, name: str, attributes: dict[str, Any]) -> str:
    lines = [f'resource "{type_}" "{name}" {{']
    lines += _hcl_body(attributes, "  ")
    return "\n".join(lines + ["}", ""])


def _hcl_body(attributes: dict[str, Any], indent: str) -> list[str]:
    lines = []
    for key, value in attributes.items():
        if value is UNKNOWN:
            continue  # computed: not written in configuration
        if key == "policy":
            lines.append(f"{indent}{key} = jsonencode({_hcl_value(value)})")
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for block in value:
                lines += [f"{indent}{key} {{", *_hcl_body(block, indent + "  "), f"{indent}}}"]
        else:
            lines.append(f"{indent}{key} = {_hcl_value(value)}")
    return lines


def _hcl_value(value: Any) -> str:
    if value is UNKNOWN:
        return "aws_vpc.main.id"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_hcl_value(v) for v in value) + "]"
    return "{ " + ", ".join(f"{k} = {_hcl_value(v)}" for k, v in value.items()) + " }"


def write_inputs(count: int, directory: Path) -> tuple[Path, Path]:
    items = resources(count)
    plan = directory / "plan" / "plan.json"
    plan.parent.mkdir(parents=True, exist_ok=True)
    plan.write_text(json.dumps(plan_document(items)))
    module = directory / "module"
    module.mkdir(exist_ok=True)
    for start in range(0, len(items), PER_FILE):
        text = "\n".join(hcl_block(*item) for item in items[start:start + PER_FILE])
        (module / f"resources_{start // PER_FILE:03d}.tf").write_text(text)
    return plan, module


# --- timing ----------------------------------------------------------------------------

def best(repeat: int, action: Callable[[], Any]) -> tuple[float, Any]:
    """The lowest CPU time of this process over `repeat` runs (other load on the machine does
    not count; a scan is single-threaded, so on an idle machine it is the wall time)."""
    times, result = [], None
    for _ in range(repeat):
        started = time.process_time()
        result = action()
        times.append(time.process_time() - started)
    return min(times), result


def scan(path: Path) -> Any:
    return run_scan([str(path)], fail_on=Severity.LOW, root=path.parent)


def parse_with_hcl2(module: Path) -> int:
    blocks = 0
    for file in sorted(module.glob("*.tf")):
        with open(file, encoding="utf-8") as handle:
            blocks += len(hcl2.load(handle).get("resource", []))
    return blocks


def compile_for(kinds: set[str]) -> Callable[[], int]:
    """Compile the built-in policies that target one of `kinds` (all of them when empty)."""
    policies = [p for p in load_policies([]) if not kinds or kinds & set(p.targets.kinds)]
    return lambda: len(Engine.build(policies).compiled)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("count", nargs="?", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="write the inputs here and keep them")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        directory = args.keep or Path(temporary)
        directory.mkdir(parents=True, exist_ok=True)
        plan, module = write_inputs(args.count, directory)
        empty = write_inputs(0, directory / "empty")[0]
        scan(plan)  # warm up: imports and the parser's grammar cache
        plan_time, plan_report = best(args.repeat, lambda: scan(plan))
        fixed_time, _ = best(args.repeat, lambda: scan(empty))
        hcl2_time, blocks = best(args.repeat, lambda: parse_with_hcl2(module))
        tf_time, tf_report = best(args.repeat, lambda: scan(module))
        load_time, loaded = best(args.repeat, lambda: len(load_policies([])))
        needed_time, needed = best(args.repeat, compile_for({type_ for type_, _, _ in resources(args.count)}))
        all_time, _ = best(args.repeat, compile_for(set()))
    ratio = tf_time / hcl2_time
    print(f"plan JSON: {plan_report.resources_scanned} resources, {len(plan_report.failures)} failing checks,"
          f" {plan_time:.3f} s (budget {PLAN_BUDGET} s), of which {fixed_time:.3f} s for a scan of an empty plan")
    print(f"policies: loading {loaded} takes {load_time:.3f} s; compiling the {needed} that target the scanned"
          f" kinds {needed_time:.3f} s (compiling all {loaded} up front would take {all_time:.3f} s)")
    print(f".tf files: {tf_report.resources_scanned} resources, {len(tf_report.failures)} failing checks,"
          f" {tf_time:.3f} s; hcl2.load alone {hcl2_time:.3f} s for {blocks} blocks:"
          f" {ratio:.2f}x (budget {HCL_RATIO_BUDGET}x)")
    ok = plan_time <= PLAN_BUDGET and ratio <= HCL_RATIO_BUDGET and not plan_report.errors and not tf_report.errors
    print("within budget" if ok else "OVER BUDGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
