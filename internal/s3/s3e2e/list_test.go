package s3e2e

import (
	"context"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

var listKeys = []string{"a", "a-b", "a/1", "a/2", "a/x/3", "b/1", "b0", "c d+e", "ü/ñ"}

// listV2 pages through ListObjectsV2 and returns keys and prefixes.
func listV2(t *testing.T, c *s3.Client, in s3.ListObjectsV2Input) (keys, prefixes []string, pages int) {
	t.Helper()
	p := s3.NewListObjectsV2Paginator(c, &in)
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out.Contents {
			keys = append(keys, *o.Key)
		}
		for _, cp := range out.CommonPrefixes {
			prefixes = append(prefixes, *cp.Prefix)
		}
		if int(*out.KeyCount) != len(out.Contents)+len(out.CommonPrefixes) {
			t.Fatalf("KeyCount %d for %d entries", *out.KeyCount, len(out.Contents)+len(out.CommonPrefixes))
		}
		pages++
	}
	return keys, prefixes, pages
}

// listV1 pages through ListObjects the way v1 clients do (NextMarker).
func listV1(t *testing.T, c *s3.Client, in s3.ListObjectsInput) (keys, prefixes []string, pages int) {
	t.Helper()
	for {
		out, err := c.ListObjects(context.Background(), &in)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out.Contents {
			keys = append(keys, *o.Key)
		}
		for _, cp := range out.CommonPrefixes {
			prefixes = append(prefixes, *cp.Prefix)
		}
		pages++
		if !*out.IsTruncated {
			return keys, prefixes, pages
		}
		in.Marker = out.NextMarker
	}
}

func TestListObjects(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		a := e.account(t, "team-a")
		bucket := mkBucket(t, a, "listing")
		for _, k := range listKeys {
			put(t, a.S3, bucket, k, []byte(k))
		}
		cases := []struct {
			prefix, delimiter, startAfter string
			maxKeys                       int32
			keys, prefixes                []string
			pages                         int
		}{
			{"", "", "", 0, listKeys, nil, 1},
			{"", "", "", 2, listKeys, nil, 5},
			{"", "/", "", 0, []string{"a", "a-b", "b0", "c d+e"}, []string{"a/", "b/", "ü/"}, 1},
			{"", "/", "", 1, []string{"a", "a-b", "b0", "c d+e"}, []string{"a/", "b/", "ü/"}, 7},
			{"a/", "/", "", 0, []string{"a/1", "a/2"}, []string{"a/x/"}, 1},
			{"", "", "a/2", 0, []string{"a/x/3", "b/1", "b0", "c d+e", "ü/ñ"}, nil, 1},
			{"nothing", "", "", 0, nil, nil, 1},
		}
		for _, tc := range cases {
			in := s3.ListObjectsV2Input{Bucket: &bucket, Prefix: aws.String(tc.prefix)}
			if tc.delimiter != "" {
				in.Delimiter = aws.String(tc.delimiter)
			}
			if tc.startAfter != "" {
				in.StartAfter = aws.String(tc.startAfter)
			}
			if tc.maxKeys > 0 {
				in.MaxKeys = aws.Int32(tc.maxKeys)
			}
			keys, prefixes, pages := listV2(t, a.S3, in)
			if !reflect.DeepEqual(keys, tc.keys) || !reflect.DeepEqual(prefixes, tc.prefixes) || pages != tc.pages {
				t.Errorf("v2 %+v:\n got  %q %q in %d pages\n want %q %q in %d pages", tc, keys, prefixes, pages, tc.keys, tc.prefixes, tc.pages)
			}
			if tc.startAfter != "" {
				continue
			}
			v1 := s3.ListObjectsInput{Bucket: &bucket, Prefix: in.Prefix, Delimiter: in.Delimiter, MaxKeys: in.MaxKeys}
			keys, prefixes, pages = listV1(t, a.S3, v1)
			if !reflect.DeepEqual(keys, tc.keys) || !reflect.DeepEqual(prefixes, tc.prefixes) || pages != tc.pages {
				t.Errorf("v1 %+v:\n got  %q %q in %d pages\n want %q %q in %d pages", tc, keys, prefixes, pages, tc.keys, tc.prefixes, tc.pages)
			}
		}
	})
}

// TestListEncodingTypeURL checks the raw XML: keys are percent-encoded
// (with "+" encoded, "/" kept) when encoding-type=url is asked for.
func TestListEncodingTypeURL(t *testing.T) {
	e := start(t, storetest.Backends()[0])
	a := e.account(t, "team-a")
	bucket := mkBucket(t, a, "encoded")
	put(t, a.S3, bucket, "c d+e/ü", []byte("x"))
	req := signedRequest(t, a, http.MethodGet, e.URL+"/"+bucket+"?list-type=2&encoding-type=url", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "<Key>c+d%2Be/%C3%BC</Key>") || !strings.Contains(string(body), "<EncodingType>url</EncodingType>") {
		t.Fatalf("encoded listing: %s", body)
	}
}
