package s3

import (
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/kumo-cloud/kumo/internal/s3/backend"
)

// maxListKeys is S3's page size limit for listings.
const maxListKeys = 1000

// listParams are the parameters both ListObjects versions share.
type listParams struct {
	prefix, delimiter, encoding string
	maxKeys                     int
}

func parseListParams(q url.Values) (listParams, *Error) {
	p := listParams{prefix: q.Get("prefix"), delimiter: q.Get("delimiter"), encoding: q.Get("encoding-type"), maxKeys: maxListKeys}
	if p.encoding != "" && p.encoding != "url" {
		return p, apiError(ErrInvalidArgument, "Invalid Encoding Method specified in Request: %q; only url is supported.", p.encoding)
	}
	if v := q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return p, apiError(ErrInvalidArgument, "max-keys must be a non-negative integer.")
		}
		p.maxKeys = min(n, maxListKeys)
	}
	return p, nil
}

// encodeKey applies encoding-type=url: percent-encoding that keeps "/"
// readable and encodes "+" (clients decode with query-unescaping).
func (p listParams) encodeKey(s string) string {
	if p.encoding != "url" {
		return s
	}
	return strings.ReplaceAll(url.QueryEscape(s), "%2F", "/")
}

func (s *Server) listPage(q *request, p listParams, after string) (backend.ListPage, []objectEntry, []commonPrefix, error) {
	page, err := s.backend.ListObjects(q.r.Context(), q.route.bucket, backend.ListQuery{
		Prefix: p.prefix, Delimiter: p.delimiter, After: after, MaxKeys: p.maxKeys})
	if err != nil {
		return page, nil, nil, err
	}
	var contents []objectEntry
	for _, o := range page.Objects {
		contents = append(contents, objectEntry{Key: p.encodeKey(o.Key), LastModified: xmlTime(o.LastModified),
			ETag: quoted(o.ETag), Size: o.Size, StorageClass: "STANDARD"})
	}
	var prefixes []commonPrefix
	for _, cp := range page.CommonPrefixes {
		prefixes = append(prefixes, commonPrefix{Prefix: p.encodeKey(cp)})
	}
	return page, contents, prefixes, nil
}

func (s *Server) listObjects(q *request) error {
	p, aerr := parseListParams(q.route.query)
	if aerr != nil {
		return aerr
	}
	marker := q.route.query.Get("marker")
	page, contents, prefixes, err := s.listPage(q, p, marker)
	if err != nil {
		return err
	}
	out := listBucketResult{Name: q.route.bucket, Prefix: p.encodeKey(p.prefix), Marker: p.encodeKey(marker),
		MaxKeys: p.maxKeys, Delimiter: p.encodeKey(p.delimiter), IsTruncated: page.Truncated,
		Contents: contents, CommonPrefixes: prefixes, EncodingType: p.encoding}
	if page.Truncated {
		out.NextMarker = p.encodeKey(page.Next)
	}
	return writeXML(q.w, http.StatusOK, out)
}

func (s *Server) listObjectsV2(q *request) error {
	p, aerr := parseListParams(q.route.query)
	if aerr != nil {
		return aerr
	}
	token, startAfter := q.route.query.Get("continuation-token"), q.route.query.Get("start-after")
	after := startAfter
	if q.route.query.Has("continuation-token") {
		raw, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil {
			return apiError(ErrInvalidArgument, "The continuation token provided is incorrect.")
		}
		after = string(raw)
	}
	page, contents, prefixes, err := s.listPage(q, p, after)
	if err != nil {
		return err
	}
	if q.route.query.Get("fetch-owner") == "true" {
		o := accountOwner(q.access.bucket.AccountID)
		for i := range contents {
			contents[i].Owner = &o
		}
	}
	out := listBucketResultV2{Name: q.route.bucket, Prefix: p.encodeKey(p.prefix), KeyCount: len(contents) + len(prefixes),
		MaxKeys: p.maxKeys, Delimiter: p.encodeKey(p.delimiter), IsTruncated: page.Truncated, ContinuationToken: token,
		StartAfter: p.encodeKey(startAfter), Contents: contents, CommonPrefixes: prefixes, EncodingType: p.encoding}
	if page.Truncated {
		out.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(page.Next))
	}
	return writeXML(q.w, http.StatusOK, out)
}

// maxDeleteKeys is S3's limit on one DeleteObjects request.
const maxDeleteKeys = 1000

// deleteObjects deletes each key the caller may delete and reports the
// others one by one.
func (s *Server) deleteObjects(q *request) error {
	var req deleteRequest
	if err := xml.Unmarshal(q.small, &req); err != nil || len(req.Objects) == 0 || len(req.Objects) > maxDeleteKeys {
		return apiError(ErrMalformedXML, "")
	}
	out := deleteResult{}
	for _, o := range req.Objects {
		if err := s.deleteOne(q, o.Key); err != nil {
			e := toAPIError(err)
			out.Errors = append(out.Errors, deleteError{Key: o.Key, Code: e.Name(), Message: e.message()})
			continue
		}
		if !req.Quiet {
			out.Deleted = append(out.Deleted, deletedKey{Key: o.Key})
		}
	}
	return writeXML(q.w, http.StatusOK, out)
}

func (s *Server) deleteOne(q *request, key string) error {
	if aerr := checkKey(key); aerr != nil {
		return aerr
	}
	if err := q.access.check("s3:DeleteObject", key); err != nil {
		return err
	}
	return s.backend.DeleteObject(q.r.Context(), q.route.bucket, key)
}
