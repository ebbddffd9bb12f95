package authz

import (
	"regexp"
	"strings"
)

// wildcard matches s against pattern, where * is any run of characters and
// ? any one character (IAM User Guide, "IAM JSON policy elements: Action"
// and "Resource": wildcards in actions and resource ARNs).
func wildcard(pattern, s string) bool {
	for len(pattern) > 0 {
		switch pattern[0] {
		case '*':
			pattern = strings.TrimLeft(pattern, "*")
			if pattern == "" {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if wildcard(pattern, s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
		default:
			if s == "" || s[0] != pattern[0] {
				return false
			}
		}
		pattern, s = pattern[1:], s[1:]
	}
	return s == ""
}

// actionMatches: action names are case-insensitive ("The prefix and the
// action name are case insensitive").
func actionMatches(patterns []string, action string) bool {
	for _, p := range patterns {
		if wildcard(strings.ToLower(p), strings.ToLower(action)) {
			return true
		}
	}
	return false
}

// resourceMatches: resource ARNs are case-sensitive, "*" alone is every resource.
func resourceMatches(patterns []string, resource string) bool {
	for _, p := range patterns {
		if wildcard(p, resource) {
			return true
		}
	}
	return false
}

// arnLike matches an ARN the way ArnLike does: "each of the six
// colon-delimited components of the ARN is checked separately and each can
// include multi-character match wildcards (*) or single-character match
// wildcards (?)" (IAM User Guide, "Amazon Resource Name (ARN) condition
// operators").
func arnLike(pattern, arn string) bool {
	p, a := strings.SplitN(pattern, ":", 6), strings.SplitN(arn, ":", 6)
	if len(p) != 6 || len(a) != 6 {
		return false
	}
	for i := range p {
		if !wildcard(p[i], a[i]) {
			return false
		}
	}
	return true
}

// accountOf is the account of an ARN ("arn:partition:service:region:account:...").
func accountOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 5 {
		return ""
	}
	return parts[4]
}

// roleOf turns an assumed-role session ARN (arn:aws:sts::111122223333:assumed-role/r/session)
// into its role's ARN; other ARNs are returned as they are.
func roleOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[2] != "sts" || !strings.HasPrefix(parts[5], "assumed-role/") {
		return arn
	}
	name, _, _ := strings.Cut(strings.TrimPrefix(parts[5], "assumed-role/"), "/")
	return strings.Join([]string{"arn", parts[1], "iam", "", parts[4], "role/" + name}, ":")
}

// principalMatch says how a resource policy's Principal names the caller:
// not at all, directly (the role, or the service), or through its account
// (the account ID or its root user), which delegates to the account's own
// identity policies (IAM User Guide, "AWS JSON policy elements: Principal":
// "the permissions must also be granted by an identity-based policy").
type principalMatch int

const (
	noMatch principalMatch = iota
	viaAccount
	direct
)

// matchPrincipal matches a caller (an IAM role or assumed-role ARN, or a
// service principal such as events.amazonaws.com) against a Principal;
// with oneAccount every account principal names the caller's account.
func matchPrincipal(p *principalField, caller Caller, oneAccount bool) principalMatch {
	if p == nil {
		return noMatch
	}
	if p.all {
		return direct
	}
	if caller.Service != "" {
		for _, s := range p.services {
			if s == caller.Service {
				return direct
			}
		}
		return noMatch
	}
	role, account := roleOf(caller.ARN), accountOf(caller.ARN)
	best := noMatch
	for _, a := range p.aws {
		switch {
		case a == "*":
			return direct
		case a == role || a == caller.ARN:
			return direct
		case a == account || a == "arn:"+partitionOf(caller.ARN)+":iam::"+account+":root":
			best = viaAccount
		case oneAccount && accountPrincipal.MatchString(a):
			best = viaAccount
		}
	}
	return best
}

// accountPrincipal is an account as a principal: its ID or its root user's ARN.
var accountPrincipal = regexp.MustCompile(`^([0-9]{12}|arn:aws[a-z-]*:iam::[0-9]{12}:root)$`)

func partitionOf(arn string) string {
	parts := strings.SplitN(arn, ":", 3)
	if len(parts) < 2 {
		return "aws"
	}
	return parts[1]
}
