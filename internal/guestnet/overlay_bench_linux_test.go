//go:build linux

package guestnet

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"
)

// BenchmarkGuestTCP measures TCP throughput between two guests'
// namespaces: on one subnet bridge of one node, and across two nodes
// through the VXLAN overlay. Run with
//
//	go test -run '^$' -bench GuestTCP ./internal/guestnet
func BenchmarkGuestTCP(b *testing.B) {
	nodes := newNodes(b, 2)
	v := vpcNet{id: overlayVPC1, vni: 401, guests: make([][]netip.Addr, 2)}
	a1 := addSubnetGuest(b, nodes[0], &v, 0, overlaySubnet1, "10.0.1.0/24", "10.0.1.10")
	a2 := addSubnetGuest(b, nodes[0], &v, 0, overlaySubnet1, "10.0.1.0/24", "10.0.1.11")
	b1 := addSubnetGuest(b, nodes[1], &v, 1, overlaySubnet1, "10.0.1.0/24", "10.0.1.20")
	ensureOverlay(b, nodes, v)
	b.Run("bridge", func(b *testing.B) { benchTCP(b, a1, a2, "10.0.1.11") })
	b.Run("vxlan", func(b *testing.B) { benchTCP(b, a1, b1, "10.0.1.20") })
}

const tcpChunk = 1 << 20

// benchTCP sends b.N MiB from one guest to a listener in another and
// reports the rate at which the receiver got them.
func benchTCP(b *testing.B, from, to guest, toIP string) {
	b.SetBytes(tcpChunk)
	n, err := tcpTransfer(from, to, toIP, b.N, b.ResetTimer)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(n)*8/b.Elapsed().Seconds()/1e9, "Gbit/s")
}

// tcpTransfer sends chunks MiB over TCP from the guest from to a listener
// on toIP in the guest to, calling started once connected, and returns
// the bytes the receiver got once the sender closed.
func tcpTransfer(from, to guest, toIP string, chunks int, started func()) (int64, error) {
	var ln net.Listener
	if err := InNetns(to.path, func() error {
		var err error
		ln, err = net.Listen("tcp4", net.JoinHostPort(toIP, "0"))
		return err
	}); err != nil {
		return 0, err
	}
	defer ln.Close()
	received := make(chan int64, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			received <- -1
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(time.Minute))
		n, _ := io.Copy(io.Discard, c)
		received <- n
	}()
	var conn *net.TCPConn
	if err := InNetns(from.path, func() error {
		c, err := net.DialTimeout("tcp4", ln.Addr().String(), 5*time.Second)
		if err == nil {
			conn = c.(*net.TCPConn)
		}
		return err
	}); err != nil {
		return 0, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Minute))
	started()
	buf := make([]byte, tcpChunk)
	for range chunks {
		if _, err := conn.Write(buf); err != nil {
			return 0, err
		}
	}
	if err := conn.CloseWrite(); err != nil {
		return 0, err
	}
	n := <-received
	if want := int64(chunks) * tcpChunk; n != want {
		return n, fmt.Errorf("received %d bytes, want %d", n, want)
	}
	return n, nil
}
