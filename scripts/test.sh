#!/usr/bin/env bash
# `scripts/test.sh test` (make test): every Go test, unit to end-to-end and
# Terraform, with the race detector; the skipped tests (with their reasons)
# and the counts close the run. Expects gotestsum, the Terraform binary and
# `make build-host` done (the Makefile's test prerequisites).
# `scripts/test.sh lint` (make lint): go vet, golangci-lint, tofu fmt, tflint,
# trivy and terraform-docs, each as a step, with a summary of the steps.
# Exits non-zero when any step fails.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-$PWD/bin} # the Makefile's tools; another checkout's may be named
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

mode=${1:-test}
if [ "$mode" = test ]; then
  # The two longest packages first (go test starts packages in the order
  # given): the Terraform suites and the end-to-end package then run beside
  # the rest instead of after it. Three packages at once, not GOMAXPROCS:
  # the Terraform suites mostly wait on tofu and the local AWS, so a third
  # package uses the cores they leave idle.
  step "go test (unit, integration, e2e, Terraform)" \
    "$BIN/gotestsum" --format pkgname-and-test-fails --format-hide-empty-pkg --jsonfile "$REPORT/go-test.json" \
    -- -race -count=1 -p 3 -timeout 30m ./test/... ./internal/drivers/e2e/... ./...
else
  step "go vet" go vet ./...
  step "golangci-lint" "$BIN/golangci-lint" run ./...
  step "tofu fmt -check" "$BIN/tofu" fmt -check -recursive -diff modules envs test/fixtures
  step "tflint" tflint_all
  step "trivy config (HIGH, CRITICAL)" "$BIN/trivy" config --quiet --exit-code 1 --severity HIGH,CRITICAL \
    --cache-dir .cache/trivy --skip-check-update .
  step "terraform-docs up to date" "$BIN/terraform-docs" --config modules/tracking-pipeline/.terraform-docs.yml \
    --output-check modules/tracking-pipeline
fi

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
