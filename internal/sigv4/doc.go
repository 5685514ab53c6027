// Package sigv4 verifies AWS Signature Version 4 signed HTTP requests on the
// server side, so that unmodified AWS CLIs and SDKs can talk to Kumo.
//
// A Verifier accepts both forms of SigV4 authentication:
//
//   - header signing: "Authorization: AWS4-HMAC-SHA256 Credential=...,
//     SignedHeaders=..., Signature=..." with the request time in X-Amz-Date
//     (or, as a fallback, Date);
//   - presigned URLs: the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date,
//     X-Amz-Expires, X-Amz-SignedHeaders and X-Amz-Signature query
//     parameters.
//
// The canonical request is rebuilt exactly as the AWS SDK signers build it.
// The one service-dependent rule is the URI path: Amazon S3 signs the path as
// it was sent on the wire, while every other service escapes the path once
// more and normalises redundant segments ("//", "." and ".."). Set
// Verifier.S3 for an S3 front end.
//
// Verify does not check that the credential scope's region and service are
// the ones the caller serves; callers compare Result.Region and
// Result.Service with their own.
//
// # Errors
//
// Every error returned by Verify wraps exactly one of the sentinels below
// (test with errors.Is), except a nil Verifier.Lookup and errors from Lookup
// that do not wrap ErrUnknownAccessKey (returned wrapped with context): treat
// those as internal errors. The suggested mapping at the API edge:
//
//	error                   EC2             IAM / STS                       S3
//	ErrMissingAuth          AuthFailure     MissingAuthenticationToken      AccessDenied
//	ErrMalformed            AuthFailure     IncompleteSignature             AuthorizationHeaderMalformed
//	                                                                        (AuthorizationQueryParametersError when presigned)
//	ErrUnknownAccessKey     AuthFailure     InvalidClientTokenId            InvalidAccessKeyId
//	ErrSignatureMismatch    AuthFailure     SignatureDoesNotMatch           SignatureDoesNotMatch
//	ErrExpired              RequestExpired  RequestExpired                  RequestTimeTooSkewed
//	                                                                        (AccessDenied when presigned)
//	ErrPayloadHashMismatch  AuthFailure     SignatureDoesNotMatch           XAmzContentSHA256Mismatch
//	ErrInvalidSessionToken  AuthFailure     InvalidClientTokenId            InvalidToken (400)
//	ErrExpiredSessionToken  ExpiredToken    ExpiredToken                    ExpiredToken (400)
//
// ErrExpired covers a request time more than MaxSkew away from now in either
// direction, a presigned URL used after its X-Amz-Expires, and a presigned
// URL dated more than MaxSkew in the future. An X-Amz-Expires above seven
// days is ErrMalformed. The messages of ErrMalformed errors say what is
// wrong, in the style of AWS, and are safe to return to the client.
package sigv4
