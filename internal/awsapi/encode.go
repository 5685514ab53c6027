package awsapi

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"time"
)

// xmlDeclaration starts EC2's responses.
const xmlDeclaration = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

// EncodeResponse writes the XML body answering a successful call of op.
// out is the generated output struct (a pointer; nil encodes no members).
func EncodeResponse(m *ServiceModel, op *Operation, requestID string, out any) ([]byte, error) {
	var w xmlWriter
	root := op.Name + "Response"
	if m.Protocol == ProtocolEC2 {
		w.raw(xmlDeclaration)
	}
	w.raw("<" + root + ` xmlns="`)
	w.text(m.XMLNamespace)
	w.raw(`">`)
	switch m.Protocol {
	case ProtocolEC2:
		w.element("requestId", requestID)
		if err := w.members(out); err != nil {
			return nil, err
		}
		if !op.HasOutput {
			w.element("return", "true")
		}
	case ProtocolQuery:
		if op.HasOutput {
			w.open(op.ResultWrapper)
			if err := w.members(out); err != nil {
				return nil, err
			}
			w.close(op.ResultWrapper)
		}
		w.raw("<ResponseMetadata>")
		w.element("RequestId", requestID)
		w.raw("</ResponseMetadata>")
	default:
		return nil, fmt.Errorf("awsapi: encode %s: unknown protocol %v", op.Name, m.Protocol)
	}
	w.close(root)
	return w.buf.Bytes(), nil
}

// EncodeError writes err as protocol p's error envelope and returns the HTTP
// status to send it with. Errors that are not *Error become InternalError.
func EncodeError(p Protocol, namespace, requestID string, err error) (status int, body []byte) {
	e := AsError(err)
	if e == nil {
		e = ErrInternal()
	}
	var w xmlWriter
	if p == ProtocolQuery {
		w.raw(`<ErrorResponse xmlns="`)
		w.text(namespace)
		w.raw(`"><Error>`)
		w.element("Type", faultType(e.Status()))
		w.element("Code", e.Code)
		w.element("Message", e.Message)
		w.raw("</Error>")
		w.element("RequestId", requestID)
		w.raw("</ErrorResponse>")
		return e.Status(), w.buf.Bytes()
	}
	w.raw(xmlDeclaration + "<Response><Errors><Error>")
	w.element("Code", e.Code)
	w.element("Message", e.Message)
	w.raw("</Error></Errors>")
	w.element("RequestID", requestID)
	w.raw("</Response>")
	return e.Status(), w.buf.Bytes()
}

// faultType is the Query protocol's <Type>: who is at fault.
func faultType(status int) string {
	if status >= 500 {
		return "Receiver"
	}
	return "Sender"
}

// xmlWriter writes AWS-style XML: no indentation, every text escaped.
type xmlWriter struct {
	buf bytes.Buffer
}

func (w *xmlWriter) raw(s string)   { w.buf.WriteString(s) }
func (w *xmlWriter) open(n string)  { w.raw("<" + n + ">") }
func (w *xmlWriter) close(n string) { w.raw("</" + n + ">") }
func (w *xmlWriter) empty(n string) { w.raw("<" + n + "/>") }

// text writes s escaped; characters XML cannot carry become U+FFFD.
func (w *xmlWriter) text(s string) {
	// xml.EscapeText only fails when the writer does; bytes.Buffer does not.
	_ = xml.EscapeText(&w.buf, []byte(s))
}

func (w *xmlWriter) element(name, text string) {
	w.open(name)
	w.text(text)
	w.close(name)
}

// members writes the tagged fields of the struct v points to.
func (w *xmlWriter) members(v any) error {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || (rv.Kind() == reflect.Pointer && rv.IsNil()) {
		return nil
	}
	rv = reflect.Indirect(rv)
	if !isStruct(rv.Type()) {
		return fmt.Errorf("awsapi: encode %s: want a struct", rv.Type())
	}
	return w.structure(rv)
}

