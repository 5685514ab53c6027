package sigv4

import "errors"

// Sentinel errors returned (wrapped) by Verifier.Verify. See the package
// documentation for how each maps to the AWS API error codes.
var (
	// ErrMissingAuth means the request carries no signature at all: no
	// Authorization header and no presigned query parameters.
	ErrMissingAuth = errors.New("request is not signed")

	// ErrMalformed means the signature information is present but unusable:
	// a bad Authorization header or presigned query, credential scope, date
	// format or X-Amz-Expires, an unsigned host header, or an unsupported
	// algorithm.
	ErrMalformed = errors.New("malformed signature")

	// ErrUnknownAccessKey means the access key id does not exist or is
	// inactive. Lookup functions return errors wrapping it.
	ErrUnknownAccessKey = errors.New("unknown access key")

	// ErrSignatureMismatch means the signature does not match the request.
	ErrSignatureMismatch = errors.New("signature does not match")

	// ErrExpired means the request time is too far from now, or a presigned
	// URL has expired.
	ErrExpired = errors.New("request expired")

	// ErrPayloadHashMismatch means X-Amz-Content-Sha256 holds a hex SHA-256
	// that is not the hash of the request body.
	ErrPayloadHashMismatch = errors.New("payload hash does not match body")

	// ErrInvalidSessionToken means the request carries an
	// X-Amz-Security-Token that does not belong to its access key, or
	// that the server did not issue.
	ErrInvalidSessionToken = errors.New("invalid session token")

	// ErrExpiredSessionToken means the request's X-Amz-Security-Token is
	// valid but its credentials have expired.
	ErrExpiredSessionToken = errors.New("expired session token")
)
