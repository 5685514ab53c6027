package remote

import (
	"context"
	"io"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/kumo-cloud/kumo/internal/s3/backend"
)

// CreateUpload starts a remote multipart upload with the object's metadata.
func (b *Backend) CreateUpload(ctx context.Context, bucket, key string, meta backend.Meta) (string, error) {
	in := &s3.CreateMultipartUploadInput{Bucket: b.bucket(bucket), Key: aws.String(key)}
	applyMeta(meta, &in.ContentType, &in.CacheControl, &in.ContentDisposition, &in.ContentEncoding, &in.ContentLanguage, &in.Metadata)
	out, err := b.client.CreateMultipartUpload(ctx, in)
	if err != nil {
		return "", mapError("create upload for "+bucket+"/"+key, err)
	}
	return aws.ToString(out.UploadId), nil
}

// PutPart streams one part.
func (b *Backend) PutPart(ctx context.Context, bucket, key, id string, n int, body io.Reader, size int64) (backend.Part, error) {
	exact := backend.ExactReader(body, size)
	out, err := b.client.UploadPart(ctx, &s3.UploadPartInput{Bucket: b.bucket(bucket), Key: aws.String(key), UploadId: aws.String(id),
		PartNumber: aws.Int32(int32(n)), Body: exact, ContentLength: aws.Int64(size)})
	if err != nil {
		return backend.Part{}, bodyError(exact, mapError("upload part", err))
	}
	return backend.Part{Number: n, Size: size, ETag: unquote(aws.ToString(out.ETag))}, nil
}

// ListParts pages through all of the upload's parts.
func (b *Backend) ListParts(ctx context.Context, bucket, key, id string) (backend.Upload, []backend.Part, error) {
	in := &s3.ListPartsInput{Bucket: b.bucket(bucket), Key: aws.String(key), UploadId: aws.String(id)}
	var parts []backend.Part
	for {
		out, err := b.client.ListParts(ctx, in)
		if err != nil {
			return backend.Upload{}, nil, mapError("list parts", err)
		}
		for _, p := range out.Parts {
			parts = append(parts, backend.Part{Number: int(aws.ToInt32(p.PartNumber)), Size: aws.ToInt64(p.Size),
				ETag: unquote(aws.ToString(p.ETag)), LastModified: aws.ToTime(p.LastModified).UTC()})
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		in.PartNumberMarker = out.NextPartNumberMarker
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].Number < parts[j].Number })
	return backend.Upload{ID: id, Key: key}, parts, nil
}

// CompleteUpload asks the remote to join the parts.
func (b *Backend) CompleteUpload(ctx context.Context, bucket, key, id string, parts []backend.Part) (backend.Object, error) {
	var done []types.CompletedPart
	var size int64
	for _, p := range parts {
		done = append(done, types.CompletedPart{PartNumber: aws.Int32(int32(p.Number)), ETag: aws.String(`"` + p.ETag + `"`)})
		size += p.Size
	}
	out, err := b.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: b.bucket(bucket), Key: aws.String(key),
		UploadId: aws.String(id), MultipartUpload: &types.CompletedMultipartUpload{Parts: done}})
	if err != nil {
		return backend.Object{}, mapError("complete upload", err)
	}
	return b.HeadObject(ctx, bucket, aws.ToString(out.Key))
}

// AbortUpload aborts the remote upload.
func (b *Backend) AbortUpload(ctx context.Context, bucket, key, id string) error {
	_, err := b.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: b.bucket(bucket), Key: aws.String(key), UploadId: aws.String(id)})
	return mapError("abort upload", err)
}

// ListUploads pages through the bucket's unfinished uploads under prefix.
func (b *Backend) ListUploads(ctx context.Context, bucket, prefix string) ([]backend.Upload, error) {
	in := &s3.ListMultipartUploadsInput{Bucket: b.bucket(bucket), Prefix: aws.String(prefix)}
	var out []backend.Upload
	for {
		page, err := b.client.ListMultipartUploads(ctx, in)
		if err != nil {
			return nil, mapError("list uploads", err)
		}
		for _, u := range page.Uploads {
			out = append(out, backend.Upload{ID: aws.ToString(u.UploadId), Key: aws.ToString(u.Key), Initiated: aws.ToTime(u.Initiated).UTC()})
		}
		if !aws.ToBool(page.IsTruncated) {
			return out, nil
		}
		in.KeyMarker, in.UploadIdMarker = page.NextKeyMarker, page.NextUploadIdMarker
	}
}
