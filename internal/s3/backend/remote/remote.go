// Package remote keeps S3 objects in an external S3 service (MinIO, Ceph
// RGW, AWS, another Kumo) through the AWS SDK: Kumo bucket NAME is the
// remote bucket BucketPrefix+NAME, keys are unchanged. User metadata is
// stored under "u-" names and Kumo's own (the canned ACL, Expires) under
// "k-" names, so what a user sets can never pose as what Kumo sets.
//
// Writes stream the verified body straight through; the remote store's
// own atomicity keeps a failed upload invisible (the front end's body
// reader fails before the last byte when a check fails).
package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/kumo-cloud/kumo/internal/s3/backend"
)

// Config names the external S3 service and the credential Kumo uses there.
type Config struct {
	Endpoint        string // http(s)://host:port
	Region          string // default us-east-1
	AccessKeyID     string
	SecretAccessKey string
	// BucketPrefix is put before every bucket name on the remote side, so
	// one remote account can serve several Kumo installations. Prefix plus
	// name must stay within S3's 63 characters.
	BucketPrefix string
	// HTTPClient is optional.
	HTTPClient *http.Client
}

// Backend is an external S3 service used as Kumo's object store.
type Backend struct {
	client *s3.Client
	prefix string
	region string
}

var _ backend.Backend = (*Backend)(nil)

// New makes a client for the remote service; it does not contact it.
func New(cfg Config) (*Backend, error) {
	if cfg.Endpoint == "" || cfg.AccessKeyID == "" || cfg.SecretAccessKey == "" {
		return nil, errors.New("remote S3 backend: endpoint, access key id and secret access key are required")
	}
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	awsCfg := aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, ""),
	}
	if cfg.HTTPClient != nil {
		awsCfg.HTTPClient = cfg.HTTPClient
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(cfg.Endpoint)
		o.UsePathStyle = true
		// Bodies are streams of known length, already verified by the
		// front end: send them unsigned and without an extra checksum
		// pass, which would need to read them twice.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
	})
	return &Backend{client: client, prefix: cfg.BucketPrefix, region: region}, nil
}

func (b *Backend) bucket(name string) *string { return aws.String(b.prefix + name) }

// mapError turns the remote's S3 errors into backend errors.
func mapError(what string, err error) error {
	if err == nil {
		return nil
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "NoSuchBucket":
			return fmt.Errorf("%s: %w", what, backend.ErrNoSuchBucket)
		case "NoSuchKey", "NotFound":
			return fmt.Errorf("%s: %w", what, backend.ErrNoSuchKey)
		case "NoSuchUpload":
			return fmt.Errorf("%s: %w", what, backend.ErrNoSuchUpload)
		case "BucketNotEmpty":
			return fmt.Errorf("%s: %w", what, backend.ErrBucketNotEmpty)
		case "InvalidRange":
			return fmt.Errorf("%s: %w", what, backend.ErrInvalidRange)
		case "InvalidBucketName":
			return fmt.Errorf("%s: %w: %v", what, backend.ErrInvalidName, err)
		}
	}
	return fmt.Errorf("remote S3: %s: %w", what, err)
}

// CreateBucket makes the remote bucket; one the credential already owns is fine.
func (b *Backend) CreateBucket(ctx context.Context, bucket string) error {
	in := &s3.CreateBucketInput{Bucket: b.bucket(bucket)}
	if b.region != "us-east-1" {
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(b.region)}
	}
	_, err := b.client.CreateBucket(ctx, in)
	var owned *types.BucketAlreadyOwnedByYou
	if errors.As(err, &owned) {
		return nil
	}
	return mapError("create bucket "+bucket, err)
}

// DeleteBucket refuses a bucket with objects, aborts its uploads and
// deletes it.
func (b *Backend) DeleteBucket(ctx context.Context, bucket string) error {
	page, err := b.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: b.bucket(bucket), MaxKeys: aws.Int32(1)})
	if err != nil {
		return mapError("delete bucket "+bucket, err)
	}
	if len(page.Contents) > 0 {
		return fmt.Errorf("delete bucket %s: %w", bucket, backend.ErrBucketNotEmpty)
	}
	uploads, err := b.ListUploads(ctx, bucket, "")
	if err != nil {
		return err
	}
	for _, u := range uploads {
		if err := b.AbortUpload(ctx, bucket, u.Key, u.ID); err != nil && !errors.Is(err, backend.ErrNoSuchUpload) {
			return err
		}
	}
	_, err = b.client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: b.bucket(bucket)})
	return mapError("delete bucket "+bucket, err)
}

