package qemu

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/kumo-cloud/kumo/internal/qmp"
)

// A device_add that fails leaves no block nodes behind.
func TestAttachDiskRevertsOnFailure(t *testing.T) {
	srv, s, _ := fakeGuest(t)
	ok := func(json.RawMessage) (any, *qmp.Error) { return struct{}{}, nil }
	srv.Handle("blockdev-add", ok)
	srv.Handle("blockdev-del", ok)
	srv.Handle("device_add", func(json.RawMessage) (any, *qmp.Error) {
		return nil, &qmp.Error{Class: "GenericError", Desc: "Bus 'hotplug0' does not support hotplugging"}
	})
	inst, err := Driver{}.Attach(context.Background(), s.RunDir)
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close()
	d := Disk{Path: "/vols/v.raw", Format: "raw", VolumeID: "vol-0123456789abcdef0"}
	if err := inst.AttachDisk(context.Background(), 0, d); err == nil {
		t.Fatal("AttachDisk succeeded")
	}
	var got []string
	for _, c := range srv.Calls() {
		got = append(got, c.Command+" "+string(c.Args))
	}
	want := []string{
		`blockdev-add {"driver":"file","node-name":"vol0123456789abcdef0-file","filename":"/vols/v.raw"}`,
		`blockdev-add {"driver":"raw","node-name":"vol0123456789abcdef0","file":"vol0123456789abcdef0-file"}`,
		`device_add {"bus":"hotplug0","drive":"vol0123456789abcdef0","driver":"virtio-blk-pci","id":"vol0123456789abcdef0-dev","serial":"vol0123456789abcdef0"}`,
		`blockdev-del {"node-name":"vol0123456789abcdef0"}`,
		`blockdev-del {"node-name":"vol0123456789abcdef0-file"}`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("calls:\n%q\nwant:\n%q", got, want)
	}
}

func TestHasDevice(t *testing.T) {
	bs := []qmp.BlockInfo{{QDev: "/machine/peripheral/vol1-dev/virtio-backend"}, {QDev: "disk0-dev"}}
	for dev, want := range map[string]bool{"vol1-dev": true, "disk0-dev": true, "vol2-dev": false} {
		if hasDevice(bs, dev) != want {
			t.Errorf("hasDevice(%s) = %v", dev, !want)
		}
	}
}
