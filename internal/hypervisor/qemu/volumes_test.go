package qemu

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/kumo-cloud/kumo/internal/qmp"
)

// A device_add that fails leaves no block node holding the volume open;
// the throttle group stays (it holds nothing) and is reused by a retry.
func TestPlugVolumeRevertsOnFailure(t *testing.T) {
	srv, s, _ := fakeGuest(t)
	ok := func(json.RawMessage) (any, *qmp.Error) { return struct{}{}, nil }
	none := func(json.RawMessage) (any, *qmp.Error) { return []any{}, nil }
	for _, c := range []string{"object-add", "blockdev-add", "blockdev-del"} {
		srv.Handle(c, ok)
	}
	srv.Handle("qom-list", none)
	srv.Handle("query-named-block-nodes", none)
	srv.Handle("device_add", func(json.RawMessage) (any, *qmp.Error) {
		return nil, &qmp.Error{Class: "GenericError", Desc: "Bus 'hotplug0' does not support hotplugging"}
	})
	inst, err := Driver{}.Attach(context.Background(), s.RunDir)
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close()
	v := Volume{ID: "vol-0123456789abcdef0", Blockdev: map[string]any{"driver": "null-co"}, Limits: Limits{IOPS: 3000, ThroughputMiB: 125}}
	if err := inst.PlugVolume(context.Background(), v); err == nil {
		t.Fatal("PlugVolume succeeded")
	}
	var got []string
	for _, c := range srv.Calls() {
		if c.Command != "qom-list" && c.Command != "query-named-block-nodes" {
			got = append(got, c.Command+" "+string(c.Args))
		}
	}
	want := []string{
		`object-add {"id":"tg-vol0123456789abcdef0","limits":{"bps-total":131072000,"iops-total":3000},"qom-type":"throttle-group"}`,
		`blockdev-add {"driver":"null-co","node-name":"vol0123456789abcdef0"}`,
		`blockdev-add {"driver":"throttle","file":"vol0123456789abcdef0","node-name":"vol0123456789abcdef0-thr","throttle-group":"tg-vol0123456789abcdef0"}`,
		`device_add {"bus":"hotplug0","drive":"vol0123456789abcdef0-thr","driver":"virtio-blk-pci","id":"vol0123456789abcdef0-dev","serial":"vol0123456789abcdef0"}`,
		`blockdev-del {"node-name":"vol0123456789abcdef0-thr"}`,
		`blockdev-del {"node-name":"vol0123456789abcdef0"}`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("calls:\n%q\nwant:\n%q", got, want)
	}
}

func TestVolumeOfDev(t *testing.T) {
	for dev, want := range map[string]string{
		"vol0123456789abcdef0-dev": "vol-0123456789abcdef0",
		"vol01234567-dev":          "vol-01234567",
		"nic-eni-1":                "",
		"volxyz-dev":               "",
		"disk0-dev":                "",
	} {
		if got := volumeOfDev(dev); got != want {
			t.Errorf("volumeOfDev(%s) = %q, want %q", dev, got, want)
		}
	}
}
