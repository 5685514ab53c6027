package policy

import (
	"strings"
	"unicode/utf8"
)

type tokKind uint8

const (
	tLit   tokKind = iota
	tStar          // * : any run of characters
	tQmark         // ? : one character
	tVar           // ${key} or ${key, 'default'}
)

type tok struct {
	kind   tokKind
	lit    string // tLit text; tVar lower-cased key
	def    string // tVar default
	hasDef bool
}

// pattern is a compiled string: literal text, wildcards (when the
// operator or element takes them) and policy variables.
type pattern struct {
	toks    []tok
	hasVars bool
	plain   bool   // one literal, no wildcard: compare directly
	text    string // the literal when plain
}

// compilePattern compiles a wildcard pattern without policy variables
// (actions).
func compilePattern(s string) pattern { return compile(s, true, false) }

// compile turns s into tokens. wild: * and ? are wildcards. variables:
// ${...} are policy variables (2012-10-17 documents only).
func compile(s string, wild, variables bool) pattern {
	var p pattern
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			p.toks = append(p.toks, tok{kind: tLit, lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case wild && c == '*':
			flush()
			p.toks = append(p.toks, tok{kind: tStar})
			i++
		case wild && c == '?':
			flush()
			p.toks = append(p.toks, tok{kind: tQmark})
			i++
		case variables && c == '$' && strings.HasPrefix(s[i:], "${"):
			t, n, ok := parseVariable(s[i:])
			if !ok {
				lit.WriteByte(c)
				i++
				continue
			}
			if t.kind == tLit {
				lit.WriteString(t.lit)
			} else {
				flush()
				p.toks = append(p.toks, t)
				p.hasVars = true
			}
			i += n
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	switch {
	case len(p.toks) == 0:
		p.plain = true
	case len(p.toks) == 1 && p.toks[0].kind == tLit:
		p.plain, p.text = true, p.toks[0].lit
	}
	return p
}

// parseVariable reads "${...}" at the start of s: ${*}, ${?} and ${$}
// are the literal characters; ${key} or ${key, 'default'} a variable
// (” inside a default is one quote). It returns the token and the
// length read; ok false when s holds no well-formed variable.
func parseVariable(s string) (tok, int, bool) {
	end := variableEnd(s)
	if end < 0 {
		return tok{}, 0, false
	}
	body := strings.TrimSpace(s[2:end])
	switch body {
	case "*", "?", "$":
		return tok{kind: tLit, lit: body}, end + 1, true
	case "":
		return tok{}, 0, false
	}
	key, def, hasDef := body, "", false
	if k, d, ok := strings.Cut(body, ","); ok {
		d = strings.TrimSpace(d)
		if len(d) < 2 || d[0] != '\'' || d[len(d)-1] != '\'' {
			return tok{}, 0, false
		}
		key, def, hasDef = strings.TrimSpace(k), strings.ReplaceAll(d[1:len(d)-1], "''", "'"), true
	}
	if key == "" || strings.ContainsAny(key, " '") {
		return tok{}, 0, false
	}
	return tok{kind: tVar, lit: strings.ToLower(key), def: def, hasDef: hasDef}, end + 1, true
}

// variableEnd finds the "}" closing "${" at s[0], skipping a quoted
// default (which may hold "}").
func variableEnd(s string) int {
	inQuote := false
	for i := 2; i < len(s); i++ {
		switch s[i] {
		case '\'':
			inQuote = !inQuote
		case '}':
			if !inQuote {
				return i
			}
		}
	}
	return -1
}

// resolve substitutes the variables of p from ctx. ok is false when a
// variable has no single value and no default: AWS then treats the
// element as not matching.
func (p *pattern) resolve(ctx *Context) (pattern, bool) {
	if !p.hasVars {
		return *p, true
	}
	out := pattern{toks: make([]tok, 0, len(p.toks))}
	for _, t := range p.toks {
		if t.kind != tVar {
			out.toks = append(out.toks, t)
			continue
		}
		vals, present := ctx.get(t.lit)
		switch {
		case present && len(vals) == 1:
			out.toks = append(out.toks, tok{kind: tLit, lit: vals[0]})
		case t.hasDef:
			out.toks = append(out.toks, tok{kind: tLit, lit: t.def})
		default:
			return pattern{}, false
		}
	}
	if onlyLiterals(out.toks) {
		out.plain, out.text = true, joinLiterals(out.toks)
	}
	return out, true
}

func onlyLiterals(toks []tok) bool {
	for _, t := range toks {
		if t.kind != tLit {
			return false
		}
	}
	return true
}

func joinLiterals(toks []tok) string {
	if len(toks) == 1 {
		return toks[0].lit
	}
	var b strings.Builder
	for _, t := range toks {
		b.WriteString(t.lit)
	}
	return b.String()
}

// match reports whether s matches a resolved pattern.
func (p *pattern) match(s string) bool {
	if p.plain {
		return p.text == s
	}
	return matchTokens(p.toks, s)
}

// matchTokens is glob matching: on a mismatch, retry from the last star
// one character further. Earlier stars never need another try.
func matchTokens(toks []tok, s string) bool {
	ti, si := 0, 0
	starT, starS := -1, 0
	for {
		if ti < len(toks) {
			t := toks[ti]
			switch t.kind {
			case tStar:
				if ti == len(toks)-1 {
					return true // a trailing star takes the rest
				}
				starT, starS = ti, si
				ti++
				continue
			case tQmark:
				if si < len(s) {
					_, n := utf8.DecodeRuneInString(s[si:])
					si += n
					ti++
					continue
				}
			case tLit:
				if strings.HasPrefix(s[si:], t.lit) {
					si += len(t.lit)
					ti++
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		if starT < 0 || starS >= len(s) {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starS:])
		starS += n
		ti, si = starT+1, starS
	}
}

// resourcePattern is a Resource/NotResource entry or an Arn* condition
// value: "*", or an ARN whose six colon-separated segments match one by
// one (a wildcard never spans a colon between segments; the last
// segment, the resource, may itself hold colons).
type resourcePattern struct {
	any     bool
	segs    [6]pattern
	ok      bool // six segments
	hasVars bool
}

func compileResource(s string, variables bool) resourcePattern {
	if s == "*" {
		return resourcePattern{any: true}
	}
	var r resourcePattern
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 {
		r.segs[0] = compile(s, true, variables)
		return r
	}
	r.ok = true
	for i, part := range parts {
		r.segs[i] = compile(part, true, variables)
		r.hasVars = r.hasVars || r.segs[i].hasVars
	}
	return r
}

// arnParts splits an ARN into its six segments.
func arnParts(s string) ([6]string, bool) {
	var out [6]string
	for i := 0; i < 5; i++ {
		j := strings.IndexByte(s, ':')
		if j < 0 {
			return out, false
		}
		out[i], s = s[:j], s[j+1:]
	}
	out[5] = s
	return out, true
}

// match reports whether the resource (already split: parts, ok) matches.
// resolved is false when a policy variable in the pattern has no value:
// the entry then takes no part in the statement.
func (r *resourcePattern) match(whole string, parts [6]string, isARN bool, ctx *Context) (matched, resolved bool) {
	if r.any {
		return true, true
	}
	if !r.ok {
		p, ok := r.segs[0].resolve(ctx)
		return ok && p.match(whole), ok
	}
	if !r.hasVars {
		if !isARN {
			return false, true
		}
		// The resource segment (the most distinctive) first.
		for i := 5; i >= 0; i-- {
			if !r.segs[i].match(parts[i]) {
				return false, true
			}
		}
		return true, true
	}
	var segs [6]pattern
	for i := range r.segs {
		p, ok := r.segs[i].resolve(ctx)
		if !ok {
			return false, false
		}
		segs[i] = p
	}
	if !isARN {
		return false, true
	}
	for i := range segs {
		if !segs[i].match(parts[i]) {
			return false, true
		}
	}
	return true, true
}
