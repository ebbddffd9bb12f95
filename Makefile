SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

BIN := $(CURDIR)/bin
DIST := $(CURDIR)/dist
BUILD := $(CURDIR)/.cache/build
export PATH := $(BIN):$(PATH)
export GOFLAGS := -buildvcs=false

# Lambda zips: linux/arm64 by default (the module's default architecture);
# ARCH=amd64 (or `make build-host`) for this machine's local AWS.
ARCH ?= arm64
HOST_ARCH := $(shell go env GOARCH)
LAMBDAS := processor projector maintenance

# Terraform binary: `terraform` when it is on PATH at the version in
# .terraform-version, else the pinned OpenTofu from `make tools`.
TF_VERSION := $(shell cat .terraform-version)
TF ?= $(shell v=$$(terraform version 2>/dev/null | head -1); if [ "$$v" = "Terraform v$(TF_VERSION)" ]; then command -v terraform; else echo $(BIN)/tofu; fi)
# What the tests need built: gotestsum, and OpenTofu unless a terraform at
# the pinned version is used as it is. The linters are make lint's.
TEST_TOOLS := $(BIN)/gotestsum $(filter $(BIN)/tofu,$(TF))
LINT_TOOLS := $(addprefix $(BIN)/,golangci-lint tflint trivy terraform-docs tofu)
export TF_BINARY := $(TF)
# A TF_CLI_CONFIG_FILE naming a missing file only produces warnings: drop it.
ifneq ($(TF_CLI_CONFIG_FILE),)
ifeq ($(wildcard $(TF_CLI_CONFIG_FILE)),)
unexport TF_CLI_CONFIG_FILE
endif
endif

SOAK_COUNT ?= 20000
FUZZTIME ?= 60s

##@ Main

.PHONY: help
help: ## List targets with a line each
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} \
	  /^[a-zA-Z0-9_-]+:.*?##/ { printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2 } \
	  /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

# The demo needs the Go build only; OpenTofu too when the aws provider can be
# installed (else the demo deploys through the Go provisioner, saying why).
.PHONY: demo
demo: build-host ## Run the whole pipeline on the local AWS and print a summary (the main job)
	@if [ "$(TF)" = "$(BIN)/tofu" ] && [ ! -x "$(BIN)/tofu" ] && bash scripts/provider-available.sh; then \
	  echo "the aws provider can be installed: building OpenTofu for the Terraform path"; $(MAKE) $(BIN)/tofu; fi
	go run ./cmd/demo -zips $(DIST)/$(HOST_ARCH)

.PHONY: test
test: $(TEST_TOOLS) build-host ## Run every Go test (unit, integration, e2e, Terraform suites) with -race; print what was skipped
	@bash scripts/test.sh test

##@ Build

ZIPS = $(foreach l,$(LAMBDAS),$(DIST)/$(l).zip)

.PHONY: build
build: $(ZIPS) ## Build dist/processor.zip, dist/projector.zip and dist/maintenance.zip (ARCH=arm64|amd64)

.PHONY: build-host
build-host: ## Build the Lambda zips for this machine into dist/<arch>/ (for the local AWS)
	@$(MAKE) build ARCH=$(HOST_ARCH) DIST=$(DIST)/$(HOST_ARCH)

# Always rebuilt: go build is cached and the zip is reproducible, so an
# unchanged source rewrites identical bytes.
.PHONY: FORCE
FORCE:
$(ZIPS): $(DIST)/%.zip: FORCE
	@mkdir -p $(BUILD)/$(ARCH)/$* $(DIST)
	CGO_ENABLED=0 GOOS=linux GOARCH=$(ARCH) go build -trimpath -ldflags "-s -w -buildid=" -tags lambda.norpc \
	  -o $(BUILD)/$(ARCH)/$*/bootstrap ./lambda/$*
	@go run ./cmd/lambdazip -o $@ $(BUILD)/$(ARCH)/$*/bootstrap
	@echo "$@ ($(ARCH)): $$(wc -c < $@) bytes, sha256 $$(sha256sum $@ | cut -c1-16)…"

##@ Development

.PHONY: lint
lint: $(LINT_TOOLS) ## go vet, golangci-lint, tofu fmt -check, tflint, trivy, terraform-docs freshness
	@bash scripts/test.sh lint

