// Package nettest holds helpers for tests and benchmarks that need real
// networking between Linux network namespaces: namespaces standing in for
// nodes (joined by an underlay switch) and for guests (behind a veth on a
// bridge, as a tap would be), and a Go equivalent of iperf3 that measures
// TCP throughput between two namespaces.
//
// Everything it makes lives in namespaces the caller's test created and is
// removed when the test ends; nothing is routed out of the machine. It is
// imported only by _test.go files.
package nettest
