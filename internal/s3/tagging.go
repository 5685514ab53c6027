package s3

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kumo-cloud/kumo/internal/s3/backend"
	"github.com/kumo-cloud/kumo/internal/store"
)

// S3's tag limits: 10 per object, 50 per bucket, keys of 1-128 and values
// of 0-256 Unicode characters.
const (
	maxObjectTags  = 10
	maxBucketTags  = 50
	maxTagKeyLen   = 128
	maxTagValueLen = 256
)

// tagging is the Tagging document of Put/Get*Tagging.
type tagging struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ Tagging"`
	TagSet  []tagXML `xml:"TagSet>Tag"`
}

type tagXML struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

// checkTags applies S3's rules to a tag set in order: the count, then
// each key and value, then duplicates.
func checkTags(tags []store.BucketTag, limit int, object bool) *Error {
	if len(tags) > limit {
		if object {
			return apiError(ErrInvalidTag, "Object tags cannot be greater than %d", limit)
		}
		return apiError(ErrInvalidTag, "Bucket tag count cannot be greater than %d", limit)
	}
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		if n := utf8.RuneCountInString(t.Key); n == 0 || n > maxTagKeyLen || !validTagText(t.Key) {
			return apiError(ErrInvalidTag, "The TagKey you have provided is invalid")
		}
		if utf8.RuneCountInString(t.Value) > maxTagValueLen || !validTagText(t.Value) {
			return apiError(ErrInvalidTag, "The TagValue you have provided is invalid")
		}
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return apiError(ErrInvalidTag, "Your TagKey cannot be prefixed with aws:")
		}
		if seen[t.Key] {
			return apiError(ErrInvalidTag, "Cannot provide multiple Tags with the same key")
		}
		seen[t.Key] = true
	}
	return nil
}

// validTagText allows what AWS's tagging accepts: Unicode letters,
// digits, white space and + - = . _ : / @.
func validTagText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		switch {
		case r == '+' || r == '-' || r == '=' || r == '.' || r == '_' || r == ':' || r == '/' || r == '@':
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsSpace(r):
		default:
			return false
		}
	}
	return true
}

// parseTagging reads a Tagging body.
func parseTagging(body []byte, limit int, object bool) ([]store.BucketTag, *Error) {
	var doc tagging
	if err := xml.Unmarshal(body, &doc); err != nil {
		return nil, apiError(ErrMalformedXML, "")
	}
	tags := make([]store.BucketTag, 0, len(doc.TagSet))
	for _, t := range doc.TagSet {
		tags = append(tags, store.BucketTag{Key: t.Key, Value: t.Value})
	}
	if aerr := checkTags(tags, limit, object); aerr != nil {
		return nil, aerr
	}
	return tags, nil
}

// parseTaggingHeader reads x-amz-tagging: URL-query-encoded tags.
func parseTaggingHeader(v string) (map[string]string, *Error) {
	if v == "" {
		return nil, nil
	}
	bad := apiError(ErrInvalidArgument, "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.")
	vals, err := url.ParseQuery(v)
	if err != nil {
		return nil, bad
	}
	tags := make([]store.BucketTag, 0, len(vals))
	for k, vs := range vals {
		if len(vs) != 1 {
			return nil, bad
		}
		tags = append(tags, store.BucketTag{Key: k, Value: vs[0]})
	}
	if aerr := checkTags(tags, maxObjectTags, true); aerr != nil {
		return nil, aerr
	}
	return tagMap(tags), nil
}

func tagMap(tags []store.BucketTag) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[t.Key] = t.Value
	}
	return m
}

// taggingDoc renders tags by key, as S3 lists an object's tags.
func taggingDoc(m map[string]string) tagging {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	doc := tagging{TagSet: []tagXML{}}
	for _, k := range keys {
		doc.TagSet = append(doc.TagSet, tagXML{Key: k, Value: m[k]})
	}
	return doc
}

// setTaggingCount sends x-amz-tagging-count for an object with tags.
func setTaggingCount(h http.Header, obj backend.Object) {
	if n := len(obj.Tags); n > 0 {
		h.Set("x-amz-tagging-count", strconv.Itoa(n))
	}
}

func (s *Server) getBucketTagging(q *request) error {
	tags := q.access.bucket.Tags
	if tags == nil {
		return apiError(ErrNoSuchTagSet, "")
	}
	doc := tagging{TagSet: []tagXML{}}
	for _, t := range tags {
		doc.TagSet = append(doc.TagSet, tagXML{Key: t.Key, Value: t.Value})
	}
	return writeXML(q.w, http.StatusOK, doc)
}

// putBucketTagging replaces the whole tag set; an empty TagSet removes it.
func (s *Server) putBucketTagging(q *request) error {
	tags, aerr := parseTagging(q.small, maxBucketTags, false)
	if aerr != nil {
		return aerr
	}
	if len(tags) == 0 {
		tags = nil
	}
	return s.setBucket(q, func(ctx context.Context, tx *store.Tx) error {
		return tx.SetBucketTags(ctx, q.route.bucket, tags)
	})
}

func (s *Server) deleteBucketTagging(q *request) error {
	return s.setBucket(q, func(ctx context.Context, tx *store.Tx) error {
		return tx.SetBucketTags(ctx, q.route.bucket, nil)
	})
}

func (s *Server) getObjectTagging(q *request) error {
	if aerr := refuseVersionID(q); aerr != nil {
		return aerr
	}
	obj, err := s.backend.HeadObject(q.r.Context(), q.route.bucket, q.route.key)
	if err != nil {
		return err
	}
	return writeXML(q.w, http.StatusOK, taggingDoc(obj.Tags))
}

func (s *Server) putObjectTagging(q *request) error {
	if aerr := refuseVersionID(q); aerr != nil {
		return aerr
	}
	tags, aerr := parseTagging(q.small, maxObjectTags, true)
	if aerr != nil {
		return aerr
	}
	if err := s.rewriteMeta(q, func(m *backend.Meta) { m.Tags = tagMap(tags) }); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) deleteObjectTagging(q *request) error {
	if aerr := refuseVersionID(q); aerr != nil {
		return aerr
	}
	if err := s.rewriteMeta(q, func(m *backend.Meta) { m.Tags = nil }); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

// refuseVersionID: objects have no versions but "null".
func refuseVersionID(q *request) *Error {
	if v := q.route.query.Get("versionId"); v != "" && v != "null" {
		return apiError(ErrInvalidArgument, "Invalid version id specified")
	}
	return nil
}

// rewriteMeta changes an object's metadata (tags, ACL). Objects are
// immutable, so the bytes are copied: by the backend keeping the ETag and
// Last-Modified when it can (backend.MetaSetter), else through PutObject.
func (s *Server) rewriteMeta(q *request, change func(*backend.Meta)) error {
	ctx := q.r.Context()
	if ms, ok := s.backend.(backend.MetaSetter); ok {
		_, err := ms.SetMeta(ctx, q.route.bucket, q.route.key, change)
		return err
	}
	rd, err := s.backend.GetObject(ctx, q.route.bucket, q.route.key, nil)
	if err != nil {
		return err
	}
	defer rd.Close()
	meta := rd.Meta
	change(&meta)
	_, err = s.backend.PutObject(ctx, q.route.bucket, q.route.key, rd, rd.Size, meta)
	return err
}
