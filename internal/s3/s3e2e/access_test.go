package s3e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// everyOperation calls every S3 operation on bucket (and key in it) with
// c and returns each one's error code by name.
func everyOperation(c *s3.Client, bucket, key, uploadID, ownBucket string) map[string]error {
	ctx := context.Background()
	b, k := aws.String(bucket), aws.String(key)
	errs := map[string]error{}
	call := func(name string, fn func() error) { errs[name] = fn() }
	call("HeadBucket", func() error { _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: b}); return err })
	call("ListObjects", func() error { _, err := c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: b}); return err })
	call("ListObjectsV2", func() error { _, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: b}); return err })
	call("GetBucketLocation", func() error { _, err := c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: b}); return err })
	call("GetBucketPolicy", func() error { _, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: b}); return err })
	call("PutBucketPolicy", func() error {
		_, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: b, Policy: aws.String(publicReadPolicy(bucket))})
		return err
	})
	call("DeleteBucketPolicy", func() error { _, err := c.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: b}); return err })
	call("GetBucketAcl", func() error { _, err := c.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: b}); return err })
	call("PutBucketAcl", func() error {
		_, err := c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: b, ACL: types.BucketCannedACLPublicRead})
		return err
	})
	call("ListMultipartUploads", func() error {
		_, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: b})
		return err
	})
	call("GetObject", func() error { _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: k}); return err })
	call("HeadObject", func() error { _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: k}); return err })
	call("GetObjectAcl", func() error { _, err := c.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: b, Key: k}); return err })
	call("PutObjectAcl", func() error {
		_, err := c.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: b, Key: k, ACL: types.ObjectCannedACLPublicRead})
		return err
	})
	call("PutObject", func() error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("intruder"), Body: strings.NewReader("x")})
		return err
	})
	call("CopyObject into", func() error {
		_, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: b, Key: aws.String("intruder"), CopySource: aws.String(bucket + "/" + key)})
		return err
	})
	call("CopyObject out", func() error {
		_, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(ownBucket), Key: aws.String("stolen"), CopySource: aws.String(bucket + "/" + key)})
		return err
	})
	call("DeleteObject", func() error { _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: k}); return err })
	call("DeleteObjects", func() error {
		out, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: b, Delete: &types.Delete{Objects: []types.ObjectIdentifier{{Key: k}}}})
		if err == nil && len(out.Errors) == 1 {
			return &smithy.GenericAPIError{Code: *out.Errors[0].Code}
		}
		return err
	})
	call("CreateMultipartUpload", func() error {
		_, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: b, Key: aws.String("intruder")})
		return err
	})
	call("UploadPart", func() error {
		_, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: b, Key: k, UploadId: aws.String(uploadID), PartNumber: aws.Int32(1), Body: strings.NewReader("x")})
		return err
	})
	call("UploadPartCopy", func() error {
		_, err := c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: b, Key: k, UploadId: aws.String(uploadID), PartNumber: aws.Int32(1), CopySource: aws.String(bucket + "/" + key)})
		return err
	})
	call("ListParts", func() error {
		_, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: b, Key: k, UploadId: aws.String(uploadID)})
		return err
	})
	call("CompleteMultipartUpload", func() error {
		_, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: b, Key: k, UploadId: aws.String(uploadID),
			MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: aws.String(`"x"`)}}}})
		return err
	})
	call("AbortMultipartUpload", func() error {
		_, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: b, Key: k, UploadId: aws.String(uploadID)})
		return err
	})
	call("DeleteBucket", func() error { _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: b}); return err })
	return errs
}

func publicReadPolicy(bucket string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + bucket + `/*"}]}`
}

// TestCrossAccountDenied: another account gets AccessDenied for every
// bucket and object operation, and nothing changes.
func TestCrossAccountDenied(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		a, other := e.account(t, "team-a"), e.account(t, "team-b")
		ctx := context.Background()
		bucket, own := mkBucket(t, a, "team-a-private"), mkBucket(t, other, "team-b-own")
		put(t, a.S3, bucket, "secret.txt", []byte("top secret"))
		id := *must[*s3.CreateMultipartUploadOutput](t)(a.S3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: aws.String("secret.txt")})).UploadId
		for op, err := range everyOperation(other.S3, bucket, "secret.txt", id, own) {
			c := code(err)
			if op == "HeadBucket" || op == "HeadObject" {
				if c != "Forbidden" {
					t.Errorf("team-b %s on team-a's bucket: got %q, want Forbidden (403)", op, c)
				}
				continue
			}
			if c != "AccessDenied" {
				t.Errorf("team-b %s on team-a's bucket: got %q (%v), want AccessDenied", op, c, err)
			}
		}
		if got := get(t, a.S3, bucket, "secret.txt"); string(got) != "top secret" {
			t.Fatalf("object changed: %q", got)
		}
		list := must[*s3.ListObjectsV2Output](t)(a.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket}))
		if len(list.Contents) != 1 {
			t.Fatalf("team-a's bucket now holds %d objects", len(list.Contents))
		}
		if _, err := a.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: &bucket}); code(err) != "NoSuchBucketPolicy" {
			t.Fatalf("a policy appeared: %v", err)
		}
		if _, err := other.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &own, Key: aws.String("stolen")}); code(err) != "NotFound" {
			t.Fatalf("a copy reached team-b's bucket: %v", err)
		}
	})
}

