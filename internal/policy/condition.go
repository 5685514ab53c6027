package policy

import (
	"bytes"
	"encoding/json"
	"strings"
)

// family is a condition operator family: how one request value is
// compared with one policy value.
type family uint8

const (
	famString family = iota
	famStringIgnoreCase
	famStringLike
	famNumericEq
	famNumericLt
	famNumericLe
	famNumericGt
	famNumericGe
	famDateEq
	famDateLt
	famDateLe
	famDateGt
	famDateGe
	famBool
	famBinary
	famIP
	famArn
	famNull
)

// operator is a base operator: a family, negated or not.
type operator struct {
	fam     family
	negated bool
}

var operators = map[string]operator{
	"StringEquals":              {famString, false},
	"StringNotEquals":           {famString, true},
	"StringEqualsIgnoreCase":    {famStringIgnoreCase, false},
	"StringNotEqualsIgnoreCase": {famStringIgnoreCase, true},
	"StringLike":                {famStringLike, false},
	"StringNotLike":             {famStringLike, true},
	"NumericEquals":             {famNumericEq, false},
	"NumericNotEquals":          {famNumericEq, true},
	"NumericLessThan":           {famNumericLt, false},
	"NumericLessThanEquals":     {famNumericLe, false},
	"NumericGreaterThan":        {famNumericGt, false},
	"NumericGreaterThanEquals":  {famNumericGe, false},
	"DateEquals":                {famDateEq, false},
	"DateNotEquals":             {famDateEq, true},
	"DateLessThan":              {famDateLt, false},
	"DateLessThanEquals":        {famDateLe, false},
	"DateGreaterThan":           {famDateGt, false},
	"DateGreaterThanEquals":     {famDateGe, false},
	"Bool":                      {famBool, false},
	"BinaryEquals":              {famBinary, false},
	"IpAddress":                 {famIP, false},
	"NotIpAddress":              {famIP, true},
	"ArnEquals":                 {famArn, false},
	"ArnLike":                   {famArn, false},
	"ArnNotEquals":              {famArn, true},
	"ArnNotLike":                {famArn, true},
	"Null":                      {famNull, false},
}

// setQualifier is the ForAllValues: / ForAnyValue: prefix.
type setQualifier uint8

const (
	setNone setQualifier = iota
	setAll
	setAny
)

// Condition is one operator-key pair of a Condition block with its
// values. A statement applies only when all its conditions hold; a
// condition holds when the request's value matches any of Values.
type Condition struct {
	Operator string // as written: "ForAnyValue:StringLikeIfExists"
	Key      string // as written: "aws:RequestTag/team"
	Values   []string

	op       operator
	set      setQualifier
	ifExists bool
	key      string // lower case
	vals     []condValue
	hasVars  bool
}

func parseConditions(raw json.RawMessage, variables bool) ([]Condition, error) {
	block, err := object(raw)
	if err != nil {
		return nil, err
	}
	var out []Condition
	for opName, keysRaw := range block {
		op, set, ifExists, ok := parseOperator(opName)
		if !ok {
			return nil, malformed(msgConditionType, opName)
		}
		keys, err := object(keysRaw)
		if err != nil {
			return nil, err
		}
		for key, valsRaw := range keys {
			c := Condition{Operator: opName, Key: key, op: op, set: set, ifExists: ifExists, key: strings.ToLower(key)}
			if err := checkConditionKey(key); err != nil {
				return nil, err
			}
			vals, err := conditionValues(valsRaw)
			if err != nil {
				return nil, err
			}
			c.Values = vals
			for _, v := range vals {
				cv, err := compileValue(op.fam, v, variables)
				if err != nil {
					return nil, err
				}
				c.vals = append(c.vals, cv)
				c.hasVars = c.hasVars || cv.hasVars()
			}
			out = append(out, c)
		}
	}
	sortConditions(out)
	return out, nil
}

// sortConditions orders a statement's conditions: the order they were
// written in is lost to the JSON map, and the outcome does not depend on
// it (they are ANDed), so cheap comparisons go first (a failing one ends
// the statement), then by operator and key so evaluation is deterministic.
func sortConditions(cs []Condition) {
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && conditionLess(cs[j], cs[j-1]); j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}

