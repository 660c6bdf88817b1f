#!/usr/bin/env bash
# Run `tdv scan` as the TDV_* variables say; exits with tdv's status. Shared by the CircleCI
# orb (packed into it), the GitHub Action and the GitLab template (installed in the image as tdv-ci).
#
# A scan spread over parallel CI jobs: with TDV_SHARD (I/N, or "auto" to take it from
# CircleCI's parallelism or GitLab's parallel:), the job scans its share and writes a shard
# report to TDV_SHARD_DIR; a later job with TDV_MERGE=true merges them into the reports of
# TDV_FORMATS and exits as one scan of everything would.
set -uo pipefail
set -f  # lists are split on whitespace, never globbed

shard_dir="${TDV_SHARD_DIR:-tdv-shards}"
shard="${TDV_SHARD:-}"
if [ "$shard" = auto ]; then
  shard=""
  if [ "${CIRCLE_NODE_TOTAL:-1}" -gt 1 ]; then shard="$(( ${CIRCLE_NODE_INDEX:-0} + 1 ))/${CIRCLE_NODE_TOTAL}"
  elif [ "${CI_NODE_TOTAL:-1}" -gt 1 ]; then shard="${CI_NODE_INDEX:-1}/${CI_NODE_TOTAL}"
  fi
fi

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
if [ "${TDV_MERGE:-false}" = true ]; then
  args=(merge -o console)
  set +f
  targets=("$shard_dir"/*.json)
  set -f
  if [ ! -e "${targets[0]}" ]; then
    echo "tdv: no shard reports in $shard_dir: run the sharded scan jobs first and pass their $shard_dir on" >&2
    exit 2
  fi
else  # (a merge takes the settings the shards recorded)
  if [ -n "${TDV_CONFIG:-}" ]; then args+=(--config "$TDV_CONFIG"); fi
  if [ -n "${TDV_FAIL_ON:-}" ]; then args+=(--fail-on "$TDV_FAIL_ON"); fi
  for dir in ${TDV_POLICY_DIRS:-}; do args+=(--policies "$dir"); done
  for glob in ${TDV_POLICIES:-}; do args+=(--policy "$glob"); done
  for glob in ${TDV_SKIP_POLICIES:-}; do args+=(--skip-policy "$glob"); done
  if [ "${TDV_SOFT_FAIL:-false}" = true ]; then args+=(--soft-fail); fi
  if [ -n "${TDV_HELM_VALUES:-}" ]; then args+=(--helm-values "$TDV_HELM_VALUES"); fi
fi

out="${TDV_OUTPUT_DIR:-tdv-reports}"
formats="${TDV_FORMATS:-}"
report=""
if [ -n "$shard" ] && [ "${TDV_MERGE:-false}" != true ]; then
  # The reports of the whole scan are written by the merge; a shard writes its share.
  report="$shard_dir/shard-${shard%/*}-of-${shard#*/}.json"
  mkdir -p "$shard_dir"
  rm -f "$report"
  args+=(--shard "$shard" -o "shard=$report")
  formats=""
fi
for format in $formats; do
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
if [ "${TDV_MERGE:-false}" != true ]; then
  for arg in ${TDV_EXTRA_ARGS:-}; do args+=("$arg"); done
fi

mkdir -p "$out"
echo "+ tdv ${args[*]} -- ${targets[*]}"
if [ -n "${TDV_RENDER:-}" ] && [ "${TDV_MERGE:-false}" != true ]; then
  bash -o pipefail -c "$TDV_RENDER" | tdv "${args[@]}" -- "${targets[@]}"
else
  tdv "${args[@]}" -- "${targets[@]}"
fi
status=$?
if [ -n "$report" ] && [ -s "$report" ]; then
  # Findings and input errors are the merge's to judge, over the whole scan.
  echo "tdv: shard $shard written to $report (exit status $status); the merge job decides"
  exit 0
fi
exit "$status"
