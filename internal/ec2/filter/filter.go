// Package filter evaluates EC2's Filter.N parameters: values of one filter
// are ORed, filters are ANDed, values may use the * and ? wildcards, and
// tag:KEY, tag-key and tag-value work on every resource that has tags.
package filter

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// Filter is one Name with its Values.
type Filter struct {
	Name   string
	Values []string
}

// Fields maps a filter name to the values a resource has for it.
type Fields[T any] map[string]func(T) []string

// Tags returns a resource's tags.
type Tags[T any] func(T) map[string]string

// InvalidError names a filter that the resource does not support.
type InvalidError struct{ Name string }

func (e *InvalidError) Error() string { return fmt.Sprintf("The filter '%s' is invalid", e.Name) }

// Compile checks every filter name and returns a predicate.
func Compile[T any](filters []Filter, fields Fields[T], tags Tags[T]) (func(T) bool, error) {
	var preds []func(T) bool
	for _, f := range filters {
		p, err := compileOne(f, fields, tags)
		if err != nil {
			return nil, err
		}
		preds = append(preds, p)
	}
	return func(v T) bool {
		for _, p := range preds {
			if !p(v) {
				return false
			}
		}
		return true
	}, nil
}

func compileOne[T any](f Filter, fields Fields[T], tags Tags[T]) (func(T) bool, error) {
	if get, ok := fields[f.Name]; ok {
		return func(v T) bool { return anyMatch(f.Values, get(v)) }, nil
	}
	if tags == nil {
		return nil, &InvalidError{Name: f.Name}
	}
	if key, ok := strings.CutPrefix(f.Name, "tag:"); ok && key != "" {
		return func(v T) bool {
			val, has := tags(v)[key]
			return has && anyMatch(f.Values, []string{val})
		}, nil
	}
	switch f.Name {
	case "tag-key":
		return func(v T) bool { return anyMatch(f.Values, keys(tags(v))) }, nil
	case "tag-value":
		return func(v T) bool { return anyMatch(f.Values, values(tags(v))) }, nil
	}
	return nil, &InvalidError{Name: f.Name}
}

// anyMatch reports whether any pattern matches any value.
func anyMatch(patterns, values []string) bool {
	for _, p := range patterns {
		for _, v := range values {
			if Match(p, v) {
				return true
			}
		}
	}
	return false
}

// Match compares a value with a filter pattern: * matches any run, ? one
// character, \ escapes; anything else is literal.
func Match(pattern, value string) bool {
	if !strings.ContainsAny(pattern, `*?\`) {
		return pattern == value
	}
	// path.Match treats '[' specially and stops at '/'; escape both.
	p := strings.NewReplacer("[", `\[`, "]", `\]`).Replace(pattern)
	ok, err := path.Match(slashSafe(p), slashSafe(value))
	return err == nil && ok
}

// slashSafe maps '/' to a rune path.Match treats as ordinary, so that * spans it.
func slashSafe(s string) string { return strings.ReplaceAll(s, "/", "\uFFFF") }

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func values(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// Bool renders a boolean filter value as EC2 does.
func Bool(b bool) []string {
	if b {
		return []string{"true"}
	}
	return []string{"false"}
}

// One wraps a single value.
func One(s string) []string { return []string{s} }
