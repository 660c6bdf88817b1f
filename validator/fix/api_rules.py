"""The checks of the Kubernetes API server that a fixed object must still pass.

A fix must never turn an object the API server accepts into one it rejects. These are our
own checks, written from the rules the API server applies when it validates a pod spec,
a container and object metadata (Kubernetes pkg/apis/core/validation), limited to the
fields a fix can write or that decide whether such a write is valid:

- `allowPrivilegeEscalation: false` is refused beside `privileged: true` and beside
  `CAP_SYS_ADMIN` in `capabilities.add` (the API compares that exact spelling);
- `runAsUser`, `runAsGroup` and `fsGroup` are whole numbers from 0 to 2147483647;
- a seccomp or AppArmor profile has a known type, and `localhostProfile` is set exactly
  when the type is `Localhost`;
- `procMount` is `Default` or `Unmasked`; `imagePullPolicy` is `Always`, `IfNotPresent`
  or `Never`; the boolean fields hold booleans;
- a pod with `os.name: windows` sets none of the Linux-only security fields, and one with
  `os.name: linux` no `windowsOptions`; `hostProcess` is the same for every container and
  needs `hostNetwork: true`;
- requests are at most the limits of the same resource, as quantities; an ephemeral
  container has no `resources`;
- label keys and values have the shape the API accepts (a value at most 63 characters).

One rule is the kubelet's, not the API server's: a container with `runAsNonRoot: true`
and an effective `runAsUser: 0` is accepted but never starts.

`problems(document)` lists what is wrong with an object; a fix is safe when it adds no
problem to those the object had already. `COVERED` names the fields these rules know, as a
fix writes them (from a container, from the pod spec, or from the object); a test holds
every Kubernetes fix in policies/ to it, so a new fix comes with the rules of its field.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any, Iterator

from validator.engine.policy import POD_BEARING
from validator.pod_templates import pod_spec_path

COVERED = frozenset({
    "securityContext.allowPrivilegeEscalation", "securityContext.runAsNonRoot", "securityContext.runAsUser",
    "securityContext.runAsGroup", "securityContext.privileged", "securityContext.readOnlyRootFilesystem",
    "securityContext.procMount", "securityContext.capabilities.drop", "securityContext.capabilities.add",
    "securityContext.seccompProfile.type", "securityContext.appArmorProfile.type", "imagePullPolicy",
    "resources.requests.cpu", "resources.limits.cpu", "resources.requests.memory", "resources.limits.memory",
    "automountServiceAccountToken", "metadata.labels[*]", "terminationGracePeriodSeconds", "dnsPolicy",
    "spec.paused", "spec.revisionHistoryLimit", "spec.failedJobsHistoryLimit", "spec.unhealthyPodEvictionPolicy",
})
_DNS_POLICIES = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
_EVICTION_POLICIES = ("IfHealthyBudget", "AlwaysAllow")
# Workload spec fields a fix may write: a count that cannot be negative, or a boolean.
_WORKLOAD_COUNTS = {"Deployment": ("revisionHistoryLimit",), "StatefulSet": ("revisionHistoryLimit",),
                    "DaemonSet": ("revisionHistoryLimit",),
                    "CronJob": ("failedJobsHistoryLimit", "successfulJobsHistoryLimit")}
_MAX_ID = 2**31 - 1
_PROFILE_TYPES = ("RuntimeDefault", "Unconfined", "Localhost")
_PULL_POLICIES = ("Always", "IfNotPresent", "Never")
_PROC_MOUNTS = ("Default", "Unmasked")
_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
_BOOLEANS = ("privileged", "allowPrivilegeEscalation", "readOnlyRootFilesystem", "runAsNonRoot")
# Container securityContext fields the API refuses in a pod with os.name: windows.
_LINUX_ONLY_CONTAINER = ("seLinuxOptions", "seccompProfile", "appArmorProfile", "capabilities",
                         "readOnlyRootFilesystem", "privileged", "allowPrivilegeEscalation", "procMount",
                         "runAsUser", "runAsGroup")
_LINUX_ONLY_POD = ("seLinuxOptions", "seccompProfile", "appArmorProfile", "fsGroup", "fsGroupChangePolicy",
                   "sysctls", "runAsUser", "runAsGroup", "supplementalGroups", "supplementalGroupsPolicy")
_LABEL_VALUE = re.compile(r"^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
_LABEL_NAME = re.compile(r"^[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$")
_QUANTITY = re.compile(r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$")
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL: dict[str, Fraction | int] = {
    "n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000),
    "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
}


def problems(document: Any) -> set[str]:
    """What the API server (or, for one rule, the kubelet) would refuse in this object."""
    if not isinstance(document, dict):
        return set()
    found: set[str] = set()
    _labels(document.get("metadata"), "metadata", found)
    kind = document.get("kind")
    if kind == "CronJob":
        _labels(_get(document, ("spec", "jobTemplate", "metadata")), "spec.jobTemplate.metadata", found)
    _workload_spec(document, str(kind), found)
    spec_path = pod_spec_path(str(kind))
    pod = _get(document, spec_path)
    if kind in POD_BEARING and isinstance(pod, dict):
        if kind != "Pod":
            metadata_path = spec_path[:-1] + ("metadata",)
            _labels(_get(document, metadata_path), ".".join(map(str, metadata_path)), found)
        _pod(pod, ".".join(map(str, spec_path)), found)
    return found


def _workload_spec(document: dict, kind: str, found: set[str]) -> None:
    spec = document.get("spec")
    if not isinstance(spec, dict):
        return
    for name in _WORKLOAD_COUNTS.get(kind, ()):
        _count(spec, name, "spec", found)
    if kind == "Deployment":
        _boolean(spec, "paused", "spec", found)
    policy = spec.get("unhealthyPodEvictionPolicy")
    if kind == "PodDisruptionBudget" and policy is not None and policy not in _EVICTION_POLICIES:
        found.add(f"spec.unhealthyPodEvictionPolicy: must be one of {', '.join(_EVICTION_POLICIES)}")


def _pod(pod: dict, where: str, found: set[str]) -> None:
    _boolean(pod, "automountServiceAccountToken", where, found)
    _count(pod, "terminationGracePeriodSeconds", where, found)
    dns = pod.get("dnsPolicy")
    if dns is not None and dns not in _DNS_POLICIES:
        found.add(f"{where}.dnsPolicy: must be one of {', '.join(_DNS_POLICIES)}")
    context = pod.get("securityContext")
    context = context if isinstance(context, dict) else {}
    os_name = _get(pod, ("os", "name"))
    for name in ("runAsUser", "runAsGroup", "fsGroup"):
        _id(context, name, f"{where}.securityContext", found)
    _boolean(context, "runAsNonRoot", f"{where}.securityContext", found)
    for name in ("seccompProfile", "appArmorProfile"):
        _profile(context.get(name), f"{where}.securityContext.{name}", found)
    _os_fields(context, _LINUX_ONLY_POD, f"{where}.securityContext", os_name, found)
    pod_host_process = _get(context, ("windowsOptions", "hostProcess"))
    effective_host_process = []
    for list_name, index, container in _containers(pod):
        at = f"{where}.{list_name}[{index}]"
        _container(container, at, context, os_name, list_name, found)
        own = _get(container, ("securityContext", "windowsOptions", "hostProcess"))
        effective_host_process.append(own if own is not None else pod_host_process)
    if any(value is True for value in effective_host_process):
        if not all(value is True for value in effective_host_process):
            found.add(f"{where}: either every container is a Windows HostProcess container or none is")
        if pod.get("hostNetwork") is not True:
            found.add(f"{where}.hostNetwork: must be true for Windows HostProcess containers")


def _container(container: dict, at: str, pod_context: dict, os_name: Any, list_name: str, found: set[str]) -> None:
    policy = container.get("imagePullPolicy")
    if policy is not None and policy not in _PULL_POLICIES:
        found.add(f"{at}.imagePullPolicy: must be one of {', '.join(_PULL_POLICIES)}")
    resources = container.get("resources")
    if list_name == "ephemeralContainers" and resources is not None:
        found.add(f"{at}.resources: may not be set on an ephemeral container")
    elif isinstance(resources, dict):
        _resources(resources, f"{at}.resources", found)
    context = container.get("securityContext")
    if context is None:
        context = {}
    if not isinstance(context, dict):
        found.add(f"{at}.securityContext: must be a mapping")
        return
    _container_context(context, f"{at}.securityContext", pod_context, os_name, found)


def _container_context(context: dict, where: str, pod_context: dict, os_name: Any, found: set[str]) -> None:
    for name in _BOOLEANS:
        _boolean(context, name, where, found)
    for name in ("runAsUser", "runAsGroup"):
        _id(context, name, where, found)
    proc_mount = context.get("procMount")
    if proc_mount is not None and proc_mount not in _PROC_MOUNTS:
        found.add(f"{where}.procMount: must be one of {', '.join(_PROC_MOUNTS)}")
    for name in ("seccompProfile", "appArmorProfile"):
        _profile(context.get(name), f"{where}.{name}", found)
    if context.get("allowPrivilegeEscalation") is False:
        if context.get("privileged") is True:
            found.add(f"{where}: allowPrivilegeEscalation cannot be false when privileged is true")
        added = _get(context, ("capabilities", "add"))
        if isinstance(added, list) and "CAP_SYS_ADMIN" in added:
            found.add(f"{where}: allowPrivilegeEscalation cannot be false when capabilities.add has CAP_SYS_ADMIN")
    _os_fields(context, _LINUX_ONLY_CONTAINER, where, os_name, found)
    non_root = context.get("runAsNonRoot", pod_context.get("runAsNonRoot"))
    user = context.get("runAsUser", pod_context.get("runAsUser"))
    if non_root is True and user == 0 and user is not False:
        found.add(f"{where}: runAsNonRoot is true and runAsUser is 0, so the kubelet never starts the container")


def _resources(resources: dict, where: str, found: set[str]) -> None:
    requests, limits = resources.get("requests"), resources.get("limits")
    parsed: dict[str, dict[str, Fraction]] = {}
    for name, values in (("requests", requests), ("limits", limits)):
        if values is None:
            continue
        if not isinstance(values, dict):
            found.add(f"{where}.{name}: must be a mapping")
            continue
        parsed[name] = {}
        for resource, value in values.items():
            quantity = quantity_value(value)
            if quantity is None or quantity < 0:
                found.add(f"{where}.{name}.{resource}: {value!r} is not a valid quantity")
            else:
                parsed[name][str(resource)] = quantity
    for resource, request in parsed.get("requests", {}).items():
        limit = parsed.get("limits", {}).get(resource)
        if limit is not None and request > limit:
            found.add(f"{where}.requests.{resource}: must be less than or equal to the {resource} limit")


def quantity_value(value: Any) -> Fraction | None:
    """A Kubernetes quantity (`500m`, `1.5Gi`, `2`, `1e3`) as an exact number, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        return Fraction(value) if value == value and abs(value) != float("inf") else None
    if not isinstance(value, str):
        return None
    match = _QUANTITY.match(value)
    if not match:
        return None
    number, suffix = Fraction(match.group(1)), match.group(2)
    if not suffix:
        return number
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix in _DECIMAL:
        return number * _DECIMAL[suffix]
    exponent = int(suffix[1:])
    return number * 10**exponent if exponent >= 0 else number / 10**-exponent


