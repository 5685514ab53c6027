package s3

import (
	"net/http"
	"net/url"
	"strings"
)

// op names an S3 operation as AWS does; it is logged and counted.
type op string

const (
	opListBuckets             op = "ListBuckets"
	opCreateBucket            op = "CreateBucket"
	opHeadBucket              op = "HeadBucket"
	opDeleteBucket            op = "DeleteBucket"
	opGetBucketLocation       op = "GetBucketLocation"
	opGetBucketVersioning     op = "GetBucketVersioning"
	opGetBucketPolicy         op = "GetBucketPolicy"
	opPutBucketPolicy         op = "PutBucketPolicy"
	opDeleteBucketPolicy      op = "DeleteBucketPolicy"
	opGetBucketACL            op = "GetBucketAcl"
	opPutBucketACL            op = "PutBucketAcl"
	opListObjects             op = "ListObjects"
	opListObjectsV2           op = "ListObjectsV2"
	opListMultipartUploads    op = "ListMultipartUploads"
	opDeleteObjects           op = "DeleteObjects"
	opPutObject               op = "PutObject"
	opCopyObject              op = "CopyObject"
	opGetObject               op = "GetObject"
	opHeadObject              op = "HeadObject"
	opDeleteObject            op = "DeleteObject"
	opGetObjectACL            op = "GetObjectAcl"
	opPutObjectACL            op = "PutObjectAcl"
	opCreateMultipartUpload   op = "CreateMultipartUpload"
	opUploadPart              op = "UploadPart"
	opUploadPartCopy          op = "UploadPartCopy"
	opCompleteMultipartUpload op = "CompleteMultipartUpload"
	opAbortMultipartUpload    op = "AbortMultipartUpload"
	opListParts               op = "ListParts"
)

// bodyKind says how an operation's request body is read.
type bodyKind int

const (
	bodyNone   bodyKind = iota // ignored
	bodySmall                  // read whole (XML or JSON), at most maxSmallBody
	bodyStream                 // object data, streamed to the backend
)

// maxSmallBody bounds XML and JSON bodies: a CompleteMultipartUpload of
// 10,000 parts with checksums fits.
const maxSmallBody = 4 << 20

// opSpec is what the front end needs to know about an operation before
// running it: the IAM action it is authorized as and its body.
type opSpec struct {
	action string
	body   bodyKind
}

func (o op) spec() opSpec {
	switch o {
	case opListBuckets:
		return opSpec{"s3:ListAllMyBuckets", bodyNone}
	case opCreateBucket:
		return opSpec{"s3:CreateBucket", bodySmall}
	case opHeadBucket, opListObjects, opListObjectsV2:
		return opSpec{"s3:ListBucket", bodyNone}
	case opDeleteBucket:
		return opSpec{"s3:DeleteBucket", bodyNone}
	case opGetBucketLocation:
		return opSpec{"s3:GetBucketLocation", bodyNone}
	case opGetBucketVersioning:
		return opSpec{"s3:GetBucketVersioning", bodyNone}
	case opGetBucketPolicy:
		return opSpec{"s3:GetBucketPolicy", bodyNone}
	case opPutBucketPolicy:
		return opSpec{"s3:PutBucketPolicy", bodySmall}
	case opDeleteBucketPolicy:
		return opSpec{"s3:DeleteBucketPolicy", bodyNone}
	case opGetBucketACL:
		return opSpec{"s3:GetBucketAcl", bodyNone}
	case opPutBucketACL:
		return opSpec{"s3:PutBucketAcl", bodySmall}
	case opListMultipartUploads:
		return opSpec{"s3:ListBucketMultipartUploads", bodyNone}
	case opDeleteObjects:
		return opSpec{"s3:DeleteObject", bodySmall}
	case opPutObject, opUploadPart:
		return opSpec{"s3:PutObject", bodyStream}
	case opCopyObject, opUploadPartCopy, opCreateMultipartUpload:
		return opSpec{"s3:PutObject", bodyNone}
	case opCompleteMultipartUpload:
		return opSpec{"s3:PutObject", bodySmall}
	case opGetObject, opHeadObject:
		return opSpec{"s3:GetObject", bodyNone}
	case opDeleteObject:
		return opSpec{"s3:DeleteObject", bodyNone}
	case opGetObjectACL:
		return opSpec{"s3:GetObjectAcl", bodyNone}
	case opPutObjectACL:
		return opSpec{"s3:PutObjectAcl", bodySmall}
	case opAbortMultipartUpload:
		return opSpec{"s3:AbortMultipartUpload", bodyNone}
	case opListParts:
		return opSpec{"s3:ListMultipartUploadParts", bodyNone}
	}
	return opSpec{}
}

