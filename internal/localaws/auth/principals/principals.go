// Package principals knows who calls the local AWS: each request is signed
// with an access key, and each key stands for a principal. The admin key
// (the SDK clients', the Terraform provider's, the tools') stands for the
// account itself; a Lambda function's processes get keys of their own that
// stand for their execution role's session, as Lambda gives a function the
// credentials of its role (Lambda Developer Guide, "Defining Lambda
// function permissions with an execution role"). A key it did not issue is
// refused, as AWS refuses a key that "does not exist in our records".
package principals

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/auth/authz"
)

// AdminKey is the access key (and secret) of the account's administrator:
// every client of the local AWS but the functions uses it.
const AdminKey = "test"

// Credentials are an access key pair and, for a role's session, its
// session token and the session's ARN.
type Credentials struct {
	AccessKeyID, SecretAccessKey string
	SessionToken, ARN            string
}

// Registry maps access keys to principals. It is safe for concurrent use.
type Registry struct {
	mu   sync.Mutex
	keys map[string]authz.Caller
}

// New returns a registry that knows the admin key only.
func New() *Registry {
	return &Registry{keys: map[string]authz.Caller{}}
}

// SessionARN is the assumed-role ARN of a session of roleARN named session
// (arn:aws:sts::<account>:assumed-role/<role name>/<session>).
func SessionARN(roleARN, session string) (string, error) {
	parts := strings.SplitN(roleARN, ":", 6)
	if len(parts) != 6 || parts[2] != "iam" || !strings.HasPrefix(parts[5], "role/") {
		return "", fmt.Errorf("%q is not a role ARN", roleARN)
	}
	name := parts[5][strings.LastIndex(parts[5], "/")+1:]
	return fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", parts[1], parts[4], name, session), nil
}

// ForRole issues credentials standing for a session of roleARN named
// session (Lambda names its sessions after the function), replacing the
// ones issued before for the same session.
func (r *Registry) ForRole(roleARN, session string) (Credentials, error) {
	arn, err := SessionARN(roleARN, session)
	if err != nil {
		return Credentials{}, err
	}
	caller := authz.Caller{ARN: arn}
	key, secret := strings.ToUpper("ASIA"+randomHex(8)), randomHex(20)
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, c := range r.keys {
		if c == caller {
			delete(r.keys, k)
		}
	}
	r.keys[key] = caller
	return Credentials{AccessKeyID: key, SecretAccessKey: secret, SessionToken: randomHex(32), ARN: caller.ARN}, nil
}

// Lookup returns the principal an access key stands for; admin is true for
// the admin key, ok false for a key the registry never issued.
func (r *Registry) Lookup(accessKey string) (caller authz.Caller, admin, ok bool) {
	if accessKey == AdminKey {
		return authz.Caller{}, true, true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.keys[strings.ToUpper(accessKey)]
	return c, false, ok
}

// AccessKeyOf reads the access key a request is signed with: from a SigV4
// Authorization header's credential scope, or a presigned URL's
// X-Amz-Credential. ok is false for an unsigned request.
func AccessKeyOf(r *http.Request) (string, bool) {
	cred := ""
	if _, c, found := strings.Cut(r.Header.Get("Authorization"), "Credential="); found {
		cred = c
	} else if c := r.URL.Query().Get("X-Amz-Credential"); c != "" {
		cred = c
	}
	if cred == "" {
		return "", false
	}
	key, _, _ := strings.Cut(cred, "/")
	return key, true
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand never fails on Linux
	return hex.EncodeToString(b)
}
