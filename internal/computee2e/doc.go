// Package computee2e runs Kumo's compute end to end with real processes:
// the kumo binary as `kumo server` and `kumo node`, guests under QEMU (TCG
// here, KVM where /dev/kvm exists) in network namespaces the node makes,
// driven by the AWS SDK for Go. The tests kill the agent and the server with
// SIGKILL mid-life and check that guests keep running and the API stays right.
//
// They need root (network namespaces, taps), qemu-system-x86_64 and qemu-img,
// and the demo image (images/demo/build.sh, built on first use).
package computee2e
