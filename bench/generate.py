"""Write N realistic Kubernetes resources, about 50 per file, into a directory.

The mix is roughly 40% Deployments, 30% Services and 30% ConfigMaps, with the fields real
manifests carry (labels, annotations, probes, resources, env vars, volumes). About one
workload in ten breaks a policy (a privileged container, missing recommended labels), so
that reporters have findings to write. Output is deterministic for a given seed.

Usage: python bench/generate.py N DIRECTORY [--per-file 50] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path
from typing import Any

import yaml

TEAMS = ["payments", "search", "checkout", "identity", "catalog", "shipping", "ads", "ml"]
IMAGES = ["nginx:1.27.2", "ghcr.io/acme/api:2.14.0", "redis:7.4-alpine", "envoyproxy/envoy:v1.31.2",
          "registry.example.com/shop/worker@sha256:" + "ab" * 32]


def labels(rng: random.Random, name: str, complete: bool) -> dict[str, str]:
    result = {"app": name, "team": rng.choice(TEAMS), "tier": rng.choice(["frontend", "backend", "data"])}
    if complete:
        result |= {
            "app.kubernetes.io/name": name,
            "app.kubernetes.io/instance": f"{name}-prod",
            "app.kubernetes.io/version": f"{rng.randint(1, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}",
            "app.kubernetes.io/managed-by": "helm",
            "app.kubernetes.io/part-of": "shop",
        }
    return result


def metadata(rng: random.Random, name: str, namespace: str, complete: bool) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": namespace,
        "labels": labels(rng, name, complete),
        "annotations": {
            "owner": f"{rng.choice(TEAMS)}@example.com",
            "runbook": f"https://runbooks.example.com/{name}",
            "deploy.example.com/revision": str(rng.randint(1, 500)),
        },
    }


def container(rng: random.Random, name: str, owner: str, privileged: bool) -> dict[str, Any]:
    port = rng.choice([80, 8080, 8443, 9090])
    probe = {"httpGet": {"path": "/healthz", "port": port}, "initialDelaySeconds": 5, "periodSeconds": 10}
    env = [{"name": f"FEATURE_{i}", "value": str(rng.random() > 0.5).lower()} for i in range(rng.randint(2, 6))]
    env.append({"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": f"{owner}-db", "key": "password"}}})
    env.append({"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}})
    security: dict[str, Any] = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}}
    if privileged:
        security = {"privileged": True}
    return {
        "name": name,
        "image": rng.choice(IMAGES),
        "imagePullPolicy": "IfNotPresent",
        "args": ["--port", str(port), "--log-level", rng.choice(["info", "debug"])],
        "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
        "env": env,
        "resources": {"requests": {"cpu": f"{rng.choice([50, 100, 250])}m", "memory": f"{rng.choice([64, 128, 256])}Mi"},
                      "limits": {"cpu": "1", "memory": f"{rng.choice([256, 512, 1024])}Mi"}},
        "livenessProbe": probe,
        "readinessProbe": dict(probe, httpGet=dict(probe["httpGet"]), periodSeconds=5),
        "securityContext": security,
        "volumeMounts": [{"name": "config", "mountPath": "/etc/app", "readOnly": True},
                         {"name": "tmp", "mountPath": "/tmp"}],
    }


def deployment(rng: random.Random, index: int, namespace: str) -> dict[str, Any]:
    name = f"svc-{index}"
    violating = rng.random() < 0.1
    containers = [container(rng, "app", name, privileged=violating and rng.random() < 0.5)]
    if rng.random() < 0.3:
        containers.append(container(rng, "sidecar", name, privileged=False))
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(rng, name, namespace, complete=not violating),
        "spec": {
            "replicas": rng.randint(1, 6),
            "selector": {"matchLabels": {"app": name}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": {"app": name}, "annotations": {"prometheus.io/scrape": "true"}},
                "spec": {
                    "serviceAccountName": name,
                    "securityContext": {"runAsUser": 10001, "fsGroup": 10001},
                    "containers": containers,
                    "volumes": [{"name": "config", "configMap": {"name": f"{name}-config"}},
                                {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
                    "nodeSelector": {"kubernetes.io/os": "linux"},
                    "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "apps", "effect": "NoSchedule"}],
                },
            },
        },
    }


def service(rng: random.Random, index: int, namespace: str) -> dict[str, Any]:
    name = f"svc-{index}"
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(rng, name, namespace, complete=rng.random() > 0.1),
        "spec": {
            "type": rng.choice(["ClusterIP", "ClusterIP", "NodePort"]),
            "selector": {"app": name},
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def config_map(rng: random.Random, index: int, namespace: str) -> dict[str, Any]:
    name = f"svc-{index}-config"
    settings = "\n".join(f"setting_{i} = {rng.randint(0, 10_000)}" for i in range(rng.randint(5, 20)))
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(rng, name, namespace, complete=rng.random() > 0.1),
        "data": {"LOG_FORMAT": "json", "CACHE_TTL": str(rng.randint(10, 600)), "app.ini": settings + "\n"},
    }


def resources(count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    makers = [deployment] * 4 + [service] * 3 + [config_map] * 3
    return [makers[i % len(makers)](rng, i, f"team-{rng.choice(TEAMS)}") for i in range(count)]


def write(count: int, directory: Path, per_file: int = 50, seed: int = 1) -> list[Path]:
    """Write `count` resources as multi-document YAML files; returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    items = resources(count, seed)
    written = []
    for start in range(0, count, per_file):
        path = directory / f"manifests-{start // per_file:04d}.yaml"
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        path.write_text(yaml.dump_all(items[start:start + per_file], Dumper=dumper, sort_keys=False), encoding="utf-8")
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--per-file", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    files = write(args.count, args.directory, args.per_file, args.seed)
    size = sum(f.stat().st_size for f in files)
    print(f"wrote {args.count} resources in {len(files)} files ({size / 1e6:.1f} MB) to {args.directory}")


if __name__ == "__main__":
    main()
