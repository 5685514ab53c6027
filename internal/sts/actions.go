package sts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi"
	"github.com/kumo-cloud/kumo/internal/awsapi/stsapi"
	"github.com/kumo-cloud/kumo/internal/iam"
	"github.com/kumo-cloud/kumo/internal/identity"
	"github.com/kumo-cloud/kumo/internal/policy"
	"github.com/kumo-cloud/kumo/internal/store"
)

var _ stsapi.Service = (*Service)(nil)

// PolicySource gathers identity policies (iam.Service does).
type PolicySource interface {
	PoliciesFor(ctx context.Context, p identity.Principal) (iam.PrincipalPolicies, error)
	PoliciesForRoleName(ctx context.Context, accountID, roleName string) (iam.PrincipalPolicies, error)
}

func caller(ctx context.Context) (identity.Principal, error) {
	p, ok := identity.FromContext(ctx)
	if !ok {
		return p, errors.New("sts: no principal in context")
	}
	return p, nil
}

func accessDenied(format string, args ...any) error {
	return awsapi.NewError("AccessDenied", http.StatusForbidden, format, args...)
}

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func apiCredentials(c Credentials) *stsapi.Credentials {
	return &stsapi.Credentials{AccessKeyId: ptr(c.AccessKeyID), SecretAccessKey: ptr(c.SecretAccessKey),
		SessionToken: ptr(c.SessionToken), Expiration: ptr(c.Expiration)}
}

// GetCallerIdentity tells who signed the request: the root, a user, or a
// role session (UserId AROA…:session, the assumed-role ARN).
func (s *Service) GetCallerIdentity(ctx context.Context, _ *stsapi.GetCallerIdentityRequest) (*stsapi.GetCallerIdentityResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	return &stsapi.GetCallerIdentityResponse{UserId: ptr(p.UserID), Account: ptr(p.AccountID), Arn: ptr(p.ARN())}, nil
}

