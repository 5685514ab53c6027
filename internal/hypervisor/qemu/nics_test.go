package qemu

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/qmp"
	"github.com/kumo-cloud/kumo/internal/qmp/qmptest"
)

// Further interfaces go into their own root ports, in slot order whatever
// their order in the Spec, after the primary on the root bus.
func TestArgsSlottedNICs(t *testing.T) {
	s := testSpec()
	s.HotplugSlots = 0
	s.NICSlots = 3
	s.NICs = append(s.NICs,
		NIC{Tap: "e0000000000002", MAC: "02:00:0a:00:01:07", Slot: 3, ID: "eni-2"},
		NIC{Tap: "e0000000000001", MAC: "02:00:0a:00:01:06", Slot: 1, ID: "eni-1"})
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	got := render(Args(s, AccelTCG))
	want := `-netdev tap,id=net0,ifname=tap-0123456789a,script=no,downscript=no
-device virtio-net-pci,id=net0-dev,netdev=net0,mac=02:00:0a:00:00:05
-device pcie-root-port,id=nicport1,chassis=65
-device pcie-root-port,id=nicport2,chassis=66
-device pcie-root-port,id=nicport3,chassis=67
-netdev tap,id=net-eni-1,ifname=e0000000000001,script=no,downscript=no
-device virtio-net-pci,id=nic-eni-1,netdev=net-eni-1,mac=02:00:0a:00:01:06,bus=nicport1
-netdev tap,id=net-eni-2,ifname=e0000000000002,script=no,downscript=no
-device virtio-net-pci,id=nic-eni-2,netdev=net-eni-2,mac=02:00:0a:00:01:07,bus=nicport3
`
	if !strings.HasSuffix(got, want) {
		t.Errorf("args:\n%s\nwant them to end with:\n%s", got, want)
	}
}

func TestValidateSlottedNICs(t *testing.T) {
	for name, tc := range map[string]struct {
		slots int
		nics  []NIC
	}{
		"slot beyond the ports": {2, []NIC{{Tap: "a", MAC: "02:00:00:00:00:01", Slot: 3, ID: "eni-1"}}},
		"slot taken twice": {2, []NIC{{Tap: "a", MAC: "02:00:00:00:00:01", Slot: 1, ID: "eni-1"},
			{Tap: "b", MAC: "02:00:00:00:00:02", Slot: 1, ID: "eni-2"}}},
		"no id":          {2, []NIC{{Tap: "a", MAC: "02:00:00:00:00:01", Slot: 1}}},
		"too many ports": {MaxNICSlots + 1, nil},
	} {
		s := testSpec()
		s.NICSlots = tc.slots
		s.NICs = append(s.NICs, tc.nics...)
		if err := s.Validate(); err == nil {
			t.Errorf("%s: Validate accepted it", name)
		}
	}
}

// fakeNICMonitor answers netdev_add, netdev_del, device_add, device_del
// and qom-list like QEMU: devices stay listed for a while after
// device_del (until the guest lets go).
type fakeNICMonitor struct {
	mu      sync.Mutex
	netdevs map[string]bool
	devs    map[string]bool
	pending map[string]time.Time // device_del asked: gone at that time
	linger  time.Duration
}

func newFakeNICMonitor(srv *qmptest.Server, linger time.Duration) *fakeNICMonitor {
	m := &fakeNICMonitor{netdevs: map[string]bool{}, devs: map[string]bool{}, pending: map[string]time.Time{}, linger: linger}
	srv.Handle("netdev_add", m.netdevAdd)
	srv.Handle("netdev_del", m.netdevDel)
	srv.Handle("device_add", m.deviceAdd)
	srv.Handle("device_del", m.deviceDel)
	srv.Handle("qom-list", m.qomList)
	return m
}

func idOf(args json.RawMessage) string {
	var a struct {
		ID string `json:"id"`
	}
	json.Unmarshal(args, &a)
	return a.ID
}

func (m *fakeNICMonitor) netdevAdd(args json.RawMessage) (any, *qmp.Error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := idOf(args)
	if m.netdevs[id] {
		return nil, &qmp.Error{Class: "GenericError", Desc: "Duplicate ID '" + id + "'"}
	}
	m.netdevs[id] = true
	return struct{}{}, nil
}

func (m *fakeNICMonitor) netdevDel(args json.RawMessage) (any, *qmp.Error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := idOf(args)
	if !m.netdevs[id] {
		return nil, &qmp.Error{Class: "DeviceNotFound", Desc: "Device '" + id + "' not found"}
	}
	delete(m.netdevs, id)
	return struct{}{}, nil
}

func (m *fakeNICMonitor) deviceAdd(args json.RawMessage) (any, *qmp.Error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.devs[idOf(args)] = true
	return struct{}{}, nil
}

