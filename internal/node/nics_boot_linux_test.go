//go:build linux

package node

// A running demo guest gets a second interface hot-plugged on another
// subnet of its VPC, sees it as eth1 with the interface's MAC, gets its
// address by DHCP on it, keeps it (once) across an agent kill, and loses
// it on unplug, tap included. Needs root and QEMU (TCG is fine).

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/images/demo/demotest"
	"github.com/kumo-cloud/kumo/internal/guestnet"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
)

// nicWatchUserData starts a loop that prints, on every change, the
// guest's interfaces and eth1's MAC, and takes a lease on eth1 when it
// appears.
const nicWatchUserData = `#!/bin/sh
cat >/tmp/lease1.sh <<'EOS'
#!/bin/sh
[ "$1" = bound ] && echo "LEASE1 $interface $ip ${mask:-$subnet}" >/dev/console
exit 0
EOS
chmod +x /tmp/lease1.sh
(
	last=""
	while :; do
		now="NICS: $(ls /sys/class/net | tr '\n' ' ')"
		if [ -e /sys/class/net/eth1 ]; then
			now="$now MAC1 $(cat /sys/class/net/eth1/address)"
		fi
		if [ "$now" != "$last" ]; then
			echo "$now"
			case $now in *eth1*) ip link set eth1 up; busybox udhcpc -i eth1 -n -q -f -t 10 -T 1 -s /tmp/lease1.sh ;; esac
			last=$now
		fi
		sleep 1
	done
) </dev/null >/dev/console 2>&1 &
exit 0
`

func TestBootHotplugNIC(t *testing.T) {
	img, mgr, spec, dir := demoNetworkGuest(t, nicWatchUserData)
	second := nodeapi.NetworkInterface{InterfaceID: "eni-0fedcba9876543210", DeviceIndex: 1, MAC: "02:00:0a:09:02:07", PrivateIP: "10.9.2.7",
		SubnetID: "subnet-0fedcba9876543210", SubnetCIDR: "10.9.2.0/24", Gateway: "10.9.2.1",
		VPCID: spec.Network.VPCID, VPCCIDR: "10.9.0.0/16"}
	hv := &recordingQEMU{QEMU: QEMU{}}
	srv := newFakeServer()
	cfg := Config{DataDir: dir, Zone: "kumo-1a", Driver: hv, Network: GuestNet{mgr},
		Objects: demoObjects(t, img), Connector: srv, PollInterval: 200 * time.Millisecond}
	stopAgent := runAgent(t, cfg)
	srv.push(spec)
	srv.waitFor(t, testID, nodeapi.ObservedRunning, 60*time.Second)
	waitBoots(t, srv, 1, demotest.Ready)
	waitConsoleLine(t, srv, "NICS: eth0 lo ")

	// Hot-plug: eth1 with the interface's MAC, and its lease by DHCP.
	spec.Extra = []nodeapi.NetworkInterface{second}
	srv.push(spec)
	waitConsoleLine(t, srv, "NICS: eth0 eth1 lo  MAC1 02:00:0a:09:02:07")
	waitConsoleLine(t, srv, "LEASE1 eth1 10.9.2.7 24")
	tap := guestnet.TapName(second.InterfaceID)
	netns := mgr.NetnsPath(spec.Network.VPCID)
	if !linkIn(netns, tap) {
		t.Fatalf("tap %s of the second interface not in %s", tap, netns)
	}

	// kill -9 of the agent: the new one finds the interface plugged and
	// plugs nothing twice.
	stopAgent()
	srv = newFakeServer()
	cfg.Connector = srv
	stopAgent = runAgent(t, cfg)
	srv.waitFor(t, testID, nodeapi.ObservedRunning, 60*time.Second)
	srv.push(spec)
	time.Sleep(2 * time.Second)
	ids, err := hv.last().NICs(context.Background())
	if err != nil || len(ids) != 1 || ids[0] != second.InterfaceID {
		t.Fatalf("plugged after the agent restart = %q, %v; want the second interface once", ids, err)
	}

	// Unplug: the guest loses eth1, the node its tap.
	spec.Extra = nil
	srv.push(spec)
	waitConsoleLine(t, srv, "NICS: eth0 lo ")
	waitUntil(t, "the tap deleted", func() bool { return !linkIn(netns, tap) })
	ids, err = hv.last().NICs(context.Background())
	if err != nil || len(ids) != 0 {
		t.Errorf("plugged after unplug = %q, %v", ids, err)
	}

	// Started again with two further interfaces, listed out of order:
	// the guest names them by device index (eth1 is index 1's).
	spec.Power, spec.ForceStop = nodeapi.PowerStopped, true
	srv.push(spec)
	srv.waitFor(t, testID, nodeapi.ObservedStopped, 30*time.Second)
	third := second
	third.InterfaceID, third.MAC, third.PrivateIP = "eni-0aaaaaaaaaaaaaaa1", "02:00:0a:09:02:08", "10.9.2.8"
	second.DeviceIndex = 2
	spec.Extra = []nodeapi.NetworkInterface{second, third}
	third.DeviceIndex = 1
	spec.Extra[1] = third
	spec.Power, spec.ForceStop = nodeapi.PowerRunning, false
	srv.push(spec)
	srv.waitFor(t, testID, nodeapi.ObservedRunning, 60*time.Second)
	waitConsoleLine(t, srv, "NICS: eth0 eth1 eth2 lo  MAC1 02:00:0a:09:02:08")
	waitConsoleLine(t, srv, "LEASE1 eth1 10.9.2.8 24")
	if os.Getenv("KUMO_DEBUG_CONSOLE") != "" {
		t.Logf("console:\n%s", srv.console(testID))
	}
	stopAgent()
}

// waitConsoleLine waits until the console shows want: for a "NICS:"
// line, as the latest such line; otherwise as a line anywhere.
func waitConsoleLine(t *testing.T, srv *fakeServer, want string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		out := strings.ReplaceAll(string(srv.console(testID)), "\r", "")
		if strings.HasPrefix(want, "NICS:") {
			if i := strings.LastIndex(out, "NICS:"); i >= 0 {
				line, _, _ := strings.Cut(out[i:], "\n")
				if strings.TrimSpace(line) == strings.TrimSpace(want) {
					return
				}
			}
		} else if strings.Contains(out, want+"\n") {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("console never showed %q; sent:\n%s", want, srv.console(testID))
}

func linkIn(netns, name string) bool {
	return exec.Command("ip", "-n", filepath.Base(netns), "link", "show", "dev", name).Run() == nil
}
