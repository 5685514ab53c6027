package e2e_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
)

// ec2Version is the API version EC2 requests carry.
const ec2Version = "2016-11-15"

// rawClient sends hand-made Query-protocol requests signed with SigV4, for
// what the SDK will not send: unknown actions and parameters, bad values,
// skewed clocks, presigned URLs.
type rawClient struct {
	endpoint string
	creds    aws.Credentials
	signer   *v4.Signer
	http     *http.Client
}

func newRawClient(srv *controllertest.Server, keyID, secret string) *rawClient {
	return &rawClient{
		endpoint: srv.Endpoint,
		creds:    aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret},
		signer:   v4.NewSigner(),
		http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			MaxIdleConns: 32, MaxIdleConnsPerHost: 32, IdleConnTimeout: 30 * time.Second,
		}},
	}
}

// ec2Params starts an EC2 request: the action, the version and key, value pairs.
func ec2Params(action string, kv ...string) url.Values {
	v := url.Values{"Action": {action}, "Version": {ec2Version}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

func payloadHash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// unsigned builds a form POST of params without any signature.
func (c *rawClient) unsigned(ctx context.Context, params url.Values) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint+"/", strings.NewReader(params.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	return req, nil
}

// signed builds a form POST of params to service, signed as of signedAt.
func (c *rawClient) signed(ctx context.Context, service string, params url.Values, signedAt time.Time) (*http.Request, error) {
	body := params.Encode()
	req, err := c.unsigned(ctx, params)
	if err != nil {
		return nil, err
	}
	if err := c.signer.SignHTTP(ctx, c.creds, req, payloadHash([]byte(body)), service, controllertest.Region, signedAt); err != nil {
		return nil, err
	}
	return req, nil
}

// presignedURL is a GET URL carrying params and its signature in the query.
func (c *rawClient) presignedURL(ctx context.Context, service string, params url.Values, signedAt time.Time, expires time.Duration) (string, http.Header, error) {
	q := url.Values{}
	for k, v := range params {
		q[k] = v
	}
	q.Set("X-Amz-Expires", fmt.Sprint(int(expires.Seconds())))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.endpoint+"/?"+q.Encode(), nil)
	if err != nil {
		return "", nil, err
	}
	return c.signer.PresignHTTP(ctx, c.creds, req, payloadHash(nil), service, controllertest.Region, signedAt)
}

// rawResponse is an answer with its envelope parsed.
type rawResponse struct {
	Status   int
	HeaderID string // x-amzn-RequestId
	Body     []byte
	Root     string // the XML root element's name
	Code     string // the error code; "" on success
	Message  string
	BodyID   string // the request id the body carries, wherever the protocol puts it
	// EC2Envelope reports the EC2 error shape: Response/Errors/Error plus RequestID.
	EC2Envelope bool
}

// envelope covers the EC2 and Query protocols' success and error bodies.
type envelope struct {
	XMLName    xml.Name
	EC2Errors  []errorXML `xml:"Errors>Error"`
	QueryError *errorXML  `xml:"Error"`
	EC2ErrID   string     `xml:"RequestID"`
	EC2OKID    string     `xml:"requestId"`
	QueryErrID string     `xml:"RequestId"`
	QueryOKID  string     `xml:"ResponseMetadata>RequestId"`
}

type errorXML struct {
	Code    string
	Message string
}

// send performs req and parses the answer.
func (c *rawClient) send(req *http.Request) (rawResponse, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return rawResponse{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return rawResponse{}, err
	}
	r := rawResponse{Status: resp.StatusCode, HeaderID: resp.Header.Get("x-amzn-RequestId"), Body: body}
	var env envelope
	if err := xml.Unmarshal(body, &env); err != nil {
		return r, fmt.Errorf("HTTP %d, body is not XML (%v): %.300s", resp.StatusCode, err, body)
	}
	r.Root = env.XMLName.Local
	r.BodyID = env.EC2OKID + env.EC2ErrID + env.QueryErrID + env.QueryOKID
	switch {
	case len(env.EC2Errors) > 0:
		r.Code, r.Message = env.EC2Errors[0].Code, env.EC2Errors[0].Message
		r.EC2Envelope = r.Root == "Response" && len(env.EC2Errors) == 1 && env.EC2ErrID != ""
	case env.QueryError != nil:
		r.Code, r.Message = env.QueryError.Code, env.QueryError.Message
	}
	return r, nil
}

// call signs params for service now, sends them and fails the test on a
// transport error.
func (c *rawClient) call(t testing.TB, service string, params url.Values) rawResponse {
	t.Helper()
	return c.callAt(t, service, params, time.Now())
}

// callAt is call with the signature made as of signedAt.
func (c *rawClient) callAt(t testing.TB, service string, params url.Values, signedAt time.Time) rawResponse {
	t.Helper()
	req, err := c.signed(t.Context(), service, params, signedAt)
	noErr(t, err)
	r, err := c.send(req)
	noErr(t, err)
	return r
}

// wantRawError checks an error answer: the status, the code, the request
// id in both the header and the body, and (for EC2) the EC2 envelope.
func wantRawError(t testing.TB, r rawResponse, status int, code string) {
	t.Helper()
	if r.Status != status || r.Code != code {
		t.Errorf("got HTTP %d %s (%s), want HTTP %d %s", r.Status, r.Code, r.Message, status, code)
	}
	wantRequestID(t, r)
}

// wantRequestID checks that the header and the body carry the same request id.
func wantRequestID(t testing.TB, r rawResponse) {
	t.Helper()
	if r.HeaderID == "" || r.HeaderID != r.BodyID {
		t.Errorf("request id: header %q, body %q; want the same non-empty id (body %.200s)", r.HeaderID, r.BodyID, r.Body)
	}
}

// queryParams starts an IAM or STS request.
func queryParams(action, version string, kv ...string) url.Values {
	v := ec2Params(action, kv...)
	v.Set("Version", version)
	return v
}
