package s3

import (
	"encoding/xml"
	"net/http"
)

// The bucket configurations Kumo has no way to set answer their reads as
// AWS does for a bucket without that configuration: a "not configured"
// error for most, an empty or default document for the rest. Tools that
// read every configuration of a bucket (Terraform's aws_s3_bucket) so see
// a plain bucket, never 501.
//
// GetBucketEncryption answers ServerSideEncryptionConfigurationNotFoundError
// rather than AWS's post-2023 default (SSE-S3, AES256): Kumo does not
// encrypt objects at rest, and the answer must not say it does.

type accelerateConfiguration struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ AccelerateConfiguration"`
}

type requestPaymentConfiguration struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ RequestPaymentConfiguration"`
	Payer   string   `xml:"Payer"`
}

type bucketLoggingStatus struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ BucketLoggingStatus"`
}

// configHandler returns the handler of a configuration read, or nil.
func (s *Server) configHandler(o op) func(*request) error {
	if code, ok := notConfigured(o); ok {
		return func(*request) error { return apiError(code, "") }
	}
	switch o {
	case opGetBucketAccelerate:
		return func(q *request) error { return writeXML(q.w, http.StatusOK, accelerateConfiguration{}) }
	case opGetBucketRequestPayment:
		return func(q *request) error {
			return writeXML(q.w, http.StatusOK, requestPaymentConfiguration{Payer: "BucketOwner"})
		}
	case opGetBucketLogging:
		return func(q *request) error { return writeXML(q.w, http.StatusOK, bucketLoggingStatus{}) }
	case opGetBucketTagging:
		return s.getBucketTagging
	case opPutBucketTagging:
		return s.putBucketTagging
	case opDeleteBucketTagging:
		return s.deleteBucketTagging
	case opGetObjectTagging:
		return s.getObjectTagging
	case opPutObjectTagging:
		return s.putObjectTagging
	case opDeleteObjectTagging:
		return s.deleteObjectTagging
	case opGetObjectAttributes:
		return s.getObjectAttributes
	}
	return nil
}

// notConfigured is the error a configuration read answers for a bucket
// without it.
func notConfigured(o op) (ErrorCode, bool) {
	switch o {
	case opGetBucketCors:
		return ErrNoSuchCORSConfiguration, true
	case opGetBucketWebsite:
		return ErrNoSuchWebsiteConfiguration, true
	case opGetBucketLifecycle:
		return ErrNoSuchLifecycleConfiguration, true
	case opGetBucketReplication:
		return ErrReplicationConfigurationNotFound, true
	case opGetBucketEncryption:
		return ErrServerSideEncryptionConfigurationNotFound, true
	case opGetObjectLockConfig:
		return ErrObjectLockConfigurationNotFound, true
	case opGetBucketOwnership:
		return ErrOwnershipControlsNotFound, true
	case opGetPublicAccessBlock:
		return ErrNoSuchPublicAccessBlockConfiguration, true
	}
	return 0, false
}
