// Package awsapitest serves an awsapi.ServiceModel over HTTP the way Kumo's
// API server answers AWS clients, minus authentication, so that tests can
// drive the official AWS SDKs against fake or real services.
package awsapitest

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/kumo-cloud/kumo/internal/awsapi"
)

// RequestID is the request id of every response Handler writes.
const RequestID = "11111111-2222-4333-8444-555555555555"

// Region is the region of the SDK configuration Config returns.
const Region = "kumo-1"

// Handler answers AWS requests for model m with svc, which implements the
// model's generated Service interface. It does not check signatures.
func Handler(m *awsapi.ServiceModel, svc any) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.Header().Set("X-Amzn-Requestid", RequestID)
		if err := r.ParseForm(); err != nil {
			status, body := awsapi.EncodeError(m.Protocol, m.XMLNamespace, RequestID,
				awsapi.NewError("MalformedQueryString", http.StatusBadRequest, "The request body could not be parsed."))
			w.WriteHeader(status)
			_, _ = w.Write(body)
			return
		}
		body, err := awsapi.Invoke(r.Context(), m, svc, r.Form, RequestID)
		if err != nil {
			status, errBody := awsapi.EncodeError(m.Protocol, m.XMLNamespace, RequestID, err)
			w.WriteHeader(status)
			_, _ = w.Write(errBody)
			return
		}
		_, _ = w.Write(body)
	})
}

// NewServer starts a test server for Handler(m, svc), closed when tb ends.
func NewServer(tb testing.TB, m *awsapi.ServiceModel, svc any) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(Handler(m, svc))
	tb.Cleanup(srv.Close)
	return srv
}

// Config is an SDK configuration for talking to url: static credentials,
// region kumo-1 and no retries, so that an error surfaces at once.
func Config(url string) aws.Config {
	return aws.Config{
		Region:           Region,
		Credentials:      credentials.NewStaticCredentialsProvider("AKIAKUMOTESTKEY00000", "kumo-test-secret", ""),
		BaseEndpoint:     aws.String(url),
		RetryMaxAttempts: 1,
	}
}