func (w *xmlWriter) structure(v reflect.Value) error {
	for _, f := range taggedFields(v.Type()) {
		if err := w.member(v.Field(f.index), f.tag); err != nil {
			return fmt.Errorf("%s.%s: %w", v.Type().Name(), f.name, err)
		}
	}
	return nil
}

// member writes one field: nil pointers, slices and maps are omitted, a
// non-nil empty list or map is an empty element.
func (w *xmlWriter) member(v reflect.Value, tag fieldTag) error {
	if isNil(v) {
		return nil
	}
	t := v.Type()
	switch {
	case t.Kind() == reflect.Pointer:
		return w.value(tag.out, v.Elem())
	case isBlob(t):
		return w.value(tag.out, v)
	case t.Kind() == reflect.Slice:
		return w.list(v, tag)
	case t.Kind() == reflect.Map:
		return w.mapping(v, tag)
	default:
		return fmt.Errorf("unsupported field type %s", t)
	}
}

func isNil(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
		return v.IsNil()
	}
	return false
}

// value writes <name>v</name> for a scalar or structure value.
func (w *xmlWriter) value(name string, v reflect.Value) error {
	if isStruct(v.Type()) {
		w.open(name)
		if err := w.structure(v); err != nil {
			return err
		}
		w.close(name)
		return nil
	}
	s, err := formatScalar(v)
	if err != nil {
		return err
	}
	w.element(name, s)
	return nil
}

func (w *xmlWriter) list(v reflect.Value, tag fieldTag) error {
	if tag.flat {
		for i := range v.Len() {
			if err := w.value(tag.out, v.Index(i)); err != nil {
				return err
			}
		}
		return nil
	}
	if v.Len() == 0 {
		w.empty(tag.out)
		return nil
	}
	w.open(tag.out)
	for i := range v.Len() {
		if err := w.value(tag.member, v.Index(i)); err != nil {
			return err
		}
	}
	w.close(tag.out)
	return nil
}

// mapping writes <Name><entry><key>k</key><value>v</value></entry></Name>
// (entries unwrapped as <Name><key/><value/></Name> when flattened), in key
// order so that responses are reproducible.
func (w *xmlWriter) mapping(v reflect.Value, tag fieldTag) error {
	keys := v.MapKeys()
	slices.SortFunc(keys, func(a, b reflect.Value) int { return cmp.Compare(a.String(), b.String()) })
	if !tag.flat {
		if len(keys) == 0 {
			w.empty(tag.out)
			return nil
		}
		w.open(tag.out)
	}
	entry := mapEntry
	if tag.flat {
		entry = tag.out
	}
	for _, k := range keys {
		w.open(entry)
		if err := w.value(tag.key, k); err != nil {
			return err
		}
		if err := w.value(tag.value, v.MapIndex(k)); err != nil {
			return err
		}
		w.close(entry)
	}
	if !tag.flat {
		w.close(tag.out)
	}
	return nil
}

// formatScalar renders a scalar as AWS does.
func formatScalar(v reflect.Value) (string, error) {
	switch {
	case v.Kind() == reflect.String:
		return v.String(), nil
	case v.Kind() == reflect.Int32 || v.Kind() == reflect.Int64:
		return strconv.FormatInt(v.Int(), 10), nil
	case v.Kind() == reflect.Bool:
		return strconv.FormatBool(v.Bool()), nil
	case v.Kind() == reflect.Float32 || v.Kind() == reflect.Float64:
		return formatFloat(v.Float(), v.Type().Bits()), nil
	case v.Type() == timeType:
		return v.Interface().(time.Time).UTC().Format(timestampFormat), nil
	case isBlob(v.Type()):
		return base64.StdEncoding.EncodeToString(v.Bytes()), nil
	}
	return "", fmt.Errorf("unsupported scalar type %s", v.Type())
}

// formatFloat writes finite numbers plainly and the others as the SDKs
// read them.
func formatFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(f, 'f', -1, bits)
}
