"""Built-in Kubernetes kinds (and the custom kinds of `@pod-bearing`) and the API resources
that admission rules name them by.

A ValidatingAdmissionPolicy matches requests by API group and resource (`deployments`),
while tdv policies target kinds (`Deployment`). This table converts both ways; a kind
that is not here (a custom resource, a Terraform type) cannot be exported.
"""

from __future__ import annotations

# kind -> (API group, resource)
KINDS: dict[str, tuple[str, str]] = {
    "Pod": ("", "pods"),
    "Service": ("", "services"),
    "ConfigMap": ("", "configmaps"),
    "Secret": ("", "secrets"),
    "ServiceAccount": ("", "serviceaccounts"),
    "PersistentVolumeClaim": ("", "persistentvolumeclaims"),
    "PersistentVolume": ("", "persistentvolumes"),
    "Namespace": ("", "namespaces"),
    "Node": ("", "nodes"),
    "ReplicationController": ("", "replicationcontrollers"),
    "Endpoints": ("", "endpoints"),
    "LimitRange": ("", "limitranges"),
    "ResourceQuota": ("", "resourcequotas"),
    "PodTemplate": ("", "podtemplates"),
    "Deployment": ("apps", "deployments"),
    "StatefulSet": ("apps", "statefulsets"),
    "DaemonSet": ("apps", "daemonsets"),
    "ReplicaSet": ("apps", "replicasets"),
    "ControllerRevision": ("apps", "controllerrevisions"),
    "Job": ("batch", "jobs"),
    "CronJob": ("batch", "cronjobs"),
    "HorizontalPodAutoscaler": ("autoscaling", "horizontalpodautoscalers"),
    "PodDisruptionBudget": ("policy", "poddisruptionbudgets"),
    "Ingress": ("networking.k8s.io", "ingresses"),
    "IngressClass": ("networking.k8s.io", "ingressclasses"),
    "NetworkPolicy": ("networking.k8s.io", "networkpolicies"),
    "EndpointSlice": ("discovery.k8s.io", "endpointslices"),
    "Role": ("rbac.authorization.k8s.io", "roles"),
    "ClusterRole": ("rbac.authorization.k8s.io", "clusterroles"),
    "RoleBinding": ("rbac.authorization.k8s.io", "rolebindings"),
    "ClusterRoleBinding": ("rbac.authorization.k8s.io", "clusterrolebindings"),
    "StorageClass": ("storage.k8s.io", "storageclasses"),
    "CSIDriver": ("storage.k8s.io", "csidrivers"),
    "VolumeAttachment": ("storage.k8s.io", "volumeattachments"),
    "PriorityClass": ("scheduling.k8s.io", "priorityclasses"),
    "RuntimeClass": ("node.k8s.io", "runtimeclasses"),
    "Lease": ("coordination.k8s.io", "leases"),
    "CertificateSigningRequest": ("certificates.k8s.io", "certificatesigningrequests"),
    "CustomResourceDefinition": ("apiextensions.k8s.io", "customresourcedefinitions"),
    "ValidatingWebhookConfiguration": ("admissionregistration.k8s.io", "validatingwebhookconfigurations"),
    "MutatingWebhookConfiguration": ("admissionregistration.k8s.io", "mutatingwebhookconfigurations"),
    "ValidatingAdmissionPolicy": ("admissionregistration.k8s.io", "validatingadmissionpolicies"),
    "ValidatingAdmissionPolicyBinding": ("admissionregistration.k8s.io", "validatingadmissionpolicybindings"),
    # Custom resources with a pod template that the pod policies check (see engine.policy.POD_BEARING)
    "DeploymentConfig": ("apps.openshift.io", "deploymentconfigs"),
    "Rollout": ("argoproj.io", "rollouts"),
}

# (API group, resource) -> kind
RESOURCES: dict[tuple[str, str], str] = {value: kind for kind, value in KINDS.items()}

