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

	opGetBucketTagging        op = "GetBucketTagging"
	opPutBucketTagging        op = "PutBucketTagging"
	opDeleteBucketTagging     op = "DeleteBucketTagging"
	opGetObjectTagging        op = "GetObjectTagging"
	opPutObjectTagging        op = "PutObjectTagging"
	opDeleteObjectTagging     op = "DeleteObjectTagging"
	opGetBucketCors           op = "GetBucketCors"
	opGetBucketWebsite        op = "GetBucketWebsite"
	opGetBucketAccelerate     op = "GetBucketAccelerateConfiguration"
	opGetBucketRequestPayment op = "GetBucketRequestPayment"
	opGetBucketLogging        op = "GetBucketLogging"
	opGetBucketLifecycle      op = "GetBucketLifecycleConfiguration"
	opGetBucketReplication    op = "GetBucketReplication"
	opGetBucketEncryption     op = "GetBucketEncryption"
	opGetObjectLockConfig     op = "GetObjectLockConfiguration"
	opGetBucketOwnership      op = "GetBucketOwnershipControls"
	opGetPublicAccessBlock    op = "GetPublicAccessBlock"
	opGetObjectAttributes     op = "GetObjectAttributes"
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

// spec says how Kumo serves an implemented operation.
func (o op) spec() opSpec {
	spec, _ := o.lookup()
	return spec
}

// lookup says how Kumo serves an operation; ok is false for the
// operations of AWS's model that it does not implement.
func (o op) lookup() (spec opSpec, ok bool) {
	switch o {
	case opListBuckets:
		return opSpec{"s3:ListAllMyBuckets", bodyNone}, true
	case opCreateBucket:
		return opSpec{"s3:CreateBucket", bodySmall}, true
	case opHeadBucket, opListObjects, opListObjectsV2:
		return opSpec{"s3:ListBucket", bodyNone}, true
	case opDeleteBucket:
		return opSpec{"s3:DeleteBucket", bodyNone}, true
	case opGetBucketLocation:
		return opSpec{"s3:GetBucketLocation", bodyNone}, true
	case opGetBucketVersioning:
		return opSpec{"s3:GetBucketVersioning", bodyNone}, true
	case opGetBucketPolicy:
		return opSpec{"s3:GetBucketPolicy", bodyNone}, true
	case opPutBucketPolicy:
		return opSpec{"s3:PutBucketPolicy", bodySmall}, true
	case opDeleteBucketPolicy:
		return opSpec{"s3:DeleteBucketPolicy", bodyNone}, true
	case opGetBucketACL:
		return opSpec{"s3:GetBucketAcl", bodyNone}, true
	case opPutBucketACL:
		return opSpec{"s3:PutBucketAcl", bodySmall}, true
	case opListMultipartUploads:
		return opSpec{"s3:ListBucketMultipartUploads", bodyNone}, true
	case opDeleteObjects:
		return opSpec{"s3:DeleteObject", bodySmall}, true
	case opPutObject, opUploadPart:
		return opSpec{"s3:PutObject", bodyStream}, true
	case opCopyObject, opUploadPartCopy, opCreateMultipartUpload:
		return opSpec{"s3:PutObject", bodyNone}, true
	case opCompleteMultipartUpload:
		return opSpec{"s3:PutObject", bodySmall}, true
	case opGetObject, opHeadObject:
		return opSpec{"s3:GetObject", bodyNone}, true
	case opDeleteObject:
		return opSpec{"s3:DeleteObject", bodyNone}, true
	case opGetObjectACL:
		return opSpec{"s3:GetObjectAcl", bodyNone}, true
	case opPutObjectACL:
		return opSpec{"s3:PutObjectAcl", bodySmall}, true
	case opAbortMultipartUpload:
		return opSpec{"s3:AbortMultipartUpload", bodyNone}, true
	case opListParts:
		return opSpec{"s3:ListMultipartUploadParts", bodyNone}, true
	}
	return o.lookupConfig()
}

// lookupConfig covers tagging and the bucket configurations Kumo reads
// (those a bucket never has answer their "not configured" error).
// DeleteBucketTagging is authorized as s3:PutBucketTagging, as in AWS.
func (o op) lookupConfig() (opSpec, bool) {
	action, ok := map[op]string{
		opGetBucketTagging: "s3:GetBucketTagging", opPutBucketTagging: "s3:PutBucketTagging",
		opDeleteBucketTagging: "s3:PutBucketTagging", opGetObjectTagging: "s3:GetObjectTagging",
		opPutObjectTagging: "s3:PutObjectTagging", opDeleteObjectTagging: "s3:DeleteObjectTagging",
		opGetBucketCors: "s3:GetBucketCORS", opGetBucketWebsite: "s3:GetBucketWebsite",
		opGetBucketAccelerate: "s3:GetAccelerateConfiguration", opGetBucketRequestPayment: "s3:GetBucketRequestPayment",
		opGetBucketLogging: "s3:GetBucketLogging", opGetBucketLifecycle: "s3:GetLifecycleConfiguration",
		opGetBucketReplication: "s3:GetReplicationConfiguration", opGetBucketEncryption: "s3:GetEncryptionConfiguration",
		opGetObjectLockConfig: "s3:GetBucketObjectLockConfiguration", opGetBucketOwnership: "s3:GetBucketOwnershipControls",
		opGetPublicAccessBlock: "s3:GetBucketPublicAccessBlock", opGetObjectAttributes: "s3:GetObjectAttributes",
	}[o]
	if !ok {
		return opSpec{}, false
	}
	body := bodyNone
	if o == opPutBucketTagging || o == opPutObjectTagging {
		body = bodySmall
	}
	return opSpec{action, body}, true
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

// parseRoute finds the one operation of AWS's S3 model a request asks for
// (see matchOperation) and refuses it, before anything is read or
// written, unless Kumo implements that very operation.
func parseRoute(r *http.Request) (route, *Error) {
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return route{}, apiError(ErrInvalidArgument, "The query string is malformed.")
	}
	path := strings.TrimPrefix(r.URL.Path, "/")
	bucket, key, hasSlash := strings.Cut(path, "/")
	rt := route{bucket: bucket, key: key, query: query}
	lvl := levelObject
	switch {
	case isFixedPath(r.URL.Path):
		lvl = levelFixed
	case bucket == "" && !hasSlash:
		lvl = levelService
	case bucket == "":
		return rt, apiError(ErrInvalidBucketName, "The request names no bucket.")
	case key == "":
		lvl = levelBucket
	}
	mo, aerr := matchOperation(requestShape{method: r.Method, level: lvl, path: r.URL.Path, query: query, header: r.Header})
	if aerr != nil {
		return rt, aerr
	}
	rt.op = op(mo.name)
	if _, ok := rt.op.lookup(); !ok {
		return rt, apiError(ErrNotImplemented, "%s is not implemented by Kumo.", mo.name)
	}
	return rt, nil
}
