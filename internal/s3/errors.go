package s3

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/kumo-cloud/kumo/internal/s3/backend"
	"github.com/kumo-cloud/kumo/internal/sigv4"
	"github.com/kumo-cloud/kumo/internal/store"
)

// ErrorCode is one of the S3 API's error codes; errorTable gives each its
// wire name, HTTP status and default message.
type ErrorCode int

const (
	ErrInternal ErrorCode = iota
	ErrAccessDenied
	ErrAuthorizationHeaderMalformed
	ErrAuthorizationQueryParametersError
	ErrBadDigest
	ErrBucketAlreadyExists
	ErrBucketAlreadyOwnedByYou
	ErrBucketNotEmpty
	ErrEntityTooLarge
	ErrEntityTooSmall
	ErrIncompleteBody
	ErrInvalidAccessKeyID
	ErrInvalidArgument
	ErrInvalidBucketName
	ErrInvalidDigest
	ErrInvalidPart
	ErrInvalidPartOrder
	ErrInvalidRange
	ErrInvalidRequest
	ErrKeyTooLong
	ErrMalformedPolicy
	ErrMalformedXML
	ErrMethodNotAllowed
	ErrMissingContentLength
	ErrNoSuchBucket
	ErrNoSuchBucketPolicy
	ErrNoSuchKey
	ErrNoSuchUpload
	ErrNotImplemented
	ErrNotModified
	ErrPreconditionFailed
	ErrRequestTimeTooSkewed
	ErrSignatureDoesNotMatch
	ErrContentSHA256Mismatch
	ErrInvalidToken
	ErrRequestTimeout
	ErrServiceUnavailable
	ErrNoSuchTagSet
	ErrInvalidTag
	ErrNoSuchCORSConfiguration
	ErrNoSuchWebsiteConfiguration
	ErrNoSuchLifecycleConfiguration
	ErrReplicationConfigurationNotFound
	ErrServerSideEncryptionConfigurationNotFound
	ErrObjectLockConfigurationNotFound
	ErrOwnershipControlsNotFound
	ErrNoSuchPublicAccessBlockConfiguration
	ErrConditionalRequestConflict
	errorCodeCount
)

type errorInfo struct {
	code    string
	status  int
	message string
}

