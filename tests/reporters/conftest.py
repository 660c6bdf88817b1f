"""Realistic scan reports for the reporter tests: small manifests (and one policy) scanned by
the real pipeline. Test modules get everything through fixtures, so they import nothing from
here and work in any pytest import mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import scan_paths, write

# Values that must never be copied from the inputs into a report.
ENV_SECRET = "hunter2-env-secret-value"
SECRET_DATA = "c3VwZXItc2VjcmV0LXRva2Vu"
SECRET_STRING = "plain-secret-string-value"

APP = f"""\
# Source: shop/templates/web.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    spec:
      containers:
        - name: app
          image: nginx:1.27
          env:
            - name: DB_PASSWORD
              value: {ENV_SECRET}
          securityContext:
            privileged: true
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
data:
  mode: production
"""

SECRET = f"""\
apiVersion: v1
kind: Secret
metadata:
  name: creds
  namespace: shop
  labels:
    app.kubernetes.io/name: shop
    app.kubernetes.io/instance: shop-prod
data:
  token: {SECRET_DATA}
stringData:
  password: {SECRET_STRING}
"""

BROKEN = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: [broken
"""

# A policy that reads a field the Deployment above does not have, so its evaluation fails.
FRAGILE_POLICY = """\
id: TDV-TEST-900
title: Replicas are read without a default
severity: medium
category: resilience
description: Reads spec.replicas, which may be absent.
remediation: Set spec.replicas.
standards:
  internal: ["test"]
targets:
  kinds: [Deployment]
validations:
  - expression: "object.spec.replicas > 1"
    message: "too few replicas"
"""


def write_manifests(root: Path, prefix: str = "") -> Path:
    """The standard input tree under root/manifests; returns the directory."""
    manifests = root / "manifests"
    write(manifests / "app.yaml", prefix + APP)
    write(manifests / "secret.yaml", SECRET)
    write(manifests / "broken.yaml", BROKEN)
    return manifests


def scan(root: Path, *paths: Path, **options):
    return scan_paths(paths, root=root, **options)


@pytest.fixture
def secrets() -> tuple[str, ...]:
    """Values from the inputs that no report may contain."""
    return ENV_SECRET, SECRET_DATA, SECRET_STRING


@pytest.fixture
def app_text() -> str:
    return APP


@pytest.fixture
def write_file():
    return write


@pytest.fixture
def scan_tree():
    """scan_tree(root, *paths, **options): run a scan, paths reported relative to root."""
    return scan


@pytest.fixture
def input_tree():
    """input_tree(root, prefix=""): write the standard inputs under root/manifests."""
    return write_manifests


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    return write_manifests(tmp_path)


@pytest.fixture
def report(tmp_path: Path, manifests: Path):
    return scan(tmp_path, manifests)


@pytest.fixture
def report_with_evaluation_error(tmp_path: Path, manifests: Path):
    policies = tmp_path / "extra-policies"
    write(policies / "TDV-TEST-900.yaml", FRAGILE_POLICY)
    return scan(tmp_path, manifests, policy_dirs=[policies])
