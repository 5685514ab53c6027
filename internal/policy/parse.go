package policy

import (
	"bytes"
	"encoding/json"
	"strings"
)

var (
	policyKeys    = []string{"Version", "Id", "Statement"}
	statementKeys = []string{"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction",
		"Resource", "NotResource", "Condition"}
)

// Parse parses and checks a policy document of the given kind. A document
// IAM would refuse gives a *MalformedError carrying IAM's message.
func Parse(doc []byte, kind Kind) (*Policy, error) {
	top, err := object(doc)
	if err != nil {
		return nil, err
	}
	if err := onlyKeys(top, policyKeys); err != nil {
		return nil, err
	}
	p := &Policy{}
	if raw, ok := top["Version"]; ok {
		if err := json.Unmarshal(raw, &p.Version); err != nil {
			return nil, malformed(msgSyntax)
		}
		if p.Version != Version2012 && p.Version != Version2008 {
			return nil, malformed(msgLegacy)
		}
	}
	p.variables = p.Version == Version2012
	if raw, ok := top["Id"]; ok {
		if err := json.Unmarshal(raw, &p.ID); err != nil {
			return nil, malformed(msgSyntax)
		}
	}
	raw, ok := top["Statement"]
	if !ok || isNull(raw) {
		return nil, malformed(msgNoStatement)
	}
	stmts, err := statements(raw)
	if err != nil {
		return nil, err
	}
	sids := map[string]bool{}
	for _, s := range stmts {
		st, err := parseStatement(s, kind, p.variables)
		if err != nil {
			return nil, err
		}
		if st.Sid != "" {
			if sids[st.Sid] {
				return nil, malformed(msgSidUnique)
			}
			sids[st.Sid] = true
		}
		p.Statements = append(p.Statements, st)
	}
	return p, nil
}

// object decodes a JSON object, refusing anything else.
func object(b []byte) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return nil, malformed(msgSyntax)
	}
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		return nil, malformed(msgSyntax)
	}
	return m, nil
}

func onlyKeys(m map[string]json.RawMessage, allowed []string) error {
	for k := range m {
		if !contains(allowed, k) {
			return malformed(msgSyntax)
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// statements accepts a statement object or a non-empty list of them.
func statements(raw json.RawMessage) ([]map[string]json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '{' {
		m, err := object(raw)
		if err != nil {
			return nil, err
		}
		return []map[string]json.RawMessage{m}, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, malformed(msgSyntax)
	}
	if len(list) == 0 {
		return nil, malformed(msgNoStatement)
	}
	out := make([]map[string]json.RawMessage, 0, len(list))
	for _, r := range list {
		m, err := object(r)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// strings decodes an element that is a string or a list of strings.
func stringList(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, malformed(msgSyntax)
		}
		return []string{s}, nil
	}
	var list []string
	if len(raw) == 0 || raw[0] != '[' || json.Unmarshal(raw, &list) != nil {
		return nil, malformed(msgSyntax)
	}
	return list, nil
}

func parseStatement(m map[string]json.RawMessage, kind Kind, variables bool) (Statement, error) {
	var st Statement
	if err := onlyKeys(m, statementKeys); err != nil {
		return st, err
	}
	if err := parseSid(m, kind, &st); err != nil {
		return st, err
	}
	if err := parseEffect(m, &st); err != nil {
		return st, err
	}
	if err := parseActions(m, &st); err != nil {
		return st, err
	}
	if err := parseResources(m, kind, variables, &st); err != nil {
		return st, err
	}
	if err := parsePrincipalElement(m, kind, &st); err != nil {
		return st, err
	}
	if raw, ok := m["Condition"]; ok {
		conds, err := parseConditions(raw, variables)
		if err != nil {
			return st, err
		}
		st.Conditions = conds
	}
	return st, nil
}

func parseSid(m map[string]json.RawMessage, kind Kind, st *Statement) error {
	raw, ok := m["Sid"]
	if !ok {
		return nil
	}
	if err := json.Unmarshal(raw, &st.Sid); err != nil {
		return malformed(msgSyntax)
	}
	// IAM holds the Sids of its own documents to [0-9A-Za-z]*; resource
	// policies (S3) accept any string.
	if kind != Resource {
		for _, r := range st.Sid {
			if !isAlnum(r) {
				return malformed(msgSidAlnum)
			}
		}
	}
	return nil
}

func isAlnum(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
}

func parseEffect(m map[string]json.RawMessage, st *Statement) error {
	raw, ok := m["Effect"]
	if !ok {
		return malformed(msgNoEffect)
	}
	var e string
	if err := json.Unmarshal(raw, &e); err != nil {
		return malformed(msgSyntax)
	}
	switch e {
	case "Allow":
		st.Effect = Allow
	case "Deny":
		st.Effect = Deny
	default:
		return malformed(msgSyntax)
	}
	return nil
}

// pick returns the one of two mutually exclusive elements present.
func pick(m map[string]json.RawMessage, name, notName string) (raw json.RawMessage, not, ok bool, err error) {
	a, hasA := m[name]
	b, hasB := m[notName]
	switch {
	case hasA && hasB:
		return nil, false, false, malformed(msgBothElements, name, notName)
	case hasA:
		return a, false, true, nil
	case hasB:
		return b, true, true, nil
	}
	return nil, false, false, nil
}

func parseActions(m map[string]json.RawMessage, st *Statement) error {
	raw, not, ok, err := pick(m, "Action", "NotAction")
	if err != nil {
		return err
	}
	if !ok {
		return malformed(msgNoActions)
	}
	list, err := stringList(raw)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		return malformed(msgNoActions)
	}
	st.Actions, st.NotActions = list, not
	for _, a := range list {
		if err := checkAction(a); err != nil {
			return err
		}
		st.actions = append(st.actions, compilePattern(strings.ToLower(a)))
	}
	return nil
}

// checkAction applies IAM's rules: "*" alone, or vendor:name with one
// colon and no wildcard in the vendor.
func checkAction(a string) error {
	if a == "*" {
		return nil
	}
	vendor, name, ok := strings.Cut(a, ":")
	if !ok || vendor == "" || name == "" {
		return malformed(msgVendor)
	}
	if strings.Contains(name, ":") {
		return malformed(msgOneColon)
	}
	if strings.ContainsAny(vendor, "*?") {
		return malformed(msgVendorWildcard)
	}
	return nil
}

func parseResources(m map[string]json.RawMessage, kind Kind, variables bool, st *Statement) error {
	raw, not, ok, err := pick(m, "Resource", "NotResource")
	if err != nil {
		return err
	}
	if kind == Trust {
		if ok {
			name := "Resource"
			if not {
				name = "NotResource"
			}
			return malformed(msgProhibited, name)
		}
		return nil
	}
	if !ok {
		return malformed(msgNoResources)
	}
	list, err := stringList(raw)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		return malformed(msgNoResources)
	}
	st.Resources, st.NotResources = list, not
	for _, r := range list {
		if r != "*" && !strings.HasPrefix(r, "arn:") {
			return malformed(msgResourceARN, r)
		}
		if r != "*" && strings.Count(r, ":") < 5 {
			return malformed(msgResourceARN, r)
		}
		st.resources = append(st.resources, compileResource(r, variables))
	}
	return nil
}
