package backendtest

import (
	"context"
	"reflect"
	"testing"

	"github.com/kumo-cloud/kumo/internal/s3/backend"
)

func listAll(t *testing.T, b backend.Backend, bucket string, q backend.ListQuery) (keys, prefixes []string, pages int) {
	t.Helper()
	for {
		page, err := b.ListObjects(context.Background(), bucket, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Objects {
			keys = append(keys, o.Key)
		}
		prefixes = append(prefixes, page.CommonPrefixes...)
		pages++
		if !page.Truncated {
			return keys, prefixes, pages
		}
		if pages > 100 {
			t.Fatal("listing does not end")
		}
		q.After = page.Next
	}
}

func testListing(t *testing.T, b backend.Backend) {
	bucket := Bucket(t, b, "listing")
	for _, k := range []string{"a", "a-b", "a/1", "a/2", "a/x/3", "b/1", "b0", "c"} {
		Put(t, b, bucket, k, []byte(k))
	}
	cases := []struct {
		q              backend.ListQuery
		keys, prefixes []string
		pages          int
	}{
		{backend.ListQuery{MaxKeys: 1000}, []string{"a", "a-b", "a/1", "a/2", "a/x/3", "b/1", "b0", "c"}, nil, 1},
		{backend.ListQuery{MaxKeys: 3}, []string{"a", "a-b", "a/1", "a/2", "a/x/3", "b/1", "b0", "c"}, nil, 3},
		{backend.ListQuery{Delimiter: "/", MaxKeys: 1000}, []string{"a", "a-b", "b0", "c"}, []string{"a/", "b/"}, 1},
		{backend.ListQuery{Delimiter: "/", MaxKeys: 1}, []string{"a", "a-b", "b0", "c"}, []string{"a/", "b/"}, 6},
		{backend.ListQuery{Prefix: "a/", Delimiter: "/", MaxKeys: 1000}, []string{"a/1", "a/2"}, []string{"a/x/"}, 1},
		{backend.ListQuery{Prefix: "a/", MaxKeys: 2}, []string{"a/1", "a/2", "a/x/3"}, nil, 2},
		{backend.ListQuery{After: "a/2", MaxKeys: 1000}, []string{"a/x/3", "b/1", "b0", "c"}, nil, 1},
		{backend.ListQuery{Prefix: "zz", MaxKeys: 1000}, nil, nil, 1},
	}
	for _, tc := range cases {
		keys, prefixes, pages := listAll(t, b, bucket, tc.q)
		if !reflect.DeepEqual(keys, tc.keys) || !reflect.DeepEqual(prefixes, tc.prefixes) || pages != tc.pages {
			t.Errorf("list %+v:\n got  %q %q in %d pages\n want %q %q in %d pages", tc.q, keys, prefixes, pages, tc.keys, tc.prefixes, tc.pages)
		}
	}
}