// errorTable is indexed by ErrorCode. It is never written.
var errorTable = [errorCodeCount]errorInfo{
	ErrInternal:                          {"InternalError", http.StatusInternalServerError, "We encountered an internal error. Please try again."},
	ErrAccessDenied:                      {"AccessDenied", http.StatusForbidden, "Access Denied"},
	ErrAuthorizationHeaderMalformed:      {"AuthorizationHeaderMalformed", http.StatusBadRequest, "The authorization header is malformed."},
	ErrAuthorizationQueryParametersError: {"AuthorizationQueryParametersError", http.StatusBadRequest, "The authorization query parameters are malformed."},
	ErrBadDigest:                         {"BadDigest", http.StatusBadRequest, "The Content-MD5 or checksum you specified did not match what we received."},
	ErrBucketAlreadyExists:               {"BucketAlreadyExists", http.StatusConflict, "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again."},
	ErrBucketAlreadyOwnedByYou:           {"BucketAlreadyOwnedByYou", http.StatusConflict, "Your previous request to create the named bucket succeeded and you already own it."},
	ErrBucketNotEmpty:                    {"BucketNotEmpty", http.StatusConflict, "The bucket you tried to delete is not empty."},
	ErrEntityTooLarge:                    {"EntityTooLarge", http.StatusBadRequest, "Your proposed upload exceeds the maximum allowed object size."},
	ErrEntityTooSmall:                    {"EntityTooSmall", http.StatusBadRequest, "Your proposed upload is smaller than the minimum allowed object size."},
	ErrIncompleteBody:                    {"IncompleteBody", http.StatusBadRequest, "You did not provide the number of bytes specified by the Content-Length HTTP header."},
	ErrInvalidAccessKeyID:                {"InvalidAccessKeyId", http.StatusForbidden, "The AWS Access Key Id you provided does not exist in our records."},
	ErrInvalidArgument:                   {"InvalidArgument", http.StatusBadRequest, "Invalid argument."},
	ErrInvalidBucketName:                 {"InvalidBucketName", http.StatusBadRequest, "The specified bucket is not valid."},
	ErrInvalidDigest:                     {"InvalidDigest", http.StatusBadRequest, "The Content-MD5 you specified is not valid."},
	ErrInvalidPart:                       {"InvalidPart", http.StatusBadRequest, "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."},
	ErrInvalidPartOrder:                  {"InvalidPartOrder", http.StatusBadRequest, "The list of parts was not in ascending order. Parts must be ordered by part number."},
	ErrInvalidRange:                      {"InvalidRange", http.StatusRequestedRangeNotSatisfiable, "The requested range is not satisfiable."},
	ErrInvalidRequest:                    {"InvalidRequest", http.StatusBadRequest, "Invalid request."},
	ErrKeyTooLong:                        {"KeyTooLongError", http.StatusBadRequest, "Your key is too long."},
	ErrMalformedPolicy:                   {"MalformedPolicy", http.StatusBadRequest, "Policies must be valid JSON and the first byte must be '{'."},
	ErrMalformedXML:                      {"MalformedXML", http.StatusBadRequest, "The XML you provided was not well-formed or did not validate against our published schema."},
	ErrMethodNotAllowed:                  {"MethodNotAllowed", http.StatusMethodNotAllowed, "The specified method is not allowed against this resource."},
	ErrMissingContentLength:              {"MissingContentLength", http.StatusLengthRequired, "You must provide the Content-Length HTTP header."},
	ErrNoSuchBucket:                      {"NoSuchBucket", http.StatusNotFound, "The specified bucket does not exist."},
	ErrNoSuchBucketPolicy:                {"NoSuchBucketPolicy", http.StatusNotFound, "The bucket policy does not exist."},
	ErrNoSuchKey:                         {"NoSuchKey", http.StatusNotFound, "The specified key does not exist."},
	ErrNoSuchUpload:                      {"NoSuchUpload", http.StatusNotFound, "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."},
	ErrNotImplemented:                    {"NotImplemented", http.StatusNotImplemented, "A header or parameter you provided implies functionality that is not implemented."},
	ErrNotModified:                       {"NotModified", http.StatusNotModified, "Not Modified"},
	ErrPreconditionFailed:                {"PreconditionFailed", http.StatusPreconditionFailed, "At least one of the preconditions you specified did not hold."},
	ErrRequestTimeTooSkewed:              {"RequestTimeTooSkewed", http.StatusForbidden, "The difference between the request time and the server's time is too large."},
	ErrSignatureDoesNotMatch:             {"SignatureDoesNotMatch", http.StatusForbidden, "The request signature we calculated does not match the signature you provided. Check your key and signing method."},
	ErrContentSHA256Mismatch:             {"XAmzContentSHA256Mismatch", http.StatusBadRequest, "The provided 'x-amz-content-sha256' header does not match what was computed."},
	ErrInvalidToken:                      {"InvalidToken", http.StatusBadRequest, "The provided token is malformed or otherwise invalid."},
	ErrRequestTimeout:                    {"RequestTimeout", http.StatusBadRequest, "Your socket connection to the server was not read from or written to within the timeout period."},
	ErrServiceUnavailable:                {"ServiceUnavailable", http.StatusServiceUnavailable, "Service is unable to handle request."},
	ErrNoSuchTagSet:                      {"NoSuchTagSet", http.StatusNotFound, "The TagSet does not exist"},
	ErrInvalidTag:                        {"InvalidTag", http.StatusBadRequest, "The tag provided was not a valid tag."},
	ErrNoSuchCORSConfiguration:           {"NoSuchCORSConfiguration", http.StatusNotFound, "The CORS configuration does not exist"},
	ErrNoSuchWebsiteConfiguration:        {"NoSuchWebsiteConfiguration", http.StatusNotFound, "The specified bucket does not have a website configuration"},
	ErrNoSuchLifecycleConfiguration:      {"NoSuchLifecycleConfiguration", http.StatusNotFound, "The lifecycle configuration does not exist"},
	ErrReplicationConfigurationNotFound:  {"ReplicationConfigurationNotFoundError", http.StatusNotFound, "The replication configuration was not found"},
	ErrServerSideEncryptionConfigurationNotFound: {"ServerSideEncryptionConfigurationNotFoundError", http.StatusNotFound,
		"The server side encryption configuration was not found"},
	ErrObjectLockConfigurationNotFound:      {"ObjectLockConfigurationNotFoundError", http.StatusNotFound, "Object Lock configuration does not exist for this bucket"},
	ErrOwnershipControlsNotFound:            {"OwnershipControlsNotFoundError", http.StatusNotFound, "The bucket ownership controls were not found"},
	ErrNoSuchPublicAccessBlockConfiguration: {"NoSuchPublicAccessBlockConfiguration", http.StatusNotFound, "The public access block configuration was not found"},
	ErrConditionalRequestConflict: {"ConditionalRequestConflict", http.StatusConflict,
		"The conditional request cannot succeed due to a conflicting operation against this resource."},
}

