"""Auto-remediation: the `fix` steps that policies declare, applied to the source files.

- spec: the `fix` key of a validation (parsed when a policy is loaded);
- plan: which steps apply to which findings, with their values computed;
- yaml_edit, hcl_edit: minimal text edits on YAML manifests and `.tf` files, which
  leave every byte they do not change as it was;
- kustomize: where a fix of an object rendered by Kustomize goes (its base or patch);
- apply: the fixed text of each file; files: safety checks, reading and atomic writes;
- textedit: splices, line/column replacements and diffs;
- preview: each finding's own fix, for SARIF `fixes`.

This package imports nothing at load time, because the policy loader imports `spec`.
"""
