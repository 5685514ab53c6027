package remote

import (
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/kumo-cloud/kumo/internal/s3/backend"
)

// Remote metadata names: a user's x-amz-meta-NAME is stored as u-NAME;
// Kumo's own values as k-NAME.
const (
	userPrefix = "u-"
	metaACL    = "k-acl"
	metaExpiry = "k-expires"
	metaTags   = "k-tags" // URL-encoded as x-amz-tagging is
)

// applyMeta fills an SDK request's header fields from meta.
func applyMeta(meta backend.Meta, contentType, cacheControl, disposition, encoding, language **string, metadata *map[string]string) {
	set := func(dst **string, v string) {
		if v != "" {
			*dst = aws.String(v)
		}
	}
	set(contentType, meta.ContentType)
	set(cacheControl, meta.Headers["Cache-Control"])
	set(disposition, meta.Headers["Content-Disposition"])
	set(encoding, meta.Headers["Content-Encoding"])
	set(language, meta.Headers["Content-Language"])
	m := map[string]string{}
	for k, v := range meta.User {
		m[userPrefix+k] = v
	}
	if meta.ACL != "" {
		m[metaACL] = meta.ACL
	}
	if v := meta.Headers["Expires"]; v != "" {
		m[metaExpiry] = v
	}
	if len(meta.Tags) > 0 {
		tags := url.Values{}
		for k, v := range meta.Tags {
			tags.Set(k, v)
		}
		m[metaTags] = tags.Encode()
	}
	*metadata = m
}

// readMeta rebuilds backend.Meta from an SDK response's fields.
func readMeta(contentType, cacheControl, disposition, encoding, language *string, metadata map[string]string) backend.Meta {
	meta := backend.Meta{ContentType: aws.ToString(contentType)}
	headers := map[string]string{}
	for name, v := range map[string]*string{"Cache-Control": cacheControl, "Content-Disposition": disposition,
		"Content-Encoding": encoding, "Content-Language": language} {
		if aws.ToString(v) != "" {
			headers[name] = aws.ToString(v)
		}
	}
	for k, v := range metadata {
		k = strings.ToLower(k)
		switch {
		case strings.HasPrefix(k, userPrefix):
			if meta.User == nil {
				meta.User = map[string]string{}
			}
			meta.User[k[len(userPrefix):]] = v
		case k == metaACL:
			meta.ACL = v
		case k == metaExpiry:
			headers["Expires"] = v
		case k == metaTags:
			meta.Tags = readTags(v)
		}
	}
	if len(headers) > 0 {
		meta.Headers = headers
	}
	return meta
}

// readTags decodes the tags stored in k-tags; a value that does not parse
// (written by something else) yields none.
func readTags(v string) map[string]string {
	vals, err := url.ParseQuery(v)
	if err != nil || len(vals) == 0 {
		return nil
	}
	tags := make(map[string]string, len(vals))
	for k, vs := range vals {
		tags[k] = vs[0]
	}
	return tags
}
