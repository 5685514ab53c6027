// Package s3 is Kumo's S3 API: buckets and objects for images, snapshots
// and users' data, on its own listener (8774), signed with the same access
// keys as the EC2 API.
//
// # What it serves
//
// Path-style addressing (/bucket/key). ListBuckets, CreateBucket,
// HeadBucket, DeleteBucket, GetBucketLocation, GetBucketVersioning (always
// unversioned), Get/Put/DeleteBucketPolicy, Get/PutBucketAcl and
// Get/PutObjectAcl (canned ACLs), ListObjects and ListObjectsV2 (prefix,
// delimiter, marker, continuation token, start-after, max-keys,
// encoding-type=url), PutObject, GetObject (Range, conditional headers,
// response-* overrides), HeadObject, DeleteObject, DeleteObjects,
// CopyObject (within and across the caller's buckets), and multipart
// uploads (Create, UploadPart, UploadPartCopy, Complete, Abort, ListParts,
// ListMultipartUploads). Bucket tagging (Put/Get/DeleteBucketTagging) and
// object tagging (x-amz-tagging on PutObject, CopyObject with
// x-amz-tagging-directive and CreateMultipartUpload; Put/Get/
// DeleteObjectTagging; x-amz-tagging-count). Conditional writes
// (If-Match, If-None-Match: * on PutObject and CompleteMultipartUpload;
// see writeLocks) and x-amz-copy-source-if-*. The bucket configuration
// reads Terraform makes answer as AWS does for a bucket without them
// (config.go). A PutObject's verified checksum is kept (backend.Checksum)
// and returned with x-amz-checksum-mode: ENABLED and by
// GetObjectAttributes.
//
// Requests are routed by a table generated from AWS's S3 model
// (zz_routes.go, by s3routegen): method, path level, the subresources of
// each operation's requestUri and the parameters and headers it requires
// decide which one operation a request is, the most specific winning
// (CopyObject over PutObject, ListParts over GetObject). Any other
// operation of the model answers 501 NotImplemented naming it, a
// subresource only other methods take 405 MethodNotAllowed, before
// anything is read or written: a request never falls back to the plain
// operation. ETags are S3's: the quoted MD5 of a single-part object,
// "<MD5 of the parts' MD5s>-N" for a multipart one.
//
// Requests are authenticated by SigV4 (package sigv4): header signing,
// presigned URLs, and bodies sent as aws-chunked with chained chunk
// signatures (STREAMING-AWS4-HMAC-SHA256-PAYLOAD, with or without a signed
// trailer) or unsigned with a checksum trailer
// (STREAMING-UNSIGNED-PAYLOAD-TRAILER). A hex X-Amz-Content-Sha256,
// Content-MD5 and x-amz-checksum-* are checked while the body streams, and
// an object whose body fails any check is never stored (see body).
//
// # One identity, per-account buckets
//
// Buckets are registered in the database (store.Bucket) with the account
// that created them; their names are global. Every principal of that
// account may use the bucket; any other account, and any unsigned request,
// gets AccessDenied unless the bucket policy or a canned ACL grants it
// (see access for the exact rules). No header, query parameter, path form
// or source address is trusted for authorization.
//
// # Backends
//
// Object bytes live behind backend.Backend: the local disk under the data
// directory (package backend/disk, the default) or any external S3
// (package backend/remote: MinIO, Ceph RGW, another Kumo). The controller
// reads and writes its own objects in-process through System, and opens
// users' objects on their behalf, with their permissions, through
// OpenObject.
//
// # Why not embed versitygw
//
// The design asked to evaluate embedding github.com/versity/versitygw
// (v1.8.0, package embedgw) first. It is well built (Apache-2.0, a posix
// backend with O_TMPFILE atomic writes, an s3proxy backend, broad API
// coverage), but it does not fit Kumo:
//
//   - One gateway per process: embedgw.RunVersityGW refuses a second
//     instance because bucket-name validation and debug logging are package
//     globals. Kumo's tests start many controllers in one process, and the
//     external-backend test runs one Kumo against another.
//   - It owns the listeners: RunVersityGW takes address strings and serves
//     with its own HTTP stack (fiber/fasthttp), blocking; there is no
//     http.Handler or net.Listener to plug in, so Kumo's request ids,
//     slog lines, metrics and shutdown order do not reach it.
//   - Its identity is an access key, not an account: auth.IAMService
//     resolves one key to an "Account" whose owner id is that key, and
//     bucket ownership and ACL grants compare access keys. Kumo's buckets
//     belong to a 12-digit account with many users and keys; mapping that
//     onto versitygw means reporting a fake access key as the owner. Its
//     IAMService calls also take no context (no deadlines to the store).
//   - It verifies SigV4 itself, a second verifier to keep in step with
//     package sigv4.
//   - Weight: embedding pulls in fiber, fasthttp and clients for Azure,
//     Kafka, NATS, RabbitMQ, Vault and LDAP.
//
// The subset Kumo needs is small enough to own: the API here, two
// backends behind a 13-method interface, with a conformance suite
// (backend/backendtest) both pass.
package s3
