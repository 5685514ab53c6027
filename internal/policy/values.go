package policy

import (
	"math/big"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// condValue is one policy value of a condition, compiled for its family.
// Values that hold a policy variable are parsed at evaluation.
type condValue struct {
	pat    pattern         // string families, and the raw text for the others
	arn    resourcePattern // famArn
	num    *big.Float      // numeric families, when constant
	when   time.Time       // date families, when constant
	prefix netip.Prefix    // famIP, when constant
	valid  bool            // the constant parsed
}

func compileValue(fam family, v string, variables bool) (condValue, error) {
	var cv condValue
	switch fam {
	case famStringLike:
		cv.pat = compile(v, true, variables)
	case famArn:
		cv.arn = compileResource(v, variables)
	default:
		cv.pat = compile(v, false, variables)
	}
	if !cv.pat.hasVars {
		cv.parseConstant(fam, cv.pat.text)
	}
	return cv, nil
}

// hasVars reports whether the value holds a policy variable.
func (cv *condValue) hasVars() bool {
	if cv.pat.hasVars {
		return true
	}
	for i := range cv.arn.segs {
		if cv.arn.segs[i].hasVars {
			return true
		}
	}
	return false
}

// resolves reports whether the value's variables all have values.
func (cv *condValue) resolves(ctx *Context) bool {
	if _, ok := cv.pat.resolve(ctx); !ok {
		return false
	}
	for i := range cv.arn.segs {
		if _, ok := cv.arn.segs[i].resolve(ctx); !ok {
			return false
		}
	}
	return true
}

func (cv *condValue) parseConstant(fam family, s string) {
	switch {
	case isNumeric(fam):
		cv.num, cv.valid = parseNumber(s)
	case isDate(fam):
		cv.when, cv.valid = parseDate(s)
	case fam == famIP:
		cv.prefix, cv.valid = parsePrefix(s)
	}
}

func isNumeric(f family) bool { return f >= famNumericEq && f <= famNumericGe }
func isDate(f family) bool    { return f >= famDateEq && f <= famDateGe }

// matches compares the request value v with this policy value.
func (cv *condValue) matches(fam family, v string, ctx *Context) bool {
	if fam == famArn {
		parts, ok := arnParts(v)
		m, _ := cv.arn.match(v, parts, ok, ctx)
		return m
	}
	p, ok := cv.pat.resolve(ctx)
	if !ok {
		return false
	}
	switch fam {
	case famString, famBinary:
		return p.text == v
	case famStringIgnoreCase:
		return strings.EqualFold(p.text, v)
	case famStringLike:
		return p.match(v)
	case famBool:
		return strings.EqualFold(p.text, v)
	}
	c := *cv
	if cv.pat.hasVars {
		c.parseConstant(fam, p.text)
	}
	if !c.valid {
		return false
	}
	switch {
	case isNumeric(fam):
		n, ok := parseNumber(v)
		return ok && compare(fam-famNumericEq, n.Cmp(c.num))
	case isDate(fam):
		t, ok := parseDate(v)
		return ok && compare(fam-famDateEq, t.Compare(c.when))
	case fam == famIP:
		a, err := netip.ParseAddr(strings.TrimSpace(v))
		return err == nil && c.prefix.Contains(a.Unmap())
	}
	return false
}

// compare applies the n-th of Equals, LessThan, LessThanEquals,
// GreaterThan, GreaterThanEquals to a comparison result.
func compare(n family, cmp int) bool {
	switch n {
	case 0:
		return cmp == 0
	case 1:
		return cmp < 0
	case 2:
		return cmp <= 0
	case 3:
		return cmp > 0
	case 4:
		return cmp >= 0
	}
	return false
}

func parseNumber(s string) (*big.Float, bool) {
	f, _, err := big.ParseFloat(strings.TrimSpace(s), 10, 128, big.ToNearestEven)
	return f, err == nil
}

// dateLayouts are the ISO 8601 forms AWS accepts for dates.
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04Z",
	"2006-01-02T15:04:05",
	"2006-01-02",
}

// parseDate reads an ISO 8601 date or an epoch time in seconds.
func parseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), true
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// parsePrefix reads a CIDR block or a single address (a /32 or /128).
func parsePrefix(s string) (netip.Prefix, bool) {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	return netip.Prefix{}, false
}