// route is a request's operation and target, from path-style addressing:
// /bucket/key. The key is everything after the bucket's slash, as sent
// (percent-decoded once), so "..", "//" and "%2F" are parts of the key and
// never path operations.
type route struct {
	op     op
	bucket string
	key    string
	query  url.Values
}

// Subresources this API does not serve, by level; asking for one is
// NotImplemented rather than silently running the plain operation.
func unsupportedBucketSubs() []string {
	return []string{"accelerate", "analytics", "cors", "encryption", "intelligent-tiering", "inventory",
		"lifecycle", "logging", "metadataTable", "metrics", "notification", "object-lock", "ownershipControls",
		"policyStatus", "publicAccessBlock", "replication", "requestPayment", "tagging", "versions", "website"}
}

func unsupportedObjectSubs() []string {
	return []string{"attributes", "legal-hold", "renameObject", "restore", "retention", "select", "tagging", "torrent"}
}

// parseRoute finds the operation a request asks for.
func parseRoute(r *http.Request) (route, *Error) {
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return route{}, apiError(ErrInvalidArgument, "The query string is malformed.")
	}
	path := strings.TrimPrefix(r.URL.Path, "/")
	bucket, key, hasSlash := strings.Cut(path, "/")
	rt := route{bucket: bucket, key: key, query: query}
	switch {
	case bucket == "" && !hasSlash:
		rt.op, err = serviceOp(r.Method)
	case bucket == "":
		return rt, apiError(ErrInvalidBucketName, "The request names no bucket.")
	case key == "":
		rt.op, err = bucketOp(r.Method, query)
	default:
		rt.op, err = objectOp(r.Method, query, r.Header)
	}
	if err != nil {
		return rt, toAPIError(err)
	}
	return rt, nil
}

func serviceOp(method string) (op, error) {
	if method == http.MethodGet {
		return opListBuckets, nil
	}
	return "", methodNotAllowed(method, "the service")
}

func methodNotAllowed(method, what string) *Error {
	return apiError(ErrMethodNotAllowed, "The specified method is not allowed against %s: %s.", what, method)
}

func unsupported(query url.Values, subs []string) error {
	for _, s := range subs {
		if query.Has(s) {
			return apiError(ErrNotImplemented, "The '%s' subresource is not implemented by Kumo's S3 API.", s)
		}
	}
	return nil
}

func bucketOp(method string, q url.Values) (op, error) {
	if err := unsupported(q, unsupportedBucketSubs()); err != nil {
		return "", err
	}
	switch method {
	case http.MethodGet:
		list := opListObjects
		if q.Get("list-type") == "2" {
			list = opListObjectsV2
		}
		return pick(q, list, sub{"policy", opGetBucketPolicy}, sub{"acl", opGetBucketACL}, sub{"location", opGetBucketLocation},
			sub{"versioning", opGetBucketVersioning}, sub{"uploads", opListMultipartUploads}), nil
	case http.MethodHead:
		return opHeadBucket, nil
	case http.MethodPut:
		return pick(q, opCreateBucket, sub{"policy", opPutBucketPolicy}, sub{"acl", opPutBucketACL}), nil
	case http.MethodDelete:
		return pick(q, opDeleteBucket, sub{"policy", opDeleteBucketPolicy}), nil
	case http.MethodPost:
		if q.Has("delete") {
			return opDeleteObjects, nil
		}
	}
	return "", methodNotAllowed(method, "a bucket")
}

func objectOp(method string, q url.Values, h http.Header) (op, error) {
	if err := unsupported(q, unsupportedObjectSubs()); err != nil {
		return "", err
	}
	copying := h.Get("X-Amz-Copy-Source") != ""
	switch method {
	case http.MethodGet:
		return pick(q, opGetObject, sub{"acl", opGetObjectACL}, sub{"uploadId", opListParts}), nil
	case http.MethodHead:
		return opHeadObject, nil
	case http.MethodPut:
		switch {
		case q.Has("acl"):
			return opPutObjectACL, nil
		case q.Has("uploadId") && copying:
			return opUploadPartCopy, nil
		case q.Has("uploadId"):
			return opUploadPart, nil
		case copying:
			return opCopyObject, nil
		}
		return opPutObject, nil
	case http.MethodDelete:
		return pick(q, opDeleteObject, sub{"uploadId", opAbortMultipartUpload}), nil
	case http.MethodPost:
		switch {
		case q.Has("uploads"):
			return opCreateMultipartUpload, nil
		case q.Has("uploadId"):
			return opCompleteMultipartUpload, nil
		}
	}
	return "", methodNotAllowed(method, "an object")
}

// sub pairs a subresource query parameter with the operation it selects.
type sub struct {
	name string
	op   op
}

// pick returns the op of the first subresource present, else def.
func pick(q url.Values, def op, subs ...sub) op {
	for _, s := range subs {
		if q.Has(s.name) {
			return s.op
		}
	}
	return def
}