// GetAccessKeyInfo names the account an access key id belongs to; like
// AWS, it answers for any account's keys and says nothing else.
func (s *Service) GetAccessKeyInfo(ctx context.Context, in *stsapi.GetAccessKeyInfoRequest) (*stsapi.GetAccessKeyInfoResponse, error) {
	id := deref(in.AccessKeyId)
	if len(id) < 16 || len(id) > 128 {
		return nil, validationError("1 validation error detected: Value '%s' at 'accessKeyId' failed to satisfy constraint: Member must have length between 16 and 128", id)
	}
	var k store.AccessKey
	err := s.DB.View(ctx, func(ctx context.Context, tx *store.Tx) (err error) {
		k, err = tx.GetAccessKey(ctx, id)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		// A temporary key's account is sealed in its token, which this
		// action does not receive; AWS answers for it, Kumo cannot.
		return nil, awsapi.NewError("InvalidClientTokenId", http.StatusForbidden, "The security token included in the request is invalid.")
	}
	if err != nil {
		return nil, fmt.Errorf("get access key info %s: %w", id, err)
	}
	return &stsapi.GetAccessKeyInfoResponse{Account: ptr(k.AccountID)}, nil
}

// DecodeAuthorizationMessage opens the encoded message of an EC2
// UnauthorizedOperation (sealed with the server's key by internal/authz)
// into the JSON document AWS returns. A message that does not open answers
// InvalidAuthorizationMessageException, as AWS does.
func (s *Service) DecodeAuthorizationMessage(ctx context.Context, in *stsapi.DecodeAuthorizationMessageRequest) (*stsapi.DecodeAuthorizationMessageResponse, error) {
	if _, err := caller(ctx); err != nil {
		return nil, err
	}
	if s.Decode == nil {
		return nil, awsapi.ErrUnsupportedOperation("DecodeAuthorizationMessage")
	}
	msg, err := s.Decode(deref(in.EncodedMessage))
	if err != nil {
		return nil, awsapi.NewError("InvalidAuthorizationMessageException", http.StatusBadRequest, "The encoded authorization message is invalid or was not issued by this service.")
	}
	return &stsapi.DecodeAuthorizationMessageResponse{DecodedMessage: &msg}, nil
}

// GetSessionToken gives a user (or the root) temporary credentials with
// the same permissions.
func (s *Service) GetSessionToken(ctx context.Context, in *stsapi.GetSessionTokenRequest) (*stsapi.GetSessionTokenResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if p.Temporary {
		return nil, accessDenied("Cannot call GetSessionToken with session credentials")
	}
	if in.SerialNumber != nil || in.TokenCode != nil {
		return nil, awsapi.NewError("UnsupportedOperation", http.StatusBadRequest, "Kumo has no MFA devices: SerialNumber and TokenCode are not supported.")
	}
	d := DefaultSessionDuration
	if in.DurationSeconds != nil {
		secs := int(*in.DurationSeconds)
		if secs < 900 || secs > MaxSessionTokenSeconds {
			return nil, validationError("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and %d", secs, MaxSessionTokenSeconds)
		}
		d = time.Duration(secs) * time.Second
	}
	if p.IsRoot() && d > RootSessionTokenMax {
		d = RootSessionTokenMax // AWS caps the root's sessions at an hour
	}
	creds, err := s.issue(session{Account: p.AccountID, User: p.UserName, UserID: p.UserID}, d)
	if err != nil {
		return nil, err
	}
	return &stsapi.GetSessionTokenResponse{Credentials: apiCredentials(creds)}, nil
}

// parseRoleARN splits arn:aws:iam::<account>:role/<path/>name.
func parseRoleARN(arn string) (account, name string, err error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(arn) < 20 || len(arn) > 2048 || len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || !strings.HasPrefix(parts[5], "role/") {
		return "", "", validationError("%s is invalid", arn)
	}
	rest := strings.TrimPrefix(parts[5], "role/")
	name = rest[strings.LastIndexByte(rest, '/')+1:]
	if parts[4] == "" || name == "" {
		return "", "", validationError("%s is invalid", arn)
	}
	return parts[4], name, nil
}

// policyPrincipal is the caller as the policy engine sees it.
func policyPrincipal(p identity.Principal) policy.Principal {
	out := policy.Principal{Account: p.AccountID, ARN: p.ARN(), UserID: p.UserID}
	switch {
	case p.IsRoleSession():
		out.Kind = policy.AssumedRole
		out.RoleARN = "arn:aws:iam::" + p.AccountID + ":role/" + p.RoleName
	case p.IsRoot():
		out.Kind = policy.Root
	default:
		out.Kind = policy.User
	}
	return out
}

// AssumeRole gives the caller a session of a role whose trust policy
// allows it (and, across accounts, whose own policies allow
// sts:AssumeRole on the role).
func (s *Service) AssumeRole(ctx context.Context, in *stsapi.AssumeRoleRequest) (*stsapi.AssumeRoleResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	roleARN, name := deref(in.RoleArn), deref(in.RoleSessionName)
	account, roleName, err := parseRoleARN(roleARN)
	if err != nil {
		return nil, err
	}
	if err := checkSessionName(name); err != nil {
		return nil, err
	}
	if in.SerialNumber != nil || in.TokenCode != nil || in.SourceIdentity != nil || len(in.ProvidedContexts) > 0 || len(in.TransitiveTagKeys) > 0 {
		return nil, awsapi.NewError("UnsupportedOperation", http.StatusBadRequest, "Kumo's AssumeRole does not support MFA, SourceIdentity, ProvidedContexts or TransitiveTagKeys.")
	}
	tags, err := requestTags(in.Tags)
	if err != nil {
		return nil, err
	}
	if p.IsRoot() {
		return nil, accessDenied("Roles may not be assumed by root accounts.")
	}
	denied := accessDenied("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", p.ARN(), roleARN)
	role, err := s.role(ctx, account, roleName)
	if errors.Is(err, store.ErrNotFound) {
		return nil, denied
	}
	if err != nil {
		return nil, err
	}
	d := time.Duration(deref(in.DurationSeconds)) * time.Second
	if p.IsRoleSession() && d > RoleChainingMax {
		return nil, validationError("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	}
	if d, err = roleDuration(d, role); err != nil {
		return nil, err
	}
	sessionPolicy, err := s.sessionPolicy(ctx, deref(in.Policy), in.PolicyArns)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeAssume(ctx, p, role, roleARN, deref(in.ExternalId), name, tags); err != nil {
		if errors.Is(err, errDenied) {
			return nil, denied
		}
		return nil, err
	}
	creds, err := s.issue(roleSession(role, name, sessionPolicy, tags), d)
	if err != nil {
		return nil, err
	}
	assumed := "arn:aws:sts::" + role.AccountID + ":assumed-role/" + role.Name + "/" + name
	return &stsapi.AssumeRoleResponse{Credentials: apiCredentials(creds),
		AssumedRoleUser:  &stsapi.AssumedRoleUser{AssumedRoleId: ptr(role.RoleID + ":" + name), Arn: ptr(assumed)},
		PackedPolicySize: ptr(int32(packedPercent(sessionPolicy, tags)))}, nil
}

func requestTags(in []stsapi.Tag) (map[string]string, error) {
	if len(in) == 0 {
		return nil, nil
	}
	tags := map[string]string{}
	seen := map[string]bool{}
	for _, t := range in {
		k := deref(t.Key)
		if seen[strings.ToLower(k)] {
			return nil, awsapi.NewError("InvalidParameterValue", http.StatusBadRequest, "Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[strings.ToLower(k)] = true
		tags[k] = deref(t.Value)
	}
	return tags, checkTags(tags)
}

// packedPercent is PackedPolicySize: how full the packed session policy
// and tags are, in percent of AWS's limit.
func packedPercent(policy string, tags map[string]string) int {
	n := len(policy)
	for k, v := range tags {
		n += len(k) + len(v)
	}
	return n * 100 / 2048
}

var errDenied = errors.New("denied")

// authorizeAssume evaluates the role's trust policy with the caller as
// principal, together with the caller's own policies (which must allow
// too when the role is in another account), for sts:AssumeRole and, when
// the session has tags, sts:TagSession.
func (s *Service) authorizeAssume(ctx context.Context, p identity.Principal, role store.Role, roleARN, externalID, sessionName string, tags map[string]string) error {
	trust, err := policy.Parse([]byte(role.TrustPolicy), policy.Trust)
	if err != nil {
		return fmt.Errorf("role %s's trust policy: %w", role.Name, err)
	}
	set, err := s.callerPolicies(ctx, p)
	if err != nil {
		return err
	}
	set.Resource, set.RequireResource = []*policy.Policy{trust}, true
	pp := policyPrincipal(p)
	c := policy.NewContext().SetPrincipal(pp)
	c.Set("sts:RoleSessionName", sessionName)
	if externalID != "" {
		c.Set("sts:ExternalId", externalID)
	}
	for k, v := range p.SessionTags {
		c.Set("aws:PrincipalTag/"+k, v)
	}
	keys := make([]string, 0, len(tags))
	for k, v := range tags {
		c.Set("aws:RequestTag/"+k, v)
		keys = append(keys, k)
	}
	if len(tags) > 0 {
		c.Set("aws:TagKeys", keys...)
	}
	actions := []string{"sts:AssumeRole"}
	if len(tags) > 0 {
		actions = append(actions, "sts:TagSession")
	}
	for _, a := range actions {
		d := policy.Evaluate(policy.Request{Principal: pp, Action: a, Resource: roleARN, ResourceAccount: role.AccountID, Context: c}, set)
		if !d.Allowed() {
			return fmt.Errorf("%s: %s: %w", a, d.Outcome, errDenied)
		}
	}
	return nil
}

// callerPolicies are the identity, boundary and session policies of the
// caller (a user or a role session).
func (s *Service) callerPolicies(ctx context.Context, p identity.Principal) (policy.PolicySet, error) {
	var set policy.PolicySet
	if s.IAM == nil {
		return set, errors.New("sts: no policy source configured")
	}
	var pols iam.PrincipalPolicies
	var err error
	if p.IsRoleSession() {
		pols, err = s.IAM.PoliciesForRoleName(ctx, p.AccountID, p.RoleName)
	} else {
		pols, err = s.IAM.PoliciesFor(ctx, p)
	}
	if err != nil {
		return set, fmt.Errorf("policies of %s: %w", p.ARN(), err)
	}
	for _, d := range pols.Identity {
		pol, err := policy.Parse([]byte(d.Document), policy.Identity)
		if err != nil {
			return set, fmt.Errorf("policy %s of %s: %w", d.Name, d.Owner, err)
		}
		set.Identity = append(set.Identity, pol)
	}
	if pols.Boundary != nil {
		if set.Boundary, err = policy.Parse([]byte(pols.Boundary.Document), policy.Identity); err != nil {
			return set, fmt.Errorf("boundary of %s: %w", p.ARN(), err)
		}
	}
	if p.SessionPolicy != "" {
		sp, err := policy.Parse([]byte(p.SessionPolicy), policy.Identity)
		if err != nil {
			return set, fmt.Errorf("session policy of %s: %w", p.ARN(), err)
		}
		set.Session = []*policy.Policy{sp}
	}
	return set, nil
}

// sessionPolicy checks the inline session policy and the managed ones
// named by ARN and joins their statements into one document: session
// policies together allow what any of them allows.
func (s *Service) sessionPolicy(ctx context.Context, inline string, arns []stsapi.PolicyDescriptorType) (string, error) {
	if len(inline) > 2048 {
		return "", validationError("1 validation error detected: Value at 'policy' failed to satisfy constraint: Member must have length less than or equal to 2048")
	}
	if len(arns) > 10 {
		return "", validationError("1 validation error detected: Value at 'policyArns' failed to satisfy constraint: Member must have length less than or equal to 10")
	}
	docs := []string{}
	if inline != "" {
		docs = append(docs, inline)
	}
	for _, a := range arns {
		doc, err := s.managedDocument(ctx, deref(a.Arn))
		if err != nil {
			return "", err
		}
		docs = append(docs, doc)
	}
	if len(docs) == 0 {
		return "", nil
	}
	var statements []json.RawMessage
	for _, doc := range docs {
		if _, err := policy.Parse([]byte(doc), policy.Identity); err != nil {
			return "", awsapi.NewError("MalformedPolicyDocument", http.StatusBadRequest, "The policy is not in the valid JSON format: %v", err)
		}
		st, err := statementsOf(doc)
		if err != nil {
			return "", err
		}
		statements = append(statements, st...)
	}
	out, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": statements})
	return string(out), err
}

func statementsOf(doc string) ([]json.RawMessage, error) {
	var d struct {
		Statement json.RawMessage
	}
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return nil, awsapi.NewError("MalformedPolicyDocument", http.StatusBadRequest, "The policy is not in the valid JSON format.")
	}
	var list []json.RawMessage
	if err := json.Unmarshal(d.Statement, &list); err == nil {
		return list, nil
	}
	return []json.RawMessage{d.Statement}, nil
}

// managedDocument reads the default version of a managed policy.
func (s *Service) managedDocument(ctx context.Context, arn string) (string, error) {
	doc, err := iam.ManagedPolicyDocument(ctx, s.DB, arn)
	if errors.Is(err, store.ErrNotFound) {
		return "", validationError("Policy %s does not exist or is not attachable.", arn)
	}
	return doc, err
}
