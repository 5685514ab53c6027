package iam

import (
	"encoding/json"
	"strings"
	"unicode"
)

// docKind says what a policy document is for: trust policies name a
// Principal and no Resource, identity policies the other way round.
type docKind int

const (
	identityPolicy docKind = iota
	trustPolicy
)

// checkPolicyDocument does the minimal syntax check IAM does before it
// stores a document, answering MalformedPolicyDocument with IAM's wording.
// It is deliberately small: the policy engine's parser replaces it (a
// document the engine cannot evaluate must be refused here too).
func checkPolicyDocument(doc string, kind docKind) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &top); err != nil || top == nil {
		return malformedPolicy("Syntax errors in policy.")
	}
	var version string
	if raw, ok := top["Version"]; !ok || json.Unmarshal(raw, &version) != nil || (version != "2012-10-17" && version != "2008-10-17") {
		return malformedPolicy("Policy document must be version 2012-10-17 or greater.")
	}
	statements, err := parseStatements(top["Statement"])
	if err != nil {
		return err
	}
	for _, st := range statements {
		if err := checkStatement(st, kind); err != nil {
			return err
		}
	}
	return nil
}

// parseStatements accepts one statement object or a non-empty list of them.
func parseStatements(raw json.RawMessage) ([]map[string]json.RawMessage, error) {
	if len(raw) == 0 {
		return nil, malformedPolicy("Syntax errors in policy.")
	}
	var one map[string]json.RawMessage
	if json.Unmarshal(raw, &one) == nil && one != nil {
		return []map[string]json.RawMessage{one}, nil
	}
	var list []map[string]json.RawMessage
	if json.Unmarshal(raw, &list) != nil || len(list) == 0 {
		return nil, malformedPolicy("Syntax errors in policy.")
	}
	for _, st := range list {
		if st == nil {
			return nil, malformedPolicy("Syntax errors in policy.")
		}
	}
	return list, nil
}

func checkStatement(st map[string]json.RawMessage, kind docKind) error {
	var effect string
	if json.Unmarshal(st["Effect"], &effect) != nil || (effect != "Allow" && effect != "Deny") {
		return malformedPolicy("Syntax errors in policy.")
	}
	_, action := st["Action"]
	_, notAction := st["NotAction"]
	if action && notAction {
		return malformedPolicy("Syntax errors in policy.")
	}
	if !action && !notAction {
		return malformedPolicy("Policy statement must contain actions.")
	}
	for _, key := range []string{"Action", "NotAction", "Resource", "NotResource"} {
		if raw, ok := st[key]; ok && !stringOrStrings(raw) {
			return malformedPolicy("Syntax errors in policy.")
		}
	}
	_, resource := st["Resource"]
	_, notResource := st["NotResource"]
	_, principal := st["Principal"]
	_, notPrincipal := st["NotPrincipal"]
	switch {
	case kind == identityPolicy && !resource && !notResource:
		return malformedPolicy("Policy statement must contain resources.")
	case kind == identityPolicy && (principal || notPrincipal):
		return malformedPolicy("Policy document should not specify a principal.")
	case kind == trustPolicy && (resource || notResource):
		return malformedPolicy("Has prohibited field Resource")
	case kind == trustPolicy && !principal && !notPrincipal:
		return malformedPolicy("AssumeRolepolicy contained an invalid principal: Missing required field Principal")
	}
	return nil
}

func stringOrStrings(raw json.RawMessage) bool {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return true
	}
	var list []string
	return json.Unmarshal(raw, &list) == nil && len(list) > 0
}

// policySize is a document's size as IAM counts it against its quotas:
// characters other than white space.
func policySize(doc string) int {
	n := 0
	for _, r := range doc {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// encodeDocument percent-encodes a policy document the way IAM returns
// documents (RFC 3986: everything but unreserved characters is escaped);
// SDK users decode it with url.QueryUnescape, the AWS CLI does so itself.
func encodeDocument(doc string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(doc) * 2)
	for i := 0; i < len(doc); i++ {
		c := doc[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