func (m *fakeNICMonitor) deviceDel(args json.RawMessage) (any, *qmp.Error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := idOf(args)
	switch {
	case !m.devs[id]:
		return nil, &qmp.Error{Class: "DeviceNotFound", Desc: "Device '" + id + "' not found"}
	case !m.pending[id].IsZero():
		return nil, &qmp.Error{Class: "GenericError", Desc: "Device " + id + " is already in the process of unplug"}
	}
	m.pending[id] = time.Now().Add(m.linger)
	return struct{}{}, nil
}

func (m *fakeNICMonitor) qomList(json.RawMessage) (any, *qmp.Error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []qmp.QOMProperty{{Name: "type", Type: "string"}, {Name: "nicport1", Type: "child<pcie-root-port>"}}
	for id := range m.devs {
		if at := m.pending[id]; !at.IsZero() && time.Now().After(at) {
			delete(m.devs, id)
			delete(m.pending, id)
			continue
		}
		out = append(out, qmp.QOMProperty{Name: id, Type: "child<virtio-net-pci>"})
	}
	return out, nil
}

func attachFake(t *testing.T, slots int) (*Instance, *qmptest.Server, *fakeNICMonitor) {
	t.Helper()
	srv, s, _ := fakeGuest(t)
	s.NICSlots = slots
	b, _ := json.Marshal(s)
	if err := os.WriteFile(filepath.Join(s.RunDir, specFile), b, 0o600); err != nil {
		t.Fatal(err)
	}
	m := newFakeNICMonitor(srv, 300*time.Millisecond)
	inst, err := Driver{}.Attach(context.Background(), s.RunDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Close() })
	return inst, srv, m
}

func commands(srv *qmptest.Server) []string {
	var out []string
	for _, c := range srv.Calls() {
		out = append(out, c.Command+" "+string(c.Args))
	}
	return out
}

func TestPlugUnplugNIC(t *testing.T) {
	inst, srv, m := attachFake(t, 2)
	ctx := context.Background()
	m.netdevs["net-eni-1"] = true // left by an interrupted attempt
	n := NIC{Tap: "e0000000000001", MAC: "02:00:0a:00:01:06", Slot: 2, ID: "eni-1"}
	if err := inst.PlugNIC(ctx, n); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`netdev_add {"type":"tap","id":"net-eni-1","ifname":"e0000000000001","script":"no","downscript":"no"}`,
		`netdev_del {"id":"net-eni-1"}`,
		`netdev_add {"type":"tap","id":"net-eni-1","ifname":"e0000000000001","script":"no","downscript":"no"}`,
		`device_add {"bus":"nicport2","driver":"virtio-net-pci","id":"nic-eni-1","mac":"02:00:0a:00:01:06","netdev":"net-eni-1"}`,
	}
	if got := commands(srv); !slices.Equal(got, want) {
		t.Errorf("calls:\n%q\nwant:\n%q", got, want)
	}
	if ids, err := inst.NICs(ctx); err != nil || !slices.Equal(ids, []string{"eni-1"}) {
		t.Fatalf("NICs = %q, %v; want [eni-1]", ids, err)
	}
	if err := inst.PlugNIC(ctx, NIC{Tap: "x", MAC: "02:00:0a:00:01:07", Slot: 3, ID: "eni-2"}); !errors.Is(err, ErrNoSlot) {
		t.Errorf("PlugNIC into slot 3 of 2: %v, want ErrNoSlot", err)
	}

	// The guest takes a while to let go: UnplugNIC waits, then removes
	// the backend; a second device_del while pending is not an error.
	if err := inst.conn.DeviceDel(ctx, "nic-eni-1"); err != nil {
		t.Fatal(err)
	}
	if err := inst.UnplugNIC(ctx, "eni-1"); err != nil {
		t.Fatal(err)
	}
	if ids, _ := inst.NICs(ctx); len(ids) != 0 || m.netdevs["net-eni-1"] {
		t.Errorf("after UnplugNIC: devices %q, backend left: %v", ids, m.netdevs["net-eni-1"])
	}
	if err := inst.UnplugNIC(ctx, "eni-1"); err != nil {
		t.Errorf("UnplugNIC of an unplugged interface: %v", err)
	}
}

// A guest that never lets go: UnplugNIC gives up when ctx ends and keeps
// the backend.
func TestUnplugNICTimesOut(t *testing.T) {
	inst, _, m := attachFake(t, 1)
	m.linger = time.Hour
	ctx := context.Background()
	if err := inst.PlugNIC(ctx, NIC{Tap: "e1", MAC: "02:00:0a:00:01:06", Slot: 1, ID: "eni-1"}); err != nil {
		t.Fatal(err)
	}
	tctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if err := inst.UnplugNIC(tctx, "eni-1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("UnplugNIC = %v, want a deadline error", err)
	}
	if !m.netdevs["net-eni-1"] {
		t.Error("the backend of a device still plugged was removed")
	}
}
