package awsapi

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// maxListIndex bounds the N of Name.N in a request, so that a parameter such
// as Filter.999999999.Name is refused rather than trusted.
const maxListIndex = 1000

// Decode fills in, a pointer to a generated input struct, from the request
// parameters of the given protocol. Action, Version and the X-Amz-* query
// parameters of presigned requests are not part of the input and are left
// alone. The error is an *Error (MissingParameter, InvalidParameterValue or
// UnknownParameter) for any problem with params; an unknown parameter is
// reported in preference to the other problems, since it is usually their
// cause (a misspelt name).
func Decode(p Protocol, params url.Values, in any) error {
	rv := reflect.ValueOf(in)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("awsapi: decode into %T: want a non-nil pointer to a struct", in)
	}
	tree := newParamTree(params, isCommonParam)
	d := &decoder{protocol: p}
	d.structure(tree.root, rv.Elem(), "")
	if d.err != nil && !isAPIError(d.err) {
		return d.err // a bug in the input type, not the client's fault
	}
	if name, ok := tree.firstUnused(); ok {
		return ErrUnknownParameter(name)
	}
	return d.err
}

// isCommonParam reports whether name is a parameter of every request rather
// than of the operation's input.
func isCommonParam(name string) bool {
	if name == "Action" || name == "Version" {
		return true
	}
	return len(name) >= len("X-Amz-") && strings.EqualFold(name[:len("X-Amz-")], "X-Amz-")
}

// decoder walks a parameter tree along a struct; it records the first
// problem and carries on, so that every known parameter is marked consumed.
type decoder struct {
	protocol Protocol
	err      error
}

// fail records err unless a problem was already found; a bug in the input
// type (an error other than *Error) outranks the client's mistakes.
func (d *decoder) fail(err error) {
	if d.err == nil || (isAPIError(d.err) && !isAPIError(err)) {
		d.err = err
	}
}

