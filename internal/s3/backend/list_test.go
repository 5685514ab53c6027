package backend

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestPage(t *testing.T) {
	keys := []string{"a", "a/1", "a/2", "a/b/3", "b", "dir/", "dir/x"}
	for _, tc := range []struct {
		q                 ListQuery
		objects, prefixes []string
		truncated         bool
		next              string
	}{
		{ListQuery{MaxKeys: 10}, keys, nil, false, "dir/x"},
		{ListQuery{MaxKeys: 2}, []string{"a", "a/1"}, nil, true, "a/1"},
		{ListQuery{Delimiter: "/", MaxKeys: 10}, []string{"a", "b"}, []string{"a/", "dir/"}, false, "dir/"},
		{ListQuery{Delimiter: "/", MaxKeys: 2}, []string{"a"}, []string{"a/"}, true, "a/"},
		{ListQuery{Delimiter: "/", After: "a/", MaxKeys: 10}, []string{"b"}, []string{"dir/"}, false, "dir/"},
		{ListQuery{Prefix: "dir/", Delimiter: "/", MaxKeys: 10}, []string{"dir/", "dir/x"}, nil, false, "dir/x"},
		{ListQuery{Prefix: "dir/", Delimiter: "/", After: "dir/", MaxKeys: 10}, []string{"dir/x"}, nil, false, "dir/x"},
		{ListQuery{After: "zzz", MaxKeys: 10}, nil, nil, false, ""},
		{ListQuery{MaxKeys: 0}, nil, nil, true, ""},
	} {
		in := keys
		if tc.q.Prefix != "" {
			in = nil
			for _, k := range keys {
				if strings.HasPrefix(k, tc.q.Prefix) {
					in = append(in, k)
				}
			}
		}
		objects, prefixes, truncated, next := Page(in, tc.q)
		if !reflect.DeepEqual(objects, tc.objects) || !reflect.DeepEqual(prefixes, tc.prefixes) || truncated != tc.truncated || next != tc.next {
			t.Errorf("%+v: %q %q %v %q", tc.q, objects, prefixes, truncated, next)
		}
	}
}

func TestExactReader(t *testing.T) {
	read := func(r io.Reader, size int64) ([]byte, error) {
		buf := make([]byte, size)
		n, err := io.ReadFull(ExactReader(r, size), buf)
		return buf[:n], err
	}
	if got, err := read(strings.NewReader("exact"), 5); err != nil || string(got) != "exact" {
		t.Fatalf("exact: %q %v", got, err)
	}
	if _, err := read(strings.NewReader("too long"), 3); !errors.Is(err, ErrShortBody) {
		t.Fatalf("long: %v", err)
	}
	if _, err := read(strings.NewReader("ab"), 3); err == nil {
		t.Fatal("short body accepted")
	}
	failing := io.MultiReader(bytes.NewReader([]byte("abc")), iotestErr{})
	if _, err := read(failing, 3); err == nil || errors.Is(err, io.EOF) {
		t.Fatalf("an error after the last byte must come back before it: %v", err)
	}
}

type iotestErr struct{}

func (iotestErr) Read([]byte) (int, error) { return 0, errors.New("signature check failed") }