.PHONY: fmt
fmt: $(BIN)/tofu ## Format Go and HCL
	gofmt -w $$(git ls-files '*.go')
	$(BIN)/tofu fmt -recursive modules envs test/fixtures

.PHONY: docs
docs: $(BIN)/terraform-docs ## Regenerate the module README's inputs and outputs
	$(BIN)/terraform-docs --config modules/tracking-pipeline/.terraform-docs.yml modules/tracking-pipeline

.PHONY: docs-check
docs-check: $(BIN)/terraform-docs ## Fail when the module README is out of date
	@$(BIN)/terraform-docs --config modules/tracking-pipeline/.terraform-docs.yml --output-check modules/tracking-pipeline \
	  || { echo "modules/tracking-pipeline/README.md is stale: run make docs"; exit 1; }

.PHONY: fuzz
fuzz: ## Fuzz what faces input: the contract parser, trackctl's NDJSON reader, the local AWS's request routing; FUZZTIME each (default 60s)
	go test ./internal/contract -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME)
	go test ./internal/drivers/trackctl -run '^$$' -fuzz FuzzReadNDJSON -fuzztime $(FUZZTIME)
	go test ./internal/localaws/awsapi -run '^$$' -fuzz FuzzLookup -fuzztime $(FUZZTIME)

.PHONY: bench
bench: build-host ## DynamoDB units per update by outcome; processor throughput vs kumo's raw PutItem ceiling; zip size; init time
	go run ./cmd/bench -zip $(DIST)/$(HOST_ARCH)/processor.zip

.PHONY: soak
soak: build-host ## 20,000 updates under injected DynamoDB/SQS/Lambda faults; checks nothing is lost (SOAK_COUNT to change)
	go run ./cmd/soak -zips $(DIST)/$(HOST_ARCH) -count $(SOAK_COUNT)

.PHONY: test-iam
test-iam: build-host ## IAM mutation test: each statement of the roles', key, queue and topic policies removed in turn must break a scenario (table in .cache/iam-mutations.md)
	@mkdir -p .cache
	TRACKING_IAM_MUTATIONS=all TRACKING_IAM_TABLE=$(CURDIR)/.cache/iam-mutations.md go test -count=1 -timeout 45m -run TestEachIAMStatementIsNeeded ./internal/drivers/e2e/
	@cat .cache/iam-mutations.md

.PHONY: test-e2e
test-e2e: $(TEST_TOOLS) build-host ## Terratest suites against the local AWS (skip when the aws provider cannot be installed)
	$(BIN)/gotestsum --format testname -- -count=1 -timeout 30m ./test/...

.PHONY: test-e2e-aws
test-e2e-aws: tools build ## Terratest suites against a real AWS account (needs credentials; costs money)
	TRACKING_E2E_TARGET=aws $(BIN)/gotestsum --format testname -- -count=1 -timeout 60m ./test/...

.PHONY: clean
clean: ## Remove build output and caches (keeps ./bin)
	rm -rf $(DIST) $(CURDIR)/.cache

##@ Tools (pinned in tools/<name>/go.mod, built from the Go module proxy)

TOOLS := tofu kumo golangci-lint tflint trivy terraform-docs gotestsum
tofu_PKG := github.com/opentofu/opentofu/cmd/tofu
kumo_PKG := github.com/sivchari/kumo/cmd/kumo
golangci-lint_PKG := github.com/golangci/golangci-lint/v2/cmd/golangci-lint
tflint_PKG := github.com/terraform-linters/tflint
trivy_PKG := github.com/aquasecurity/trivy/cmd/trivy
trivy_ENV := GOEXPERIMENT=jsonv2
terraform-docs_PKG := github.com/terraform-docs/terraform-docs
gotestsum_PKG := gotest.tools/gotestsum

.PHONY: tools
tools: $(addprefix $(BIN)/,$(TOOLS)) ## Build every pinned tool into ./bin (first time ~15 min, then a no-op)

$(BIN)/%: tools/%/go.mod tools/%/go.sum
	@echo "building $* (pinned in tools/$*/go.mod)"
	@mkdir -p $(BIN)
	cd tools/$* && $($*_ENV) go build -trimpath -o $@ $($*_PKG)
	@touch $@
