package policy

import (
	"sort"
	"strings"
)

// Context holds a request's context keys (aws:SourceIp,
// ec2:ResourceTag/team, ...) and their values. Key names are
// case-insensitive, as in AWS; values are kept as given. A key set with
// no values is present with an empty set, which the ForAllValues and
// ForAnyValue operators treat as AWS documents. The zero value and nil
// are empty contexts.
type Context struct {
	m map[string][]string
}

// NewContext returns an empty context.
func NewContext() *Context { return &Context{m: map[string][]string{}} }

// Set sets key to values, replacing what it had, and returns c.
func (c *Context) Set(key string, values ...string) *Context {
	if c.m == nil {
		c.m = map[string][]string{}
	}
	if values == nil {
		values = []string{}
	}
	c.m[strings.ToLower(key)] = values
	return c
}

// Add appends values to key.
func (c *Context) Add(key string, values ...string) *Context {
	k := strings.ToLower(key)
	if c.m == nil {
		c.m = map[string][]string{}
	}
	c.m[k] = append(c.m[k], values...)
	return c
}

// Delete removes key.
func (c *Context) Delete(key string) { delete(c.m, strings.ToLower(key)) }

// Get returns key's values and whether it is present.
func (c *Context) Get(key string) ([]string, bool) { return c.get(strings.ToLower(key)) }

// get looks up a key already in lower case.
func (c *Context) get(lower string) ([]string, bool) {
	if c == nil {
		return nil, false
	}
	v, ok := c.m[lower]
	return v, ok
}

// Clone returns a copy of c that Set can change independently.
func (c *Context) Clone() *Context {
	out := NewContext()
	if c != nil {
		for k, v := range c.m {
			out.m[k] = append([]string(nil), v...)
		}
	}
	return out
}

// Keys returns the context's key names (in lower case), sorted.
func (c *Context) Keys() []string {
	if c == nil {
		return nil
	}
	out := make([]string, 0, len(c.m))
	for k := range c.m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
