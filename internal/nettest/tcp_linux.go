package nettest

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Chunk is the unit TCPTransfer sends and BenchTCP counts: 1 MiB.
const Chunk = 1 << 20

// transferTimeout bounds one transfer (a stuck peer, a dropped flow).
const transferTimeout = time.Minute

// BenchTCP sends b.N chunks of 1 MiB over one TCP connection from the
// namespace at fromNetns to a listener on to (port 0: any free port) in
// the namespace at toNetns, and reports the rate the receiver got them at
// in Gbit/s (and MB/s, through b.SetBytes) and the CPU time the process
// spent per GiB (cpu-ms/GiB, see processCPU). The clock starts once the
// connection is up.
func BenchTCP(b *testing.B, fromNetns, toNetns string, to netip.AddrPort) {
	b.Helper()
	b.SetBytes(Chunk)
	var cpu0 time.Duration
	n, err := TCPTransfer(fromNetns, toNetns, to, b.N, func() {
		b.ResetTimer()
		cpu0 = processCPU(b)
	})
	cpu := processCPU(b) - cpu0
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(n)*8/b.Elapsed().Seconds()/1e9, "Gbit/s")
	b.ReportMetric(cpu.Seconds()*1e3/(float64(n)/(1<<30)), "cpu-ms/GiB")
}

// processCPU is the CPU time (user and system) this process has used.
// Sender and receiver are both in it, and the kernel charges most of the
// packets' path between namespaces (veth, bridge, netfilter, VXLAN) to
// the sending or receiving thread, so its growth over a transfer is the
// transfer's cost, which a busy machine disturbs less than the rate.
func processCPU(b *testing.B) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TCPTransfer sends chunks chunks of 1 MiB over one TCP connection from the
// namespace at fromNetns to a listener on to (port 0: any free port) in the
// namespace at toNetns, calling started once connected, and returns the
// bytes the receiver got once the sender closed: an error unless all.
func TCPTransfer(fromNetns, toNetns string, to netip.AddrPort, chunks int, started func()) (int64, error) {
	ln, err := listen(toNetns, to)
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	received := make(chan int64, 1)
	go func() { received <- drain(ln) }()
	conn, err := dial(fromNetns, ln.Addr().String(), 5*time.Second)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(transferTimeout))
	started()
	buf := make([]byte, Chunk)
	for range chunks {
		if _, err := conn.Write(buf); err != nil {
			return 0, fmt.Errorf("send to %s: %w", ln.Addr(), err)
		}
	}
	if err := conn.CloseWrite(); err != nil {
		return 0, fmt.Errorf("close to %s: %w", ln.Addr(), err)
	}
	n := <-received
	if want := int64(chunks) * Chunk; n != want {
		return n, fmt.Errorf("%s received %d bytes, want %d", ln.Addr(), n, want)
	}
	return n, nil
}

// Connects reports whether a TCP connection from the namespace at
// fromNetns to a listener on to in the namespace at toNetns is set up
// within timeout: false when a filter drops or rejects it.
func Connects(fromNetns, toNetns string, to netip.AddrPort, timeout time.Duration) (bool, error) {
	ln, err := listen(toNetns, to)
	if err != nil {
		return false, err
	}
	defer ln.Close()
	conn, err := dial(fromNetns, ln.Addr().String(), timeout)
	if err == nil {
		conn.Close()
		return true, nil
	}
	// Timed out, refused, unreachable: the network said no.
	if oerr := (*net.OpError)(nil); errors.As(err, &oerr) && oerr.Op == "dial" {
		return false, nil
	}
	return false, err
}

func listen(netnsPath string, addr netip.AddrPort) (net.Listener, error) {
	var ln net.Listener
	err := InNetns(netnsPath, func() (err error) {
		ln, err = net.Listen("tcp", addr.String())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listen on %s in %s: %w", addr, netnsPath, err)
	}
	return ln, nil
}

func dial(netnsPath, addr string, timeout time.Duration) (*net.TCPConn, error) {
	var conn *net.TCPConn
	err := InNetns(netnsPath, func() error {
		c, err := net.DialTimeout("tcp", addr, timeout)
		if err == nil {
			conn = c.(*net.TCPConn)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("connect to %s from %s: %w", addr, netnsPath, err)
	}
	return conn, nil
}

// drain accepts one connection and returns how many bytes it read from it
// until EOF (-1 if none was accepted).
func drain(ln net.Listener) int64 {
	c, err := ln.Accept()
	if err != nil {
		return -1
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(transferTimeout))
	n, _ := io.Copy(io.Discard, c)
	return n
}
