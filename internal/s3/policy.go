package s3

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// MaxPolicySize is S3's limit on a bucket policy.
const MaxPolicySize = 20 << 10

// policy is a parsed bucket policy. Kumo evaluates the subset of the IAM
// policy language that bucket sharing needs: Allow and Deny statements with
// Principal ("*" or {"AWS": account ids, account root ARNs or user ARNs}),
// Action (s3:..., wildcards allowed) and Resource (this bucket's ARN, or
// object ARNs under it with wildcards). Conditions and the Not* elements
// are refused when the policy is put, never silently ignored.
type policy struct {
	statements []statement
}

type statement struct {
	allow      bool
	principals []principal
	actions    []string // lower case
	resources  []string
}

// principal is "*" (everyone, signed or not), a whole account, or one user.
type principal struct {
	anyone    bool
	accountID string
	userName  string // "" = the whole account
}

// policyJSON and statementJSON are the wire shapes.
type policyJSON struct {
	Version   string
	ID        string `json:"Id"`
	Statement oneOrMany[statementJSON]
}

type statementJSON struct {
	Sid       string
	Effect    string
	Principal json.RawMessage
	Action    oneOrMany[string]
	Resource  oneOrMany[string]
}

// oneOrMany decodes an IAM element that is either a value or a list.
type oneOrMany[T any] []T

func (o *oneOrMany[T]) UnmarshalJSON(b []byte) error {
	var many []T
	if err := json.Unmarshal(b, &many); err == nil {
		*o = many
		return nil
	}
	var one T
	if err := json.Unmarshal(b, &one); err != nil {
		return err
	}
	*o = []T{one}
	return nil
}

func malformedPolicy(format string, args ...any) *Error {
	return apiError(ErrMalformedPolicy, format, args...)
}

// parsePolicy parses and checks a policy for bucket.
func parsePolicy(bucket string, text []byte) (*policy, *Error) {
	if len(text) > MaxPolicySize {
		return nil, malformedPolicy("Policies must be smaller than %d bytes.", MaxPolicySize)
	}
	if err := refuseUnknownKeys(text, "Version", "Id", "Statement"); err != nil {
		return nil, err
	}
	var pj policyJSON
	if err := json.Unmarshal(text, &pj); err != nil {
		return nil, malformedPolicy("Policies must be valid JSON: %v.", err)
	}
	if pj.Version != "" && pj.Version != "2012-10-17" && pj.Version != "2008-10-17" {
		return nil, malformedPolicy("The policy version %q is not supported.", pj.Version)
	}
	if len(pj.Statement) == 0 {
		return nil, malformedPolicy("A policy needs at least one Statement.")
	}
	p := &policy{}
	for i, sj := range pj.Statement {
		st, err := parseStatement(bucket, sj)
		if err != nil {
			return nil, malformedPolicy("Statement %d: %s", i+1, err.message())
		}
		p.statements = append(p.statements, st)
	}
	return p, nil
}

// refuseUnknownKeys rejects elements we do not evaluate, at the top level
// and in every statement.
func refuseUnknownKeys(text []byte, allowed ...string) *Error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(text, &top); err != nil {
		return malformedPolicy("Policies must be a valid JSON object: %v.", err)
	}
	for k := range top {
		if !containsFold(allowed, k) {
			return malformedPolicy("The policy element %q is not supported.", k)
		}
	}
	var stmts oneOrMany[map[string]json.RawMessage]
	if raw, ok := top["Statement"]; ok {
		if err := json.Unmarshal(raw, &stmts); err != nil {
			return malformedPolicy("Statement must be an object or a list of objects.")
		}
	}
	for _, st := range stmts {
		for k := range st {
			if !containsFold([]string{"Sid", "Effect", "Principal", "Action", "Resource"}, k) {
				return malformedPolicy("The statement element %q is not supported by Kumo's bucket policies.", k)
			}
		}
	}
	return nil
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

func parseStatement(bucket string, sj statementJSON) (statement, *Error) {
	st := statement{allow: sj.Effect == "Allow"}
	if sj.Effect != "Allow" && sj.Effect != "Deny" {
		return st, malformedPolicy("Effect must be Allow or Deny, not %q.", sj.Effect)
	}
	var err *Error
	if st.principals, err = parsePrincipals(sj.Principal); err != nil {
		return st, err
	}
	if len(sj.Action) == 0 || len(sj.Resource) == 0 {
		return st, malformedPolicy("Action and Resource are required.")
	}
	for _, a := range sj.Action {
		if a != "*" && !strings.HasPrefix(strings.ToLower(a), "s3:") {
			return st, malformedPolicy("The action %q is not an s3 action.", a)
		}
		st.actions = append(st.actions, strings.ToLower(a))
	}
	for _, r := range sj.Resource {
		if !resourceInBucket(bucket, r) {
			return st, malformedPolicy("Policy has invalid resource %q: resources must be arn:aws:s3:::%s or arn:aws:s3:::%s/...", r, bucket, bucket)
		}
		st.resources = append(st.resources, r)
	}
	return st, nil
}

