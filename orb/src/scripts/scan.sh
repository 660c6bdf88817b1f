#!/usr/bin/env bash
# Run `tdv scan` as the TDV_* variables say; exits with tdv's status. Shared by the CircleCI
# orb (packed into it), the GitHub Action and the GitLab template (installed in the image as tdv-ci).
set -uo pipefail
set -f  # lists are split on whitespace, never globbed

targets=()
if [ -n "${TDV_PATHS_FILE:-}" ]; then
  while IFS= read -r line || [ -n "$line" ]; do
    if [ -n "$line" ]; then targets+=("$line"); fi
  done < "$TDV_PATHS_FILE"
  if [ "${#targets[@]}" -eq 0 ] && [ -z "${TDV_RENDER:-}" ]; then
    echo "tdv: $TDV_PATHS_FILE lists nothing to scan here"
    exit 0
  fi
else
  for path in ${TDV_PATH:-}; do targets+=("$path"); done
fi
if [ -n "${TDV_KUSTOMIZE_OVERLAY:-}" ]; then targets+=("$TDV_KUSTOMIZE_OVERLAY"); fi
if [ -n "${TDV_RENDER:-}" ]; then targets+=("-"); fi
# The repository is the default only when nothing else is named: a render command or an
# overlay alone must not scan the whole tree too (each finding would be reported twice).
if [ "${#targets[@]}" -eq 0 ] && [ -z "${TDV_PATHS_FILE:-}" ]; then targets=(.); fi

args=(scan -o console)
if [ -n "${TDV_CONFIG:-}" ]; then args+=(--config "$TDV_CONFIG"); fi
if [ -n "${TDV_FAIL_ON:-}" ]; then args+=(--fail-on "$TDV_FAIL_ON"); fi
for dir in ${TDV_POLICY_DIRS:-}; do args+=(--policies "$dir"); done
for glob in ${TDV_POLICIES:-}; do args+=(--policy "$glob"); done
for glob in ${TDV_SKIP_POLICIES:-}; do args+=(--skip-policy "$glob"); done
if [ "${TDV_SOFT_FAIL:-false}" = true ]; then args+=(--soft-fail); fi
if [ -n "${TDV_HELM_VALUES:-}" ]; then args+=(--helm-values "$TDV_HELM_VALUES"); fi

out="${TDV_OUTPUT_DIR:-tdv-reports}"
for format in ${TDV_FORMATS:-}; do
  case "$format" in
    junit) file=junit/tdv.xml ;;
    sarif) file=tdv.sarif ;;
    json) file=tdv.json ;;
    markdown) file=tdv.md ;;
    gitlab-sast) file=gl-sast-report.json ;;
    codequality) file=gl-code-quality-report.json ;;
    *) echo "tdv: unknown output format '$format'" >&2; exit 2 ;;
  esac
  args+=(-o "$format=$out/$file")
  if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "$format=$out/$file" >> "$GITHUB_OUTPUT"; fi
done
for arg in ${TDV_EXTRA_ARGS:-}; do args+=("$arg"); done

mkdir -p "$out"
echo "+ tdv ${args[*]} -- ${targets[*]}"
if [ -n "${TDV_RENDER:-}" ]; then
  bash -o pipefail -c "$TDV_RENDER" | tdv "${args[@]}" -- "${targets[@]}"
else
  tdv "${args[@]}" -- "${targets[@]}"
fi