// Error is an S3 API error: a code, an optional message replacing the
// default, and the internal cause for the log.
type Error struct {
	Code    ErrorCode
	Message string
	Cause   error
}

func (e *Error) Error() string {
	msg := e.message()
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Name(), msg, e.Cause)
	}
	return e.Name() + ": " + msg
}

func (e *Error) Unwrap() error { return e.Cause }

// Name is the wire code, e.g. "NoSuchKey".
func (e *Error) Name() string { return errorTable[e.Code].code }

// Status is the HTTP status.
func (e *Error) Status() int { return errorTable[e.Code].status }

func (e *Error) message() string {
	if e.Message != "" {
		return e.Message
	}
	return errorTable[e.Code].message
}

// apiError makes an Error with a formatted message ("" keeps the default).
func apiError(code ErrorCode, format string, args ...any) *Error {
	e := &Error{Code: code}
	if format != "" {
		e.Message = fmt.Sprintf(format, args...)
	}
	return e
}

// toAPIError maps any error to the S3 vocabulary, in one place: API
// errors pass through; backend and signature errors get their codes; a
// database that cannot answer for now is 503 ServiceUnavailable (SDKs
// retry it); the rest is InternalError with the cause kept for the log.
func toAPIError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	for _, m := range errorMap {
		if errors.Is(err, m.err) {
			return &Error{Code: m.code, Cause: err}
		}
	}
	if store.IsUnavailable(err) {
		return &Error{Code: ErrServiceUnavailable, Cause: err}
	}
	return &Error{Code: ErrInternal, Cause: err}
}

var errorMap = [...]struct {
	err  error
	code ErrorCode
}{
	{backend.ErrNoSuchBucket, ErrNoSuchBucket},
	{backend.ErrNoSuchKey, ErrNoSuchKey},
	{backend.ErrNoSuchUpload, ErrNoSuchUpload},
	{backend.ErrBucketNotEmpty, ErrBucketNotEmpty},
	{backend.ErrInvalidName, ErrInvalidBucketName},
	{backend.ErrInvalidRange, ErrInvalidRange},
	{backend.ErrShortBody, ErrIncompleteBody},
	{sigv4.ErrMissingAuth, ErrAccessDenied},
	{sigv4.ErrUnknownAccessKey, ErrInvalidAccessKeyID},
	{sigv4.ErrSignatureMismatch, ErrSignatureDoesNotMatch},
	{sigv4.ErrPayloadHashMismatch, ErrContentSHA256Mismatch},
	{sigv4.ErrInvalidSessionToken, ErrInvalidToken},
}
