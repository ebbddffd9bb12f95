// Package sts issues role sessions: AssumeRole gives its caller keys that
// stand for a session of the role, when the role's trust policy lets the
// caller assume it (AWS STS API Reference, "AssumeRole"). kumo answers
// AssumeRole with keys the local AWS never issued, so a producer or an
// operator could not act as a role; here the keys come from the principals
// registry and every call made with them meets the role's policies.
package sts

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/auth/access"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/auth/authz"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/auth/principals"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
)

// Roles reads a role (its ARN and trust policy) from kumo's IAM.
type Roles = access.RoleReader

// Service serves STS's AssumeRole.
type Service struct {
	roles Roles
	keys  *principals.Registry
	log   *zap.Logger
}

// New returns the STS service issuing keys from keys.
func New(roles Roles, keys *principals.Registry, log *zap.Logger) *Service {
	return &Service{roles: roles, keys: keys, log: log}
}

// Register adds AssumeRole (Query protocol, signing service sts).
func (s *Service) Register(r *awsapi.Router) {
	r.Query("sts", "AssumeRole", s.assumeRole)
}

// sessionName is RoleSessionName's pattern and length ("[\w+=,.@-]*", 2-64).
var sessionName = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

// admin is what the admin key may do: everything, as an administrator of
// the account (AWS refuses AssumeRole to the root user's keys; the admin
// key stands for the account's administrator here).
var admin = mustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)

// adminCaller is the admin key's principal when a trust policy is matched.
const adminCaller = "arn:aws:iam::123456789012:root"

// assumeRole serves AssumeRole for the admin key (a role's session calling
// STS is refused by the access guard before it gets here). The trust
// policy must allow the caller's sts:AssumeRole: a trust policy naming the
// account delegates to the caller's IAM policies, one naming only a service
// refuses ("User: ... is not authorized to perform: sts:AssumeRole on
// resource: ...", AccessDenied, 403, also for a role that does not exist).
func (s *Service) assumeRole(w http.ResponseWriter, r *http.Request, q awsapi.Query) {
	roleARN, session := q.Form.Get("RoleArn"), q.Form.Get("RoleSessionName")
	duration := 3600
	if d := q.Form.Get("DurationSeconds"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 900 || n > 43200 {
			awsapi.WriteProtocolError(w, r, http.StatusBadRequest, "ValidationError", "DurationSeconds must be between 900 and 43200")
			return
		}
		duration = n
	}
	if !sessionName.MatchString(session) {
		awsapi.WriteProtocolError(w, r, http.StatusBadRequest, "ValidationError",
			"1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and length 2-64")
		return
	}
	denied := fmt.Sprintf("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", adminCaller, roleARN)
	trust, err := access.TrustPolicy(r.Context(), s.roles, roleARN)
	if err != nil {
		s.log.Warn("AssumeRole refused", zap.String("role", roleARN), zap.Error(err))
		awsapi.WriteProtocolError(w, r, http.StatusForbidden, "AccessDenied", denied)
		return
	}
	// A role's trust policy must allow, as a key policy must: naming the
	// caller, or its account with the caller's IAM policies allowing
	// (IAM User Guide, "Granting a user permissions to switch roles").
	d, err := authz.Evaluate(authz.Request{Caller: authz.Caller{ARN: adminCaller}, Action: "sts:AssumeRole", Resource: roleARN, OneAccount: true},
		authz.Policies{Identity: []*authz.Policy{admin}, Resource: trust, KeyPolicy: true})
	if err != nil || d.Effect != authz.Allow {
		s.log.Warn("AssumeRole refused", zap.String("role", roleARN), zap.String("reason", d.Reason), zap.Error(err))
		awsapi.WriteProtocolError(w, r, http.StatusForbidden, "AccessDenied", denied+" "+d.Reason)
		return
	}
	creds, err := s.keys.ForRole(roleARN, session)
	if err != nil {
		awsapi.WriteProtocolError(w, r, http.StatusBadRequest, "ValidationError", err.Error())
		return
	}
	roleName := roleARN[strings.LastIndex(roleARN, "/")+1:]
	w.Header().Set("Content-Type", "text/xml")
	_, _ = fmt.Fprintf(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>`+
		`<Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey><SessionToken>%s</SessionToken><Expiration>%s</Expiration></Credentials>`+
		`<AssumedRoleUser><AssumedRoleId>%s:%s</AssumedRoleId><Arn>%s</Arn></AssumedRoleUser>`+
		`</AssumeRoleResult><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></AssumeRoleResponse>`,
		creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken,
		time.Now().UTC().Add(time.Duration(duration)*time.Second).Format(time.RFC3339), // the SDK compares it with the wall clock
		awsapi.Escape(roleName), awsapi.Escape(session), awsapi.Escape(creds.ARN), uuid.NewString())
	s.log.Info("role assumed", zap.String("role", roleARN), zap.String("session", session))
}

func mustParse(doc string) *authz.Policy {
	p, err := authz.Parse("admin", []byte(doc))
	if err != nil {
		panic(err)
	}
	return p
}
