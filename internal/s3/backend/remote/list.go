package remote

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/kumo-cloud/kumo/internal/s3/backend"
)

// ListObjects lists one page through ListObjectsV2 with StartAfter. A
// common prefix equal to After (the page boundary of the previous call)
// is dropped, since S3 lists it again; pages of nothing but that prefix
// are skipped with the continuation token.
func (b *Backend) ListObjects(ctx context.Context, bucket string, q backend.ListQuery) (backend.ListPage, error) {
	in := &s3.ListObjectsV2Input{Bucket: b.bucket(bucket), Prefix: aws.String(q.Prefix), MaxKeys: aws.Int32(int32(q.MaxKeys)),
		EncodingType: types.EncodingTypeUrl}
	if q.Delimiter != "" {
		in.Delimiter = aws.String(q.Delimiter)
	}
	if q.After != "" {
		in.StartAfter = aws.String(q.After)
	}
	var page backend.ListPage
	for {
		out, err := b.client.ListObjectsV2(ctx, in)
		if err != nil {
			return backend.ListPage{}, mapError("list "+bucket, err)
		}
		for _, o := range out.Contents {
			key, err := url.QueryUnescape(aws.ToString(o.Key))
			if err != nil {
				return backend.ListPage{}, fmt.Errorf("list %s: remote sent a badly encoded key: %w", bucket, err)
			}
			page.Objects = append(page.Objects, backend.Object{Key: key, Size: aws.ToInt64(o.Size),
				ETag: unquote(aws.ToString(o.ETag)), LastModified: aws.ToTime(o.LastModified).UTC()})
			page.Next = maxString(page.Next, key)
		}
		for _, cp := range out.CommonPrefixes {
			p, err := url.QueryUnescape(aws.ToString(cp.Prefix))
			if err != nil {
				return backend.ListPage{}, fmt.Errorf("list %s: remote sent a badly encoded prefix: %w", bucket, err)
			}
			if p != q.After || !strings.HasSuffix(p, q.Delimiter) {
				page.CommonPrefixes = append(page.CommonPrefixes, p)
				page.Next = maxString(page.Next, p)
			}
		}
		page.Truncated = aws.ToBool(out.IsTruncated)
		if !page.Truncated || len(page.Objects)+len(page.CommonPrefixes) > 0 || out.NextContinuationToken == nil {
			return page, nil
		}
		in.ContinuationToken, in.StartAfter = out.NextContinuationToken, nil
	}
}

func maxString(a, b string) string {
	if b > a {
		return b
	}
	return a
}