// TestOwnerAccountUsers: a user of the owner account (an IAM user with its
// own key) uses the account's buckets as its identity policies allow: with
// none, nothing (as in AWS).
func TestOwnerAccountUsers(t *testing.T) {
	e := start(t, storetest.Backends()[0])
	a := e.account(t, "team-a")
	ctx := context.Background()
	bucket := mkBucket(t, a, "shared-in-team")
	put(t, a.S3, bucket, "k", []byte("v"))
	if _, err := a.IAM.CreateUser(ctx, iamCreateUser("alice")); err != nil {
		t.Fatal(err)
	}
	key, err := a.IAM.CreateAccessKey(ctx, iamCreateKey("alice"))
	if err != nil {
		t.Fatal(err)
	}
	alice := e.client(*key.AccessKey.AccessKeyId, *key.AccessKey.SecretAccessKey)
	_, err = alice.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("k")})
	wantCode(t, "GetObject without a policy", err, "AccessDenied")
	_, err = alice.ListBuckets(ctx, &s3.ListBucketsInput{})
	wantCode(t, "ListBuckets without a policy", err, "AccessDenied")
	_, err = a.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("read"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + bucket + `/*"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = alice.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("x"), Body: strings.NewReader("x")})
	wantCode(t, "PutObject with a read policy", err, "AccessDenied")
	if got := get(t, alice, bucket, "k"); string(got) != "v" {
		t.Fatalf("alice read %q", got)
	}
}

func TestBucketPolicy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		a, other, third := e.account(t, "team-a"), e.account(t, "team-b"), e.account(t, "team-c")
		ctx := context.Background()
		bucket := mkBucket(t, a, "team-a-shared")
		put(t, a.S3, bucket, "public/readme", []byte("hello"))
		put(t, a.S3, bucket, "private/key", []byte("secret"))
		policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[
			{"Sid":"read","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::%s:root"]},"Action":["s3:GetObject"],"Resource":"arn:aws:s3:::%s/public/*"},
			{"Effect":"Allow","Principal":{"AWS":"%s"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::%s"},
			{"Effect":"Allow","Principal":{"AWS":"%s"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::%s/inbox/*"}]}`,
			other.ID, bucket, other.ID, bucket, other.ID, bucket)
		must[*s3.PutBucketPolicyOutput](t)(a.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &bucket, Policy: &policy}))
		got := must[*s3.GetBucketPolicyOutput](t)(a.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: &bucket}))
		if *got.Policy != policy {
			t.Fatalf("GetBucketPolicy returned %s", *got.Policy)
		}
		if data := get(t, other.S3, bucket, "public/readme"); string(data) != "hello" {
			t.Fatalf("granted read: %q", data)
		}
		_, err := other.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("private/key")})
		wantCode(t, "read outside the granted prefix", err, "AccessDenied")
		_, err = other.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("public/missing")})
		wantCode(t, "missing key, with ListBucket granted", err, "NoSuchKey")
		if _, err := other.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket}); err != nil {
			t.Fatalf("granted list: %v", err)
		}
		put(t, other.S3, bucket, "inbox/report", []byte("from b"))
		_, err = other.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("outbox/x"), Body: strings.NewReader("x")})
		wantCode(t, "write outside the granted prefix", err, "AccessDenied")
		_, err = other.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("inbox/public"), Body: strings.NewReader("x"), ACL: types.ObjectCannedACLPublicRead})
		wantCode(t, "write with an ACL, without s3:PutObjectAcl", err, "AccessDenied")
		_, err = other.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: aws.String("inbox/report")})
		wantCode(t, "delete not granted", err, "AccessDenied")
		_, err = other.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &bucket, Policy: aws.String(publicReadPolicy(bucket))})
		wantCode(t, "policy change by the grantee", err, "AccessDenied")
		_, err = third.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("public/readme")})
		wantCode(t, "an account not named", err, "AccessDenied")
		_, err = third.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("public/missing")})
		wantCode(t, "missing key, without ListBucket", err, "AccessDenied")

		deny := fmt.Sprintf(`{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::%s","arn:aws:s3:::%s/*"]}]}`, bucket, bucket)
		must[*s3.PutBucketPolicyOutput](t)(a.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &bucket, Policy: &deny}))
		_, err = a.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("public/readme")})
		wantCode(t, "owner under an explicit Deny", err, "AccessDenied")
		must[*s3.DeleteBucketPolicyOutput](t)(a.S3.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: &bucket}))
		if data := get(t, a.S3, bucket, "public/readme"); string(data) != "hello" {
			t.Fatal("owner locked out after deleting the policy")
		}
		_, err = other.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("public/readme")})
		wantCode(t, "grant gone with the policy", err, "AccessDenied")
	})
}

