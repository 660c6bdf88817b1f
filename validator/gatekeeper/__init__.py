"""OPA Gatekeeper ConstraintTemplates and Constraints as tdv policies (see docs/rego.md)."""

TEMPLATE_GROUP = "templates.gatekeeper.sh/"
CONSTRAINT_GROUP = "constraints.gatekeeper.sh/"
TEMPLATE_KIND = "ConstraintTemplate"
ADMISSION_TARGET = "admission.k8s.gatekeeper.sh"