// PutObject streams the body to the remote.
func (b *Backend) PutObject(ctx context.Context, bucket, key string, body io.Reader, size int64, meta backend.Meta) (backend.Object, error) {
	exact := backend.ExactReader(body, size)
	in := &s3.PutObjectInput{Bucket: b.bucket(bucket), Key: aws.String(key), Body: exact, ContentLength: aws.Int64(size)}
	applyMeta(meta, &in.ContentType, &in.CacheControl, &in.ContentDisposition, &in.ContentEncoding, &in.ContentLanguage, &in.Metadata)
	out, err := b.client.PutObject(ctx, in)
	if err != nil {
		return backend.Object{}, bodyError(exact, mapError("put "+bucket+"/"+key, err))
	}
	return backend.Object{Key: key, Size: size, ETag: unquote(aws.ToString(out.ETag)), LastModified: time.Now().UTC(), Meta: meta}, nil
}

// GetObject opens the object, passing the range on as a Range header.
func (b *Backend) GetObject(ctx context.Context, bucket, key string, rng *backend.ByteRange) (*backend.Reader, error) {
	in := &s3.GetObjectInput{Bucket: b.bucket(bucket), Key: aws.String(key)}
	if rng != nil {
		in.Range = aws.String(rangeHeader(*rng))
	}
	out, err := b.client.GetObject(ctx, in)
	if err != nil {
		return nil, mapError("get "+bucket+"/"+key, err)
	}
	obj := backend.Object{Key: key, Size: aws.ToInt64(out.ContentLength), ETag: unquote(aws.ToString(out.ETag)),
		LastModified: aws.ToTime(out.LastModified).UTC(),
		Meta:         readMeta(out.ContentType, out.CacheControl, out.ContentDisposition, out.ContentEncoding, out.ContentLanguage, out.Metadata)}
	r := &backend.Reader{ReadCloser: out.Body, Object: obj, Length: obj.Size, Ranged: rng != nil}
	if rng != nil {
		off, total, ok := parseContentRange(aws.ToString(out.ContentRange))
		if !ok {
			out.Body.Close()
			return nil, fmt.Errorf("get %s/%s: remote answered a range request with Content-Range %q", bucket, key, aws.ToString(out.ContentRange))
		}
		r.Offset, r.Size = off, total
	}
	return r, nil
}

func rangeHeader(r backend.ByteRange) string {
	switch {
	case r.Suffix > 0:
		return "bytes=-" + strconv.FormatInt(r.Suffix, 10)
	case r.Last < 0:
		return "bytes=" + strconv.FormatInt(r.First, 10) + "-"
	}
	return "bytes=" + strconv.FormatInt(r.First, 10) + "-" + strconv.FormatInt(r.Last, 10)
}

// parseContentRange reads "bytes first-last/total".
func parseContentRange(v string) (offset, total int64, ok bool) {
	spec, ok := strings.CutPrefix(v, "bytes ")
	if !ok {
		return 0, 0, false
	}
	span, totalText, ok := strings.Cut(spec, "/")
	first, _, ok2 := strings.Cut(span, "-")
	if !ok || !ok2 {
		return 0, 0, false
	}
	offset, err1 := strconv.ParseInt(first, 10, 64)
	total, err2 := strconv.ParseInt(totalText, 10, 64)
	return offset, total, err1 == nil && err2 == nil
}

// HeadObject reads the object's metadata.
func (b *Backend) HeadObject(ctx context.Context, bucket, key string) (backend.Object, error) {
	out, err := b.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b.bucket(bucket), Key: aws.String(key)})
	if err != nil {
		return backend.Object{}, mapError("head "+bucket+"/"+key, err)
	}
	return backend.Object{Key: key, Size: aws.ToInt64(out.ContentLength), ETag: unquote(aws.ToString(out.ETag)),
		LastModified: aws.ToTime(out.LastModified).UTC(),
		Meta:         readMeta(out.ContentType, out.CacheControl, out.ContentDisposition, out.ContentEncoding, out.ContentLanguage, out.Metadata)}, nil
}

// DeleteObject deletes the object (S3 does not mind a missing key).
func (b *Backend) DeleteObject(ctx context.Context, bucket, key string) error {
	_, err := b.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b.bucket(bucket), Key: aws.String(key)})
	return mapError("delete "+bucket+"/"+key, err)
}

// bodyError puts the body's own failure (short, long, or failed checks)
// first: the SDK may have buried it under a retry error.
func bodyError(body *backend.Exact, err error) error {
	if berr := body.Err(); berr != nil {
		return fmt.Errorf("%w (%v)", berr, err)
	}
	return err
}

func unquote(etag string) string { return strings.Trim(etag, `"`) }