func isAPIError(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

// structure decodes the members of the struct v from n's children.
func (d *decoder) structure(n *paramNode, v reflect.Value, path string) {
	for _, f := range taggedFields(v.Type()) {
		wire := joinPath(path, f.tag.in)
		if !d.member(n.child(f.tag.in), v.Field(f.index), f.tag, wire) && f.tag.required {
			d.fail(ErrMissingParameter(wire))
		}
	}
}

// member decodes one struct member and reports whether it was present.
func (d *decoder) member(n *paramNode, v reflect.Value, tag fieldTag, path string) bool {
	if n == nil {
		return false
	}
	t := v.Type()
	switch {
	case t.Kind() == reflect.Pointer && isStruct(t.Elem()):
		return d.structPointer(n, v, path)
	case t.Kind() == reflect.Pointer:
		return d.scalarPointer(n, v, path)
	case isBlob(t):
		return d.scalar(n, v, path)
	case t.Kind() == reflect.Slice:
		return d.list(n, v, tag, path)
	case t.Kind() == reflect.Map && t.Key().Kind() == reflect.String:
		return d.mapping(n, v, tag, path)
	default:
		d.fail(fmt.Errorf("awsapi: %s: unsupported field type %s", path, t))
		return false
	}
}

// structPointer allocates and decodes a nested structure when any of its
// parameters (or the empty marker "Name=") is present.
func (d *decoder) structPointer(n *paramNode, v reflect.Value, path string) bool {
	if !d.consumeContainer(n) {
		return false
	}
	s := reflect.New(v.Type().Elem())
	d.structure(n, s.Elem(), path)
	v.Set(s)
	return true
}

// scalarPointer allocates and decodes a scalar when its parameter is present.
func (d *decoder) scalarPointer(n *paramNode, v reflect.Value, path string) bool {
	if n.value == nil {
		return false
	}
	s := reflect.New(v.Type().Elem())
	d.scalar(n, s.Elem(), path)
	v.Set(s)
	return true
}

// scalar decodes n's value into v (a non-pointer scalar or a blob).
func (d *decoder) scalar(n *paramNode, v reflect.Value, path string) bool {
	if n.value == nil {
		return false
	}
	n.used = true
	if err := setScalar(v, *n.value); err != nil {
		d.fail(scalarError(err, path, *n.value))
	}
	return true
}

// consumeContainer reports whether a structure, list or map is present at n:
// it has parameters below it, or is the empty marker "Name=", which it
// consumes. A non-empty value at n itself is left for the unknown-parameter
// check.
func (d *decoder) consumeContainer(n *paramNode) bool {
	if n.isEmptyMarker() {
		n.used = true
		return true
	}
	return len(n.children) > 0
}

// list decodes Name.N (EC2, flattened) or Name.member.N (Query) items.
func (d *decoder) list(n *paramNode, v reflect.Value, tag fieldTag, path string) bool {
	present := d.consumeContainer(n)
	items, prefix := n, path
	if d.protocol == ProtocolQuery && !tag.flat {
		items, prefix = n.child(tag.member), path+"."+tag.member
	}
	idx := d.indexes(items, prefix)
	if !present && len(idx) == 0 {
		return false
	}
	s := reflect.MakeSlice(v.Type(), 0, len(idx))
	for _, i := range idx {
		key := strconv.Itoa(i)
		e := reflect.New(v.Type().Elem()).Elem()
		if d.element(items.child(key), e, prefix+"."+key) {
			s = reflect.Append(s, e)
		}
	}
	v.Set(s)
	return true
}

// mapping decodes Name.entry.N.key / Name.entry.N.value pairs (Name.N.key
// when flattened).
func (d *decoder) mapping(n *paramNode, v reflect.Value, tag fieldTag, path string) bool {
	present := d.consumeContainer(n)
	entries, prefix := n, path
	if !tag.flat {
		entries, prefix = n.child(mapEntry), path+"."+mapEntry
	}
	idx := d.indexes(entries, prefix)
	if !present && len(idx) == 0 {
		return false
	}
	m := reflect.MakeMapWithSize(v.Type(), len(idx))
	for _, i := range idx {
		entry, at := entries.child(strconv.Itoa(i)), prefix+"."+strconv.Itoa(i)
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		hasKey := d.element(entry.child(tag.key), k, at+"."+tag.key)
		hasValue := d.element(entry.child(tag.value), e, at+"."+tag.value)
		switch {
		case !hasKey:
			d.fail(ErrMissingParameter(at + "." + tag.key))
		case !hasValue:
			d.fail(ErrMissingParameter(at + "." + tag.value))
		default:
			m.SetMapIndex(k, e)
		}
	}
	v.Set(m)
	return true
}

// element decodes a list item or map key/value, which are values rather
// than pointers.
func (d *decoder) element(n *paramNode, v reflect.Value, path string) bool {
	if n == nil {
		return false
	}
	if isStruct(v.Type()) {
		if !d.consumeContainer(n) {
			return false
		}
		d.structure(n, v, path)
		return true
	}
	return d.scalar(n, v, path)
}

// indexes returns the sorted item numbers under n (the N of Prefix.N).
// Children that are not canonical positive numbers are left for the
// unknown-parameter check; numbers over maxListIndex are refused.
func (d *decoder) indexes(n *paramNode, prefix string) []int {
	if n == nil {
		return nil
	}
	var idx []int
	for name, c := range n.children {
		i, ok := parseIndex(name)
		switch {
		case !ok:
			continue
		case i > maxListIndex:
			c.markUsed()
			d.fail(ErrInvalidParameterValue(
				"Invalid value '%s' for the index of %s: list indexes must be between 1 and %d",
				quote(name), prefix, maxListIndex))
		default:
			idx = append(idx, i)
		}
	}
	slices.Sort(idx)
	return idx
}

// parseIndex parses a canonical positive decimal (no sign, no leading zero).
// Numbers too long to be a valid index come back as maxListIndex+1.
func parseIndex(s string) (int, bool) {
	if s == "" || s[0] == '0' {
		return 0, false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, false
		}
	}
	if len(s) > len(strconv.Itoa(maxListIndex)) {
		return maxListIndex + 1, true
	}
	i, err := strconv.Atoi(s)
	return i, err == nil
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