def _labels(metadata: Any, where: str, found: set[str]) -> None:
    labels = metadata.get("labels") if isinstance(metadata, dict) else None
    if not isinstance(labels, dict):
        return
    for key, value in labels.items():
        if not _qualified_name(key):
            found.add(f"{where}.labels: {key!r} is not a valid label key")
        if not isinstance(value, str) or len(value) > 63 or not _LABEL_VALUE.match(value):
            found.add(f"{where}.labels[{key!r}]: a label value is at most 63 letters, digits, '-', '_' or '.',"
                      " starting and ending with a letter or digit")


def _qualified_name(key: Any) -> bool:
    if not isinstance(key, str):
        return False
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return False
    return 0 < len(name) <= 63 and bool(_LABEL_NAME.match(name))


def _profile(profile: Any, where: str, found: set[str]) -> None:
    if profile is None:
        return
    if not isinstance(profile, dict):
        found.add(f"{where}: must be a mapping")
        return
    kind, local = profile.get("type"), profile.get("localhostProfile")
    if kind not in _PROFILE_TYPES:
        found.add(f"{where}.type: must be one of {', '.join(_PROFILE_TYPES)}")
    if kind == "Localhost" and not (isinstance(local, str) and local):
        found.add(f"{where}.localhostProfile: is required when the type is Localhost")
    if kind != "Localhost" and local is not None:
        found.add(f"{where}.localhostProfile: may only be set when the type is Localhost")


