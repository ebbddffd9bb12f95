#!/usr/bin/env bash
# `make test`: every check that runs offline, each as a step; a summary of
# the steps and of the skipped tests (with their reasons) closes the run.
# `scripts/test.sh lint` (make lint) runs every step but go test.
# Exits non-zero when any step fails. Expects `make tools build-host` done.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=$PWD/bin
REPORT=.cache/test
mkdir -p "$REPORT"

names=() results=()
step() {
  local name=$1; shift
  printf '\n\033[1m==> %s\033[0m\n' "$name"
  if "$@"; then results+=(PASS); else results+=(FAIL); fi
  names+=("$name")
}

tflint_all() {
  local rc=0 d
  for d in modules/tracking-pipeline modules/tracking-pipeline/examples/* envs/dev envs/prod test/fixtures/*; do
    echo "tflint $d"
    "$BIN/tflint" --chdir="$d" --config="$PWD/.tflint.hcl" || rc=1
  done
  return $rc
}

step "go vet" go vet ./...
step "golangci-lint" "$BIN/golangci-lint" run ./...
mode=${1:-test}
if [ "$mode" = test ]; then
  step "go test (unit, integration, e2e, Terraform)" \
    "$BIN/gotestsum" --format pkgname-and-test-fails --format-hide-empty-pkg --jsonfile "$REPORT/go-test.json" \
    -- -race -count=1 -timeout 30m ./...
fi
step "tofu fmt -check" "$BIN/tofu" fmt -check -recursive -diff modules envs test/fixtures
step "tflint" tflint_all
step "trivy config (HIGH, CRITICAL)" "$BIN/trivy" config --quiet --exit-code 1 --severity HIGH,CRITICAL \
  --cache-dir .cache/trivy --skip-check-update .
step "terraform-docs up to date" "$BIN/terraform-docs" --config modules/tracking-pipeline/.terraform-docs.yml \
  --output-check modules/tracking-pipeline

printf '\n\033[1m==> Summary\033[0m\n'
failed=0
for i in "${!names[@]}"; do
  printf '  %-4s %s\n' "${results[$i]}" "${names[$i]}"
  [ "${results[$i]}" = PASS ] || failed=1
done

if [ $failed -ne 0 ]; then
  echo "make $mode: FAILED"
else
  echo "make $mode: all steps passed"
fi
# Skipped tests and why, then the closing counts line.
if [ "$mode" = test ]; then
  go run ./cmd/testreport "$REPORT/go-test.json" || failed=1
fi
exit $failed
