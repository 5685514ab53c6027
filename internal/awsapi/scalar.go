package awsapi

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// timestampFormat is how AWS writes timestamps: ISO 8601, UTC, milliseconds.
const timestampFormat = "2006-01-02T15:04:05.000Z"

// maxQuoted bounds how much of a client's value an error message repeats.
const maxQuoted = 64

var timeType = reflect.TypeFor[time.Time]()

// isStruct reports whether t is a generated structure (time.Time is a
// scalar).
func isStruct(t reflect.Type) bool { return t.Kind() == reflect.Struct && t != timeType }

// isBlob reports whether t is []byte.
func isBlob(t reflect.Type) bool {
	return t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8
}

// expectation is a scalar's parse failure: what the value should have been.
type expectation string

func (e expectation) Error() string { return string(e) }

// setScalar parses s into v, a string, int32, int64, bool, float32, float64,
// time.Time or []byte value.
func setScalar(v reflect.Value, s string) error {
	switch {
	case v.Kind() == reflect.String:
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			return expectation("expected UTF-8 text without NUL characters")
		}
		v.SetString(s)
	case v.Kind() == reflect.Int32 || v.Kind() == reflect.Int64:
		n, err := strconv.ParseInt(s, 10, v.Type().Bits())
		if err != nil {
			return expectation(fmt.Sprintf("expected a %d-bit integer", v.Type().Bits()))
		}
		v.SetInt(n)
	case v.Kind() == reflect.Bool:
		b, ok := parseBool(s)
		if !ok {
			return expectation("expected true or false")
		}
		v.SetBool(b)
	case v.Kind() == reflect.Float32 || v.Kind() == reflect.Float64:
		f, err := strconv.ParseFloat(s, v.Type().Bits())
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return expectation("expected a number")
		}
		v.SetFloat(f)
	case v.Type() == timeType:
		t, ok := parseTimestamp(s)
		if !ok {
			return expectation("expected an ISO 8601 timestamp such as 2006-01-02T15:04:05Z")
		}
		v.Set(reflect.ValueOf(t))
	case isBlob(v.Type()):
		b, ok := parseBase64(s)
		if !ok {
			return expectation("expected base64-encoded data")
		}
		v.SetBytes(b)
	default:
		return fmt.Errorf("awsapi: unsupported scalar type %s", v.Type())
	}
	return nil
}

// scalarError turns a setScalar failure into the client's error.
func scalarError(err error, path, value string) error {
	var exp expectation
	if !errors.As(err, &exp) {
		return err
	}
	return ErrInvalidParameterValue("Invalid value '%s' for %s: %s", quote(value), path, exp)
}

func parseBool(s string) (value, ok bool) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

// parseTimestamp accepts ISO 8601 date-times (with or without zone and
// fractional seconds; no zone means UTC) and bare dates.
func parseTimestamp(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// parseBase64 decodes standard base64, padded or not.
func parseBase64(s string) ([]byte, bool) {
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, true
	}
	b, err := base64.RawStdEncoding.DecodeString(s)
	return b, err == nil
}

// quote shortens a client-supplied value for an error message.
func quote(s string) string {
	if len(s) <= maxQuoted {
		return s
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
