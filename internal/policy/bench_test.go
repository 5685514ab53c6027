package policy

import (
	"fmt"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user and system CPU time so far: the machine
// running benchmarks is shared, so wall time per op overstates the cost;
// CPU time per op does not.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loop runs f b.N times and reports CPU nanoseconds per op beside ns/op.
func loop(b *testing.B, f func()) {
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	n := 0
	for b.Loop() {
		f()
		n++
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(n), "cpu-ns/op")
}

// benchPolicies builds n identity policies of m statements each, shaped
// like a team's policies: action lists with wildcards, instance ARNs,
// tag conditions; none allows the benchmark's request until the very
// last statement, so every statement is evaluated.
func benchPolicies(b *testing.B, n, m int) []*Policy {
	b.Helper()
	var out []*Policy
	for p := 0; p < n; p++ {
		var stmts []string
		for s := 0; s < m; s++ {
			team := fmt.Sprintf("team%d", p*m+s)
			if p == n-1 && s == m-1 {
				team = "blue"
			}
			stmts = append(stmts, stmt("Allow", `["ec2:StartInstances","ec2:StopInstances","ec2:RebootInstances","ec2:Describe*"]`,
				`["arn:aws:ec2:*:111122223333:instance/*","arn:aws:ec2:*:111122223333:volume/*"]`,
				cond(`{"StringEquals":{"ec2:ResourceTag/team":"`+team+`"},"Bool":{"aws:SecureTransport":"true"},"IpAddress":{"aws:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}}`)))
		}
		out = append(out, mustParse(b, Identity, doc(stmts...)))
	}
	return out
}

// BenchmarkEvaluate10x10 is the measure: one request against ten
// policies of ten statements (a user in several groups).
func BenchmarkEvaluate10x10(b *testing.B) {
	set := PolicySet{Identity: benchPolicies(b, 10, 10)}
	req := Request{Principal: alice, Action: "ec2:StopInstances", Resource: instA,
		Context: ctxOf("ec2:ResourceTag/team=blue", "aws:SecureTransport=true", "aws:SourceIp=10.1.2.3", "aws:username=alice")}
	if d := Evaluate(req, set); describe(d) != "allow I9.9" {
		b.Fatalf("decision %s", describe(d))
	}
	loop(b, func() { Evaluate(req, set) })
}

// BenchmarkEvaluate10x10Denied: nothing matches, the common case for a
// request outside a user's rights.
func BenchmarkEvaluate10x10Denied(b *testing.B) {
	set := PolicySet{Identity: benchPolicies(b, 10, 10)}
	req := Request{Principal: alice, Action: "ec2:StopInstances", Resource: instA,
		Context: ctxOf("ec2:ResourceTag/team=red", "aws:SecureTransport=true", "aws:SourceIp=10.1.2.3")}
	loop(b, func() { Evaluate(req, set) })
}

// BenchmarkParse10 parses a ten-statement policy (done once per policy
// change, not per request).
func BenchmarkParse10(b *testing.B) {
	var stmts []string
	for s := 0; s < 10; s++ {
		stmts = append(stmts, stmt("Allow", `["ec2:StartInstances","ec2:StopInstances"]`, "arn:aws:ec2:*:*:instance/*",
			cond(`{"StringEquals":{"ec2:ResourceTag/team":"${aws:PrincipalTag/team}"}}`)))
	}
	text := []byte(doc(stmts...))
	loop(b, func() {
		if _, err := Parse(text, Identity); err != nil {
			b.Fatal(err)
		}
	})
}
