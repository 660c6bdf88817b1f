"""What the ValidatingAdmissionPolicy tests share."""

# Built-in Kubernetes policies the API server cannot enforce, with the reason. Keep it empty
# where possible: a policy listed here is checked offline only.
NOT_EXPORTABLE: dict[str, str] = {
    # The API server refuses a version it no longer serves before any admission policy sees it.
    "TDV-K8S-104": "removed API versions never reach admission",
}