func resourceInBucket(bucket, r string) bool {
	rest, ok := strings.CutPrefix(r, "arn:aws:s3:::")
	if !ok {
		return false
	}
	name, _, _ := strings.Cut(rest, "/")
	return name == bucket
}

var (
	accountIDPattern = regexp.MustCompile(`^[0-9]{12}$`)
	principalARN     = regexp.MustCompile(`^arn:aws:iam::([0-9]{12}):(root|user/[\w+=,.@/-]+)$`)
)

func parsePrincipals(raw json.RawMessage) ([]principal, *Error) {
	if len(raw) == 0 {
		return nil, malformedPolicy("Principal is required in a bucket policy.")
	}
	var star string
	if err := json.Unmarshal(raw, &star); err == nil {
		if star != "*" {
			return nil, malformedPolicy("Invalid principal %q.", star)
		}
		return []principal{{anyone: true}}, nil
	}
	var obj map[string]oneOrMany[string]
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, malformedPolicy("Principal must be \"*\" or {\"AWS\": ...}.")
	}
	var out []principal
	for kind, values := range obj {
		if kind != "AWS" {
			return nil, malformedPolicy("Principal type %q is not supported; use \"AWS\".", kind)
		}
		for _, v := range values {
			p, err := parsePrincipal(v)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, malformedPolicy("Principal names nobody.")
	}
	return out, nil
}

func parsePrincipal(v string) (principal, *Error) {
	switch {
	case v == "*":
		return principal{anyone: true}, nil
	case accountIDPattern.MatchString(v):
		return principal{accountID: v}, nil
	}
	m := principalARN.FindStringSubmatch(v)
	if m == nil {
		return principal{}, malformedPolicy("Invalid principal %q: use an account id, arn:aws:iam::ACCOUNT:root or arn:aws:iam::ACCOUNT:user/NAME.", v)
	}
	p := principal{accountID: m[1]}
	if user, ok := strings.CutPrefix(m[2], "user/"); ok {
		p.userName = user[strings.LastIndex(user, "/")+1:]
	}
	return p, nil
}

// decide reports whether any statement allows, and whether any denies,
// the action on the resource for the caller.
func (p *policy) decide(c Caller, action, resource string) (allowed, denied bool) {
	if p == nil {
		return false, false
	}
	for _, st := range p.statements {
		if !st.matches(c, action, resource) {
			continue
		}
		if st.allow {
			allowed = true
		} else {
			denied = true
		}
	}
	return allowed, denied
}

func (st statement) matches(c Caller, action, resource string) bool {
	return st.matchesPrincipal(c) && matchAny(st.actions, strings.ToLower(action)) && matchAny(st.resources, resource)
}

func (st statement) matchesPrincipal(c Caller) bool {
	for _, p := range st.principals {
		switch {
		case p.anyone:
			return true
		case c.Anonymous || p.accountID != c.AccountID:
		case p.userName == "" || p.userName == c.UserName:
			return true
		}
	}
	return false
}

func matchAny(patterns []string, s string) bool {
	for _, p := range patterns {
		if wildcardMatch(p, s) {
			return true
		}
	}
	return false
}

// wildcardMatch matches s against a pattern where * is any run of
// characters and ? any one character.
func wildcardMatch(pattern, s string) bool {
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case pi < len(pattern) && (pattern[pi] == '?' || pattern[pi] == s[si]):
			pi, si = pi+1, si+1
		case pi < len(pattern) && pattern[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi, mark = star+1, mark+1
			si = mark
		default:
			return false
		}
	}
	for pi < len(pattern) && pattern[pi] == '*' {
		pi++
	}
	return pi == len(pattern)
}

// bucketARN and objectARN name resources as policies do.
func bucketARN(bucket string) string { return "arn:aws:s3:::" + bucket }

func objectARN(bucket, key string) string { return fmt.Sprintf("arn:aws:s3:::%s/%s", bucket, key) }
