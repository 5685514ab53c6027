package snapshot

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

func TestObjectsContract(t *testing.T) {
	backends(t, func(t *testing.T, objs Objects) {
		ctx := t.Context()
		put := func(key, data string) error {
			return objs.Put(ctx, key, strings.NewReader(data), int64(len(data)))
		}
		for _, k := range []string{"a/b/one", "a/b/two", "a/c", "b"} {
			if err := put(k, "data of "+k); err != nil {
				t.Fatal(err)
			}
		}
		rc, err := objs.Get(ctx, "a/b/two")
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if string(got) != "data of a/b/two" {
			t.Fatalf("get: %q", got)
		}
		if _, err := objs.Get(ctx, "a/missing"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("get missing: %v", err)
		}
		if ok, err := objs.Exists(ctx, "a/c"); !ok || err != nil {
			t.Fatalf("exists: %v %v", ok, err)
		}
		if k := keys(t, objs, "a/b/"); !slices.Equal(k, []string{"a/b/one", "a/b/two"}) {
			t.Fatalf("list a/b/: %q", k)
		}
		if k := keys(t, objs, "a/"); len(k) != 3 {
			t.Fatalf("list a/: %q", k)
		}
		if k := keys(t, objs, "zz/"); len(k) != 0 {
			t.Fatalf("list zz/: %q", k)
		}
		for range 2 { // idempotent
			if err := objs.Delete(ctx, "a/b/one"); err != nil {
				t.Fatal(err)
			}
		}
		if ok, _ := objs.Exists(ctx, "a/b/one"); ok {
			t.Fatal("deleted object exists")
		}
	})
}

// A Put that fails part way (short, long or failing reader) leaves the
// old object, or none, never a part.
func TestObjectsPutAtomic(t *testing.T) {
	backends(t, func(t *testing.T, objs Objects) {
		ctx := t.Context()
		if err := objs.Put(ctx, "k", strings.NewReader("old"), 3); err != nil {
			t.Fatal(err)
		}
		bad := []struct {
			name string
			r    io.Reader
			size int64
		}{
			{"short", strings.NewReader("ne"), 3},
			{"long", strings.NewReader("newer"), 3},
			{"failing", iotest.TimeoutReader(iotest.OneByteReader(strings.NewReader("new"))), 3},
		}
		for _, b := range bad {
			if err := objs.Put(ctx, "k", b.r, b.size); err == nil {
				t.Errorf("%s: put succeeded", b.name)
			}
			rc, _ := objs.Get(ctx, "k")
			got, _ := io.ReadAll(rc)
			rc.Close()
			if string(got) != "old" {
				t.Errorf("%s: object is %q", b.name, got)
			}
		}
		if k := keys(t, objs, ""); !slices.Equal(k, []string{"k"}) {
			t.Errorf("leftovers: %q", k)
		}
	})
}

func TestObjectsRefuseBadKeys(t *testing.T) {
	backends(t, func(t *testing.T, objs Objects) {
		for _, k := range []string{"", "/abs", "a//b", "../escape", "a/./b", "a/.tmp-x"} {
			if err := objs.Put(t.Context(), k, bytes.NewReader(nil), 0); err == nil {
				t.Errorf("key %q accepted", k)
			}
		}
	})
}

func TestDirObjectsLayout(t *testing.T) {
	root := t.TempDir()
	d, err := NewDirObjects(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Put(t.Context(), "x/y/z", strings.NewReader("hi"), 2); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(root, "x", "y", "z")); err != nil || string(got) != "hi" {
		t.Fatalf("file: %q %v", got, err)
	}
	// A temp file from a crashed Put is not an object.
	if err := os.WriteFile(filepath.Join(root, "x", "y", ".tmp-123"), []byte("part"), 0o600); err != nil {
		t.Fatal(err)
	}
	if k := keys(t, d, "x/"); !slices.Equal(k, []string{"x/y/z"}) {
		t.Fatalf("list: %q", k)
	}
	if err := os.Remove(filepath.Join(root, "x", "y", ".tmp-123")); err != nil {
		t.Fatal(err)
	}
	if err := d.Delete(t.Context(), "x/y/z"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "x")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("empty directories left: %v", err)
	}
	if _, err := os.Stat(root); err != nil {
		t.Fatalf("root removed: %v", err)
	}
}
