package lambdazip

import "runtime"

// Architecture is Lambda's name ("Lambda instruction set architectures":
// x86_64, arm64) for the architecture a Go GOARCH builds for, "" for one
// Lambda does not run.
func Architecture(goarch string) string {
	switch goarch {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "arm64"
	}
	return ""
}

// HostArchitecture is Lambda's name for this machine's architecture: the
// zips `make build-host` builds run there.
func HostArchitecture() string { return Architecture(runtime.GOARCH) }
