"""Kubernetes ValidatingAdmissionPolicy: export tdv policies for the API server to enforce
at deploy time, and import VAP manifests to evaluate them offline (see docs/vap.md)."""

API_VERSION = "admissionregistration.k8s.io/v1"
POLICY_KIND = "ValidatingAdmissionPolicy"
BINDING_KIND = "ValidatingAdmissionPolicyBinding"

# Annotations written on export, so that an import gives back the original policy's identity.
ANNOTATION_PREFIX = "tdv.dev/"
ID_ANNOTATION = ANNOTATION_PREFIX + "policy-id"
SEVERITY_ANNOTATION = ANNOTATION_PREFIX + "severity"
TITLE_ANNOTATION = ANNOTATION_PREFIX + "title"
CATEGORY_ANNOTATION = ANNOTATION_PREFIX + "category"

MANAGED_BY = {"app.kubernetes.io/managed-by": "tdv"}