func conditionLess(a, b Condition) bool {
	if ca, cb := a.op.cost(), b.op.cost(); ca != cb {
		return ca < cb
	}
	if a.Operator != b.Operator {
		return a.Operator < b.Operator
	}
	return a.Key < b.Key
}

func parseOperator(name string) (op operator, set setQualifier, ifExists, ok bool) {
	switch {
	case strings.HasPrefix(name, "ForAllValues:"):
		set, name = setAll, strings.TrimPrefix(name, "ForAllValues:")
	case strings.HasPrefix(name, "ForAnyValue:"):
		set, name = setAny, strings.TrimPrefix(name, "ForAnyValue:")
	}
	if base, found := strings.CutSuffix(name, "IfExists"); found && base != "Null" {
		name, ifExists = base, true
	}
	op, ok = operators[name]
	return op, set, ifExists, ok
}

func checkConditionKey(key string) error {
	vendor, name, ok := strings.Cut(key, ":")
	if !ok || vendor == "" || name == "" {
		return malformed(msgVendor)
	}
	return nil
}

// conditionValues accepts a string, number or boolean, or a list of
// them; IAM compares them all as text.
func conditionValues(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, malformed(msgSyntax)
		}
		out := make([]string, 0, len(list))
		for _, r := range list {
			s, err := scalar(r)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	s, err := scalar(raw)
	if err != nil {
		return nil, err
	}
	return []string{s}, nil
}

func scalar(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", malformed(msgSyntax)
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", malformed(msgSyntax)
		}
		return s, nil
	case 't', 'f':
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return "", malformed(msgSyntax)
		}
		if b {
			return "true", nil
		}
		return "false", nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", malformed(msgSyntax)
	}
	return n.String(), nil
}

// holds evaluates the condition against the request context.
func (c *Condition) holds(ctx *Context) bool {
	if c.hasVars && !c.anyResolves(ctx) {
		// Every value names a variable with no value: AWS treats the
		// statement as invalid, so it does not apply.
		return false
	}
	vals, present := ctx.get(c.key)
	if c.op.fam == famNull {
		return c.nullHolds(present && len(vals) > 0)
	}
	if !present || (c.set != setNone && len(vals) == 0) {
		switch {
		case c.ifExists:
			return true
		case c.set == setAll:
			return true
		case c.set == setAny:
			return false
		}
		return c.op.negated
	}
	switch c.set {
	case setAll:
		for _, v := range vals {
			if c.anyValueMatches(v, ctx) == c.op.negated {
				return false
			}
		}
		return true
	case setAny:
		for _, v := range vals {
			if c.anyValueMatches(v, ctx) != c.op.negated {
				return true
			}
		}
		return false
	}
	for _, v := range vals {
		if c.anyValueMatches(v, ctx) {
			return !c.op.negated
		}
	}
	return c.op.negated
}

// nullHolds: "Null": {"k": "true"} holds when k is absent, "false" when
// it is present; several values are alternatives.
func (c *Condition) nullHolds(present bool) bool {
	for _, v := range c.Values {
		switch strings.ToLower(v) {
		case "true":
			if !present {
				return true
			}
		case "false":
			if present {
				return true
			}
		}
	}
	return false
}

// anyValueMatches reports whether the request value v matches any of
// the policy values under the (non-negated) family.
func (c *Condition) anyValueMatches(v string, ctx *Context) bool {
	for i := range c.vals {
		if c.vals[i].matches(c.op.fam, v, ctx) {
			return true
		}
	}
	return false
}

func (c *Condition) anyResolves(ctx *Context) bool {
	for i := range c.vals {
		if c.vals[i].resolves(ctx) {
			return true
		}
	}
	return false
}

// cost ranks families by the work a comparison takes.
func (o operator) cost() int {
	switch o.fam {
	case famNull, famBool, famString, famStringIgnoreCase, famBinary:
		return 0
	case famStringLike, famArn:
		return 1
	}
	return 2
}
