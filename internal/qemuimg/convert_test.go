package qemuimg

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Every importable format survives raw → format → raw byte for byte.
func TestConvertRoundTrip(t *testing.T) {
	tool := realTool(t)
	dir := t.TempDir()
	want := diskPattern(3<<20 + 512*5) // not a multiple of any cluster size
	src := writeFile(t, dir, "source.img", want)
	for _, f := range []string{FormatRaw, FormatQCOW2, FormatVMDK, FormatVPC} {
		img := filepath.Join(dir, "disk."+f)
		back := filepath.Join(dir, "back-from-"+f+".raw")
		if err := tool.Convert(ctx(t), src, FormatRaw, img, f, nil); err != nil {
			t.Fatalf("to %s: %v", f, err)
		}
		info, err := tool.Info(ctx(t), img, "")
		if err != nil || info.Format != f {
			t.Fatalf("%s: probed %+v, %v", f, info, err)
		}
		if err := tool.Convert(ctx(t), img, info.Format, back, FormatRaw, nil); err != nil {
			t.Fatalf("from %s: %v", f, err)
		}
		sameDisk(t, back, want)
	}
}

// Content written by qemu-io into a qcow2 comes out in the raw conversion.
func TestConvertQemuIOPattern(t *testing.T) {
	tool := realTool(t)
	if _, err := exec.LookPath("qemu-io"); err != nil {
		t.Skip("qemu-io not installed (apt-get install qemu-utils)")
	}
	dir := t.TempDir()
	img := filepath.Join(dir, "disk.qcow2")
	if err := tool.Create(ctx(t), img, FormatQCOW2, 4<<20, "", ""); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 1M 512k", img).CombinedOutput()
	if err != nil {
		t.Fatalf("qemu-io: %v\n%s", err, out)
	}
	raw := filepath.Join(dir, "disk.raw")
	if err := tool.Convert(ctx(t), img, FormatQCOW2, raw, FormatRaw, nil); err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 4<<20)
	for i := 1 << 20; i < 1<<20+512<<10; i++ {
		want[i] = 0x5a
	}
	sameDisk(t, raw, want)
}

func TestConvertProgress(t *testing.T) {
	tool := realTool(t)
	dir := t.TempDir()
	src := writeFile(t, dir, "source.img", diskPattern(16<<20))
	var got []float64
	err := tool.Convert(ctx(t), src, FormatRaw, filepath.Join(dir, "disk.qcow2"), FormatQCOW2,
		func(pct float64) { got = append(got, pct) })
	if err != nil {
		t.Fatal(err)
	}
	if len(got) < 2 || got[len(got)-1] != 100 {
		t.Fatalf("progress %v: want several calls ending at 100", got)
	}
	for i := 1; i < len(got); i++ {
		if got[i] < got[i-1] {
			t.Fatalf("progress %v goes backwards", got)
		}
	}
}

// qemu-img converts a truncated qcow2 without error (the missing clusters
// read as zeros); Convert must refuse it.
func TestConvertTruncatedQCOW2(t *testing.T) {
	tool := realTool(t)
	dir := t.TempDir()
	src := writeFile(t, dir, "source.img", diskPattern(4<<20))
	img := filepath.Join(dir, "disk.qcow2")
	if err := tool.Convert(ctx(t), src, FormatRaw, img, FormatQCOW2, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 600<<10); err != nil {
		t.Fatal(err)
	}
	if err := tool.Check(ctx(t), img, FormatQCOW2); !errors.Is(err, ErrCorrupt) {
		t.Errorf("check: %v, want ErrCorrupt", err)
	}
	dst := filepath.Join(dir, "out.raw")
	if err := tool.Convert(ctx(t), img, FormatQCOW2, dst, FormatRaw, nil); !errors.Is(err, ErrCorrupt) {
		t.Errorf("convert: %v, want ErrCorrupt", err)
	}
	if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("destination left behind: %v", err)
	}
	if err := os.Truncate(img, 100); err != nil {
		t.Fatal(err)
	}
	if _, err := tool.Info(ctx(t), img, FormatQCOW2); !errors.Is(err, ErrNotADiskImage) {
		t.Errorf("header cut short: %v, want ErrNotADiskImage", err)
	}
}

// Truncated vmdk and vhd files are refused too: the vmdk by check, the
// vhd already by info (qemu-img will not open it).
func TestConvertTruncatedOthers(t *testing.T) {
	tool := realTool(t)
	dir := t.TempDir()
	src := writeFile(t, dir, "source.img", diskPattern(8<<20))
	for _, f := range []string{FormatVMDK, FormatVPC} {
		img := filepath.Join(dir, "disk."+f)
		if err := tool.Convert(ctx(t), src, FormatRaw, img, f, nil); err != nil {
			t.Fatal(err)
		}
		fi, _ := os.Stat(img)
		if err := os.Truncate(img, fi.Size()/2); err != nil {
			t.Fatal(err)
		}
		err := tool.Convert(ctx(t), img, f, filepath.Join(dir, "out.raw"), FormatRaw, nil)
		if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNotADiskImage) {
			t.Errorf("%s: %v, want ErrCorrupt or ErrNotADiskImage", f, err)
		}
		t.Logf("%s: %v", f, UserMessage(err))
	}
}

func TestConvertCancelKillsQemuImg(t *testing.T) {
	tool := realTool(t)
	dir := t.TempDir()
	src := writeFile(t, dir, "source.img", diskPattern(128<<20))
	dst := filepath.Join(dir, "disk.qcow2")
	c, cancel := context.WithCancel(ctx(t))
	var calls []float64
	start := time.Now()
	err := tool.Convert(c, src, FormatRaw, dst, FormatQCOW2, func(pct float64) {
		calls = append(calls, pct)
		cancel()
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v (progress %v), want context.Canceled", err, calls)
	}
	if len(calls) == 0 || calls[len(calls)-1] == 100 {
		t.Fatalf("progress %v: conversion was not interrupted", calls)
	}
	if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("destination left behind: %v", err)
	}
	t.Logf("cancelled after %v", time.Since(start))
}

// A qemu-img that hangs is killed when the context ends.
func TestCancelKillsHungProcess(t *testing.T) {
	dir := t.TempDir()
	script := writeFile(t, dir, "qemu-img", []byte("#!/bin/sh\necho '    (0.00/100%)'\nexec sleep 60\n"))
	if err := os.Chmod(script, 0o700); err != nil {
		t.Fatal(err)
	}
	tool := Tool{Path: script}
	c, cancel := context.WithTimeout(ctx(t), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := tool.runProgress(c, "x", nil, "convert")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("returned after %v: process not killed", d)
	}
}

func TestConvertSameFile(t *testing.T) {
	tool := realTool(t)
	dir := t.TempDir()
	src := writeFile(t, dir, "disk.img", diskPattern(1<<20))
	if err := tool.Convert(ctx(t), src, FormatRaw, src, FormatRaw, nil); err == nil {
		t.Fatal("converting a file onto itself succeeded")
	}
	sameDisk(t, src, diskPattern(1<<20))
}