func TestMalformedPolicies(t *testing.T) {
	e := start(t, storetest.Backends()[0])
	a := e.account(t, "team-a")
	bucket := mkBucket(t, a, "policies")
	stmt := func(s string) string { return `{"Version":"2012-10-17","Statement":[` + s + `]}` }
	for name, p := range map[string]string{
		"not json":         `{"Statement":`,
		"other bucket":     stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::someone-else/*"}`),
		"unknown operator": stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::policies/*","Condition":{"IpAddr":{"aws:SourceIp":"10.0.0.0/8"}}}`),
		"no principal":     stmt(`{"Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::policies/*"}`),
		"bad effect":       stmt(`{"Effect":"Maybe","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::policies/*"}`),
		"ec2 action":       stmt(`{"Effect":"Allow","Principal":"*","Action":"ec2:RunInstances","Resource":"arn:aws:s3:::policies/*"}`),
		"bad account":      stmt(`{"Effect":"Allow","Principal":{"AWS":"12345"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::policies/*"}`),
		"no statements":    `{"Version":"2012-10-17","Statement":[]}`,
	} {
		_, err := a.S3.PutBucketPolicy(context.Background(), &s3.PutBucketPolicyInput{Bucket: &bucket, Policy: aws.String(p)})
		if code(err) != "MalformedPolicy" {
			t.Errorf("%s: got %q, want MalformedPolicy", name, code(err))
		}
	}
	// The whole policy language is accepted now that the IAM engine
	// evaluates bucket policies: conditions, NotPrincipal, service principals.
	for name, p := range map[string]string{
		"condition":         stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::policies/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`),
		"not principal":     stmt(`{"Effect":"Deny","NotPrincipal":{"AWS":"123456789012"},"Action":"s3:*","Resource":"arn:aws:s3:::policies/*"}`),
		"service principal": stmt(`{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::policies/*"}`),
	} {
		if _, err := a.S3.PutBucketPolicy(context.Background(), &s3.PutBucketPolicyInput{Bucket: &bucket, Policy: aws.String(p)}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestACLsAndAnonymous: unsigned requests get only what a public ACL or
// policy grants.
func TestACLsAndAnonymous(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		a, other := e.account(t, "team-a"), e.account(t, "team-b")
		ctx := context.Background()
		bucket := mkBucket(t, a, "team-a-web")
		put(t, a.S3, bucket, "private.txt", []byte("private"))
		_, err := a.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("index.html"), Body: strings.NewReader("<h1>hi</h1>"),
			ACL: types.ObjectCannedACLPublicRead, ContentType: aws.String("text/html")})
		if err != nil {
			t.Fatal(err)
		}
		anon := func(method, path string) int {
			req, _ := http.NewRequest(method, e.URL+path, nil)
			status, _, _ := do(t, req)
			return status
		}
		for path, want := range map[string]int{
			"/" + bucket + "/index.html":     200,
			"/" + bucket + "/private.txt":    403,
			"/" + bucket + "/missing":        403,
			"/" + bucket:                     403,
			"/":                              403,
			"/no-such-bucket-here/x":         404,
			"/" + bucket + "?policy":         403,
			"/" + bucket + "/index.html?acl": 403,
		} {
			if got := anon(http.MethodGet, path); got != want {
				t.Errorf("anonymous GET %s: %d, want %d", path, got, want)
			}
		}
		if got := anon(http.MethodPut, "/"+bucket+"/new"); got != 403 {
			t.Errorf("anonymous PUT: %d, want 403", got)
		}
		if got := anon(http.MethodDelete, "/"+bucket+"/index.html"); got != 403 {
			t.Errorf("anonymous DELETE: %d, want 403", got)
		}
		acl := must[*s3.GetObjectAclOutput](t)(a.S3.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: &bucket, Key: aws.String("index.html")}))
		if len(acl.Grants) != 2 || acl.Grants[1].Grantee.URI == nil || acl.Grants[1].Permission != "READ" {
			t.Fatalf("GetObjectAcl: %+v", acl.Grants)
		}
		if data := get(t, other.S3, bucket, "index.html"); string(data) != "<h1>hi</h1>" {
			t.Fatalf("team-b reading a public-read object: %q", data)
		}
		must[*s3.PutBucketAclOutput](t)(a.S3.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: &bucket, ACL: types.BucketCannedACLPublicRead}))
		if got := anon(http.MethodGet, "/"+bucket); got != 200 {
			t.Errorf("anonymous list of a public-read bucket: %d, want 200", got)
		}
		if got := anon(http.MethodGet, "/"+bucket+"/private.txt"); got != 403 {
			t.Errorf("a public-read bucket exposed a private object: %d", got)
		}
		must[*s3.PutObjectAclOutput](t)(a.S3.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: &bucket, Key: aws.String("index.html"), ACL: types.ObjectCannedACLPrivate}))
		if got := anon(http.MethodGet, "/"+bucket+"/index.html"); got != 403 {
			t.Errorf("object made private is still public: %d", got)
		}
		if got := get(t, a.S3, bucket, "index.html"); string(got) != "<h1>hi</h1>" {
			t.Fatalf("PutObjectAcl changed the bytes: %q", got)
		}
		must[*s3.PutBucketPolicyOutput](t)(a.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &bucket, Policy: aws.String(publicReadPolicy(bucket))}))
		if got := anon(http.MethodGet, "/"+bucket+"/private.txt"); got != 200 {
			t.Errorf("anonymous GET under a public policy: %d, want 200", got)
		}
		put(t, a.S3, bucket, "big", bytes.Repeat([]byte("x"), 1000))
	})
}

// TestCrossAccountNeedsBothPolicies: a user of another account reaches a
// bucket only when the bucket policy allows its account (or it) and its
// own identity policies allow too; s3:prefix narrows ListBucket.
func TestCrossAccountNeedsBothPolicies(t *testing.T) {
	e := start(t, storetest.Backends()[0])
	a, b := e.account(t, "team-a"), e.account(t, "team-b")
	ctx := context.Background()
	bucket := mkBucket(t, a, "team-a-to-b")
	put(t, a.S3, bucket, "public/readme", []byte("hello"))
	put(t, a.S3, bucket, "private/key", []byte("secret"))
	policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":{"AWS":"%s"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::%s/public/*"},
		{"Effect":"Allow","Principal":{"AWS":"%s"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::%s","Condition":{"StringLike":{"s3:prefix":"public/*"}}}]}`,
		b.ID, bucket, b.ID, bucket)
	must[*s3.PutBucketPolicyOutput](t)(a.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(policy)}))

	// Another account's root needs only the bucket policy.
	if got := get(t, b.S3, bucket, "public/readme"); string(got) != "hello" {
		t.Fatalf("team-b root read %q", got)
	}
	must[*iam.CreateUserOutput](t)(b.IAM.CreateUser(ctx, iamCreateUser("bob")))
	key := must[*iam.CreateAccessKeyOutput](t)(b.IAM.CreateAccessKey(ctx, iamCreateKey("bob")))
	bob := e.client(*key.AccessKey.AccessKeyId, *key.AccessKey.SecretAccessKey)
	_, err := bob.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("public/readme")})
	wantCode(t, "bob without an identity policy", err, "AccessDenied")

	must[*iam.PutUserPolicyOutput](t)(b.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("s3"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"}]}`)}))
	if got := get(t, bob, bucket, "public/readme"); string(got) != "hello" {
		t.Fatalf("bob read %q", got)
	}
	_, err = bob.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("private/key")})
	wantCode(t, "bob outside the bucket policy", err, "AccessDenied")
	_, err = bob.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("public/")})
	if err != nil {
		t.Fatalf("list public/: %v", err)
	}
	_, err = bob.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("private/")})
	wantCode(t, "list private/", err, "AccessDenied")
	// bob's own account cannot widen what the bucket owner granted.
	_, err = bob.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("public/x"), Body: strings.NewReader("x")})
	wantCode(t, "bob writes", err, "AccessDenied")
}