def _os_fields(context: dict, linux_only: tuple[str, ...], where: str, os_name: Any, found: set[str]) -> None:
    """The API refuses Linux-only securityContext fields in a Windows pod, and windowsOptions
    in a Linux pod (os.name set; unset allows both)."""
    if os_name == "windows":
        for name in linux_only:
            if context.get(name) is not None:
                found.add(f"{where}.{name}: may not be set in a Windows pod (os.name: windows)")
    elif os_name == "linux" and context.get("windowsOptions") is not None:
        found.add(f"{where}.windowsOptions: may not be set in a Linux pod (os.name: linux)")


def _boolean(mapping: Any, name: str, where: str, found: set[str]) -> None:
    if isinstance(mapping, dict) and mapping.get(name) is not None and not isinstance(mapping[name], bool):
        found.add(f"{where}.{name}: must be true or false")


def _count(mapping: dict, name: str, where: str, found: set[str]) -> None:
    value = mapping.get(name)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        found.add(f"{where}.{name}: must be a whole number, 0 or more")


def _id(mapping: dict, name: str, where: str, found: set[str]) -> None:
    value = mapping.get(name)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_ID):
        found.add(f"{where}.{name}: must be a whole number from 0 to {_MAX_ID}")


def _containers(pod: dict) -> Iterator[tuple[str, int, dict]]:
    for list_name in _CONTAINER_LISTS:
        items = pod.get(list_name)
        if isinstance(items, list):
            for index, container in enumerate(items):
                if isinstance(container, dict):
                    yield list_name, index, container


def _get(value: Any, path: tuple) -> Any:
    for segment in path:
        if not isinstance(value, dict):
            return None
        value = value.get(segment)
    return value
