package node

import (
	"fmt"
	"log/slog"
	"testing"

	"github.com/kumo-cloud/kumo/internal/nodeapi"
)

func TestPublicMappings(t *testing.T) {
	v := &vpcNet{a: &agent{log: slog.New(slog.DiscardHandler)}}
	nic := func(vpc, priv, pub string, routes ...string) nodeapi.NetworkInterface {
		return nodeapi.NetworkInterface{VPCID: vpc, PrivateIP: priv, PublicIP: pub, InternetRoutes: routes}
	}
	specs := []nodeapi.InstanceSpec{
		{ID: "i-1", Power: nodeapi.PowerRunning, Network: nic("vpc-1", "10.0.1.10", "198.51.100.10", "0.0.0.0/0", "bad"),
			Extra: []nodeapi.NetworkInterface{func() nodeapi.NetworkInterface {
				n := nic("vpc-1", "10.0.2.10", "", "192.0.2.0/24")
				n.PublicIPs = map[string]string{"198.51.100.12": "10.0.2.11", "nonsense": "10.0.2.12"}
				return n
			}()}},
		{ID: "i-2", Power: nodeapi.PowerStopped, Network: nic("vpc-1", "10.0.1.20", "198.51.100.20", "0.0.0.0/0")},
		{ID: "i-3", Power: nodeapi.PowerRunning, Network: nic("vpc-2", "10.0.1.30", "198.51.100.30", "0.0.0.0/0")},
		{ID: "i-4", Power: nodeapi.PowerRunning, Network: nic("vpc-1", "10.0.1.40", "")},
	}
	got := fmt.Sprint(v.mappings("vpc-1", specs))
	want := "[{198.51.100.10 10.0.1.10 [0.0.0.0/0]} {198.51.100.12 10.0.2.11 [192.0.2.0/24]}]"
	if got != want {
		t.Errorf("mappings of vpc-1 = %s\nwant %s", got, want)
	}
	if got := fmt.Sprint(v.mappings("vpc-2", specs)); got != "[{198.51.100.30 10.0.1.30 [0.0.0.0/0]}]" {
		t.Errorf("mappings of vpc-2 = %s", got)
	}
	if got := v.mappings("vpc-3", specs); len(got) != 0 {
		t.Errorf("mappings of an unknown VPC: %v", got)
	}
}

func TestSubnetRoutesFromSpecs(t *testing.T) {
	v := &vpcNet{a: &agent{log: slog.New(slog.DiscardHandler)}}
	routes := []nodeapi.Route{{Destination: "0.0.0.0/0", NextHop: "10.0.2.10"}, {Destination: "192.0.2.0/24"},
		{Destination: "bad"}, {Destination: "198.51.100.0/24", NextHop: "nonsense"}, {Destination: "0.0.0.0/0", NextHop: "10.0.2.11"}}
	specs := []nodeapi.InstanceSpec{
		{ID: "i-1", Power: nodeapi.PowerRunning, Network: nodeapi.NetworkInterface{VPCID: "vpc-1", SubnetID: "subnet-a", Routes: routes}},
		{ID: "i-2", Power: nodeapi.PowerTerminated, Network: nodeapi.NetworkInterface{VPCID: "vpc-1", SubnetID: "subnet-b", Routes: routes}},
		{ID: "i-3", Power: nodeapi.PowerStopped, Network: nodeapi.NetworkInterface{VPCID: "vpc-1", SubnetID: "subnet-c"}},
		{ID: "i-4", Power: nodeapi.PowerRunning, Network: nodeapi.NetworkInterface{VPCID: "vpc-2", SubnetID: "subnet-d", Routes: routes}},
	}
	got := fmt.Sprint(v.subnetRoutes("vpc-1", specs))
	want := "map[subnet-a:[{0.0.0.0/0 10.0.2.10} {192.0.2.0/24 invalid IP} {198.51.100.0/24 invalid IP}] subnet-c:[]]"
	if got != want {
		t.Errorf("subnet routes = %s\nwant %s", got, want)
	}
}

func TestIMDSInstanceInterfaces(t *testing.T) {
	s := nodeapi.InstanceSpec{ID: "i-1", Network: nodeapi.NetworkInterface{InterfaceID: "eni-0", MAC: "02:00:00:00:00:01", VPCID: "vpc-1",
		PrivateIP: "10.0.1.10", SecondaryIPs: []string{"10.0.1.11"}},
		Extra: []nodeapi.NetworkInterface{
			{InterfaceID: "eni-2", DeviceIndex: 2, MAC: "02:00:00:00:00:03", VPCID: "vpc-1", PrivateIP: "10.0.2.10"},
			{InterfaceID: "eni-1", DeviceIndex: 1, MAC: "02:00:00:00:00:02", VPCID: "vpc-1", PrivateIP: "10.0.1.20", SecondaryIPs: []string{"10.0.1.21"},
				PublicIP: "198.51.100.4", SecurityGroupIDs: []string{"sg-1"}, SecurityGroupNames: []string{"web"}},
			{InterfaceID: "eni-9", DeviceIndex: 3, MAC: "02:00:00:00:00:09", VPCID: "vpc-other"}, // not the guest's: left out
		}}
	in := imdsInstance(s)
	if fmt.Sprint(in.SecondaryIPs) != "[10.0.1.11]" {
		t.Errorf("primary secondary addresses: %v", in.SecondaryIPs)
	}
	got := fmt.Sprintf("%+v", in.Interfaces)
	want := "[{DeviceNumber:1 InterfaceID:eni-1 MAC:02:00:00:00:00:02 PrivateIPs:[10.0.1.20 10.0.1.21] PublicIP:198.51.100.4 SubnetID: SubnetCIDR: VPCID:vpc-1 VPCCIDR: SecurityGroups:[web] SecurityGroupIDs:[sg-1]} " +
		"{DeviceNumber:2 InterfaceID:eni-2 MAC:02:00:00:00:00:03 PrivateIPs:[10.0.2.10] PublicIP: SubnetID: SubnetCIDR: VPCID:vpc-1 VPCCIDR: SecurityGroups:[] SecurityGroupIDs:[]}]"
	if got != want {
		t.Errorf("interfaces:\n got %s\nwant %s", got, want)
	}
}
