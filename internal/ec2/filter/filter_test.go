package filter

import (
	"errors"
	"testing"
)

type res struct {
	id   string
	name string
	tags map[string]string
}

var fields = Fields[res]{
	"group-id":   func(r res) []string { return One(r.id) },
	"group-name": func(r res) []string { return One(r.name) },
}

func tagsOf(r res) map[string]string { return r.tags }

func TestCompile(t *testing.T) {
	a := res{"sg-1", "web", map[string]string{"team": "blue", "env": "prod/eu"}}
	b := res{"sg-2", "db", map[string]string{"team": "red"}}
	cases := []struct {
		name    string
		filters []Filter
		want    []bool // a, b
	}{
		{"none", nil, []bool{true, true}},
		{"or within", []Filter{{"group-name", []string{"web", "db"}}}, []bool{true, true}},
		{"and across", []Filter{{"group-name", []string{"web", "db"}}, {"tag:team", []string{"red"}}}, []bool{false, true}},
		{"wildcard", []Filter{{"group-name", []string{"w*"}}}, []bool{true, false}},
		{"question", []Filter{{"group-name", []string{"d?"}}}, []bool{false, true}},
		{"star spans slash", []Filter{{"tag:env", []string{"prod*"}}}, []bool{true, false}},
		{"tag-key", []Filter{{"tag-key", []string{"env"}}}, []bool{true, false}},
		{"tag-value", []Filter{{"tag-value", []string{"red", "nope"}}}, []bool{false, true}},
		{"missing tag", []Filter{{"tag:owner", []string{"*"}}}, []bool{false, false}},
		{"brackets literal", []Filter{{"group-name", []string{"[web]"}}}, []bool{false, false}},
	}
	for _, c := range cases {
		pred, err := Compile(c.filters, fields, tagsOf)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := []bool{pred(a), pred(b)}; got[0] != c.want[0] || got[1] != c.want[1] {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestUnknownFilter(t *testing.T) {
	_, err := Compile([]Filter{{"colour", []string{"x"}}}, fields, tagsOf)
	var inv *InvalidError
	if !errors.As(err, &inv) || inv.Name != "colour" {
		t.Fatalf("got %v, want InvalidError for colour", err)
	}
	if _, err := Compile([]Filter{{"tag:x", nil}}, fields, nil); err == nil {
		t.Fatal("tag filter accepted on an untaggable resource")
	}
}
