package sigv4

import (
	"context"
	"testing"
)

// BenchmarkVerify verifies a typical header-signed EC2 POST as a server
// receives it.
func BenchmarkVerify(b *testing.B) {
	const body = "Action=RunInstances&Version=2016-11-15&ImageId=ami-0123456789abcdef0&InstanceType=t3.micro&MinCount=1&MaxCount=1"
	r, got := onWire(b, signForm(b, "ec2", body, testSecret, testNow()))
	r.Header.Set("User-Agent", "aws-sdk-go-v2/1.48.0 os/linux lang/go#1.26 api/ec2#1.344.3")
	r.Header.Set("Amz-Sdk-Invocation-Id", "d7a1d2f3-0000-4000-8000-000000000000")
	r.Header.Set("Amz-Sdk-Request", "attempt=1; max=3")
	v := newTestVerifier(false)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, r, got); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyPresigned verifies a presigned S3 GET.
func BenchmarkVerifyPresigned(b *testing.B) {
	r := presignedGet(b, true, "http://kumo.example:8443/bucket/dir/object.txt", "s3", UnsignedPayload, 3600, testNow())
	v := newTestVerifier(true)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, r, nil); err != nil {
			b.Fatal(err)
		}
	}
}
