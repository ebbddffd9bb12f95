#!/usr/bin/env bash
# Exits 0 when `init` can install the hashicorp/aws provider: a CLI
# configuration (for example a filesystem mirror, TF_CLI_CONFIG_FILE) is set,
# or the OpenTofu registry answers. `make demo` builds OpenTofu only then:
# without the provider the demo deploys through the Go provisioner.
set -uo pipefail
if [ -n "${TF_CLI_CONFIG_FILE:-}" ] && [ -f "$TF_CLI_CONFIG_FILE" ]; then
  exit 0
fi
command -v curl >/dev/null || exit 1
curl -fsS --max-time 5 -o /dev/null https://registry.opentofu.org/v1/providers/hashicorp/aws/versions 2>/dev/null
