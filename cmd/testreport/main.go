// Command testreport reads a `go test -json` file and prints the skipped
// tests grouped by their skip message, then one closing line with the
// counts, so `make test` ends with what did not run and why.
//
//	testreport .cache/test/go-test.json
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
)

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

// skipLine is the t.Skip message as go test prints it: "    file_test.go:12: reason".
var skipLine = regexp.MustCompile(`^\s+\S+\.go:\d+: (.+)$`)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: testreport GO-TEST.json")
		os.Exit(2)
	}
	if err := report(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(1)
	}
}

func report(path string) error {
	f, err := os.Open(path) //nolint:gosec // the path is the caller's own argument
	if err != nil {
		return err //nolint:wrapcheck // os errors name the path
	}
	defer f.Close()

	lastMsg := map[string]string{} // test -> its last log line
	var passed, failed int
	byReason := map[string][]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e event
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.Test == "" {
			continue
		}
		key := e.Package + "." + e.Test
		switch e.Action {
		case "output":
			if m := skipLine.FindStringSubmatch(strings.TrimRight(e.Output, "\n")); m != nil {
				lastMsg[key] = m[1]
			}
		case "pass":
			passed++
		case "fail":
			failed++
		case "skip":
			reason := lastMsg[key]
			if reason == "" {
				reason = "(no message)"
			}
			byReason[reason] = append(byReason[reason], e.Test)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	total := 0
	reasons := make([]string, 0, len(byReason))
	for r, tests := range byReason {
		total += len(tests)
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	if total > 0 {
		fmt.Println("\nSkipped tests, by reason:")
	}
	for _, r := range reasons {
		tests := byReason[r]
		sort.Strings(tests)
		fmt.Printf("  %d x %s\n     %s\n", len(tests), r, strings.Join(tests, ", "))
	}
	fmt.Printf("tests: %d passed, %d failed, %d skipped\n", passed, failed, total)
	return nil
}
