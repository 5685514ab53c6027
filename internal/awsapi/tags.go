package awsapi

import (
	"reflect"
	"strings"
)

// tagKey is the struct tag key awsgen writes; see the package comment.
const tagKey = "awsapi"

// Default item and entry names of the Query protocol.
const (
	defaultMember = "member"
	defaultKey    = "key"
	defaultValue  = "value"
	mapEntry      = "entry"
)

// fieldTag is a parsed awsapi struct tag.
type fieldTag struct {
	in, out, member, key, value string
	flat, required              bool
}

// field is a tagged, exported struct field.
type field struct {
	index int
	name  string
	tag   fieldTag
}

// taggedFields lists t's exported fields that carry an awsapi tag, in
// declaration order.
func taggedFields(t reflect.Type) []field {
	fields := make([]field, 0, t.NumField())
	for i := range t.NumField() {
		sf := t.Field(i)
		raw, ok := sf.Tag.Lookup(tagKey)
		if !ok || !sf.IsExported() {
			continue
		}
		fields = append(fields, field{index: i, name: sf.Name, tag: parseTag(raw, sf.Name)})
	}
	return fields
}

// parseTag parses an awsapi tag; names left out default to the field name
// and the Query protocol's member/key/value.
func parseTag(raw, fieldName string) fieldTag {
	t := fieldTag{in: fieldName, out: fieldName, member: defaultMember, key: defaultKey, value: defaultValue}
	for opt := range strings.SplitSeq(raw, ",") {
		name, val, _ := strings.Cut(opt, "=")
		switch name {
		case "in":
			t.in = val
		case "out":
			t.out = val
		case "member":
			t.member = val
		case "key":
			t.key = val
		case "value":
			t.value = val
		case "flat":
			t.flat = true
		case "required":
			t.required = true
		}
	}
	return t
}
