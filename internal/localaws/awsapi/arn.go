package awsapi

import "strings"

// Account is the account kumo's STS GetCallerIdentity names, so the one
// Terraform's aws_caller_identity gives the module (aws:SourceAccount).
const Account = "000000000000"

// ResourceName returns the last element of a queue URL or of an ARN
// (the queue name of a queue ARN, the bus name of an event bus ARN).
func ResourceName(urlOrARN string) string {
	if i := strings.LastIndexAny(urlOrARN, "/:"); i >= 0 {
		return urlOrARN[i+1:]
	}
	return urlOrARN
}

// FunctionName accepts what Lambda accepts as a function name: a name, a
// partial or full ARN, with or without a qualifier.
func FunctionName(s string) string {
	if i := strings.Index(s, "function:"); i >= 0 {
		s = s[i+len("function:"):]
	}
	name, _, _ := strings.Cut(s, ":")
	return name
}
