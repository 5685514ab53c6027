package rbd

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

// diffStream builds an export-diff stream as rbd writes it.
func diffStream(end bool) []byte {
	var b bytes.Buffer
	b.WriteString(diffBanner)
	name := func(tag byte, s string) {
		b.WriteByte(tag)
		binary.Write(&b, binary.LittleEndian, uint32(len(s)))
		b.WriteString(s)
	}
	u64 := func(v ...uint64) {
		for _, x := range v {
			binary.Write(&b, binary.LittleEndian, x)
		}
	}
	name('f', "s1")
	name('t', "s2")
	b.WriteByte('s')
	u64(1 << 30)
	b.WriteByte('w')
	u64(4096, 3)
	b.WriteString("abc")
	b.WriteByte('z')
	u64(1<<20, 1<<16)
	b.WriteByte('w')
	u64(8192, 2)
	b.WriteString("de")
	if end {
		b.WriteByte('e')
	}
	return b.Bytes()
}

func TestDiffReader(t *testing.T) {
	d, err := NewDiffReader(bytes.NewReader(diffStream(true)))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		c, err := d.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		s := "zero"
		if !c.Zero && c.Offset == 8192 { // the first write's data is left unread: Next skips it
			data, _ := io.ReadAll(c.Data)
			s = string(data)
		} else if !c.Zero {
			s = "unread"
		}
		got = append(got, s)
		if c.Offset != map[string]int64{"unread": 4096, "zero": 1 << 20, "de": 8192}[s] {
			t.Errorf("change %q at offset %d", s, c.Offset)
		}
	}
	if want := []string{"unread", "zero", "de"}; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("changes %v, want %v", got, want)
	}
	if d.From != "s1" || d.To != "s2" || d.Size != 1<<30 {
		t.Fatalf("header: from %q to %q size %d", d.From, d.To, d.Size)
	}
}

func TestDiffReaderRefusesBadStreams(t *testing.T) {
	if _, err := NewDiffReader(bytes.NewReader([]byte("rbd diff v2\n"))); err == nil {
		t.Error("a v2 banner was accepted")
	}
	d, err := NewDiffReader(bytes.NewReader(diffStream(false)))
	if err != nil {
		t.Fatal(err)
	}
	for err == nil {
		_, err = d.Next()
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("a stream without its end record ended with %v, want io.ErrUnexpectedEOF", err)
	}
	d, _ = NewDiffReader(bytes.NewReader(append([]byte(diffBanner), 'q')))
	if _, err := d.Next(); err == nil || errors.Is(err, io.EOF) {
		t.Errorf("an unknown record gave %v, want an error", err)
	}
}

func TestDiffWriterRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := NewDiffWriter(&buf, 1<<20)
	w.Write(4096, []byte("chunk"))
	w.Zero(8192, 512)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	d, err := NewDiffReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.Next()
	if err != nil || c.Offset != 4096 || c.Length != 5 || c.Zero {
		t.Fatalf("first change %+v, %v", c.Extent, err)
	}
	if data, _ := io.ReadAll(c.Data); string(data) != "chunk" {
		t.Fatalf("data %q", data)
	}
	if c, err = d.Next(); err != nil || c.Extent != (Extent{Offset: 8192, Length: 512, Zero: true}) {
		t.Fatalf("second change %+v, %v", c.Extent, err)
	}
	if _, err = d.Next(); !errors.Is(err, io.EOF) || d.Size != 1<<20 {
		t.Fatalf("end: %v, size %d", err, d.Size)
	}
}
