package apiserver_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/kumo-cloud/kumo/internal/apiserver"
	"github.com/kumo-cloud/kumo/internal/awsapi"
	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/awsapi/iamapi"
	"github.com/kumo-cloud/kumo/internal/awsapi/stsapi"
	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/ec2"
	"github.com/kumo-cloud/kumo/internal/iam"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
	"github.com/kumo-cloud/kumo/internal/sts"
)

// ran records which operations of a model decoded an input or were
// called, in order.
type ran struct {
	mu    sync.Mutex
	names []string
}

func (r *ran) add(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.names = append(r.names, name)
}

func (r *ran) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.names
	r.names = nil
	return out
}

// recording copies a generated model, wrapping every operation's NewInput
// and Call so that r sees what runs.
func recording(m *awsapi.ServiceModel, r *ran) *awsapi.ServiceModel {
	c := *m
	c.Operations = make(map[string]*awsapi.Operation, len(m.Operations))
	for name, op := range m.Operations {
		w := *op
		if op.NewInput != nil {
			newInput := op.NewInput
			w.NewInput = func() any { r.add(name); return newInput() }
		}
		if op.Call != nil {
			call := op.Call
			w.Call = func(ctx context.Context, svc, in any) (any, error) { r.add(name); return call(ctx, svc, in) }
		}
		c.Operations[name] = &w
	}
	return &c
}

type querySvc struct {
	scope, version   string
	all, implemented []string
}

// TestQueryListenerRunsOnlyTheActionAsked sends every action of the EC2,
// IAM and STS models, signed, to the Query listener with Kumo's real
// services behind it. An action Kumo does not implement answers 400
// UnsupportedOperation naming it before any operation decodes an input or
// runs; an implemented one runs itself and nothing else; a name that is
// not an action is InvalidAction.
func TestQueryListenerRunsOnlyTheActionAsked(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctl := controllertest.StartAPIOnly(t, b)
		acct := ctl.NewAccount(t, "refusals")
		r := &ran{}
		ec2svc := ec2.New(ctl.DB, ec2.Config{Region: controllertest.Region, Zones: []string{controllertest.Region + "a"}})
		srv := &apiserver.Server{Identity: ctl.Identity, Region: controllertest.Region,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			Services: map[string]apiserver.Service{
				"ec2": {Model: recording(ec2api.Model(), r), Impl: ec2svc},
				"iam": {Model: recording(iamapi.Model(), r), Impl: &iam.Service{Identity: ctl.Identity}},
				"sts": {Model: recording(stsapi.Model(), r), Impl: &sts.Service{DB: ctl.DB, Box: ctl.Identity.Box, IAM: &iam.Service{Identity: ctl.Identity}}},
			}}
		endpoint := serve(t, srv)
		services := []querySvc{
			{"ec2", ec2api.APIVersion, ec2api.AllOperations(), ec2api.ImplementedOperations()},
			{"iam", iamapi.APIVersion, iamapi.AllOperations(), iamapi.ImplementedOperations()},
			{"sts", stsapi.APIVersion, stsapi.AllOperations(), stsapi.ImplementedOperations()},
		}
		for _, s := range services {
			implemented := map[string]bool{}
			for _, name := range s.implemented {
				implemented[name] = true
			}
			refused := 0
			for _, action := range s.all {
				form := url.Values{"Action": {action}, "Version": {s.version}}
				if s.scope == "ec2" {
					form.Set("DryRun", "true") // implemented EC2 actions stop before changing anything
				}
				status, code, body := post(t, endpoint, s.scope, acct.KeyID, acct.Secret, form)
				got := r.take()
				if !implemented[action] {
					// The controller's own listener, wired as in production, answers the same.
					if st, c, _ := post(t, ctl.Endpoint, s.scope, acct.KeyID, acct.Secret, form); st != http.StatusBadRequest || c != "UnsupportedOperation" {
						t.Errorf("%s %s on the controller: %d %s, want 400 UnsupportedOperation", s.scope, action, st, c)
					}
					refused++
					want := "The action " + action + " is not supported by Kumo yet."
					if status != http.StatusBadRequest || code != "UnsupportedOperation" || !strings.Contains(body, want) {
						t.Errorf("%s %s: %d %s %s, want 400 UnsupportedOperation", s.scope, action, status, code, body)
					}
					if len(got) > 0 {
						t.Errorf("%s %s: refused, but %v ran", s.scope, action, got)
					}
					continue
				}
				if code == "UnsupportedOperation" || code == "InvalidAction" {
					t.Errorf("%s %s: implemented, but %d %s", s.scope, action, status, code)
				}
				if len(got) == 0 {
					t.Errorf("%s %s: implemented, but nothing ran (%d %s)", s.scope, action, status, code)
				}
				for _, name := range got {
					if name != action {
						t.Errorf("%s %s: %s ran", s.scope, action, name)
					}
				}
			}
			t.Logf("%s: %d actions of the model sent, %d implemented ran themselves, %d refused", s.scope, len(s.all), len(s.all)-refused, refused)
			for _, bogus := range []string{"DescribeEverything", strings.ToLower(s.all[0]), s.all[0] + " "} {
				status, code, _ := post(t, endpoint, s.scope, acct.KeyID, acct.Secret, url.Values{"Action": {bogus}, "Version": {s.version}})
				if status != http.StatusBadRequest || code != "InvalidAction" {
					t.Errorf("%s %q: %d %s, want 400 InvalidAction", s.scope, bogus, status, code)
				}
				if got := r.take(); len(got) > 0 {
					t.Errorf("%s %q: %v ran", s.scope, bogus, got)
				}
			}
		}
	})
}

func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close() })
	return "http://" + ln.Addr().String()
}

var codeRE = regexp.MustCompile(`<Code>([^<]*)</Code>`)

// post sends form as a SigV4-signed Query request for service.
func post(t *testing.T, endpoint, service, keyID, secret string, form url.Values) (int, string, string) {
	t.Helper()
	body := []byte(form.Encode())
	req, err := http.NewRequest(http.MethodPost, endpoint+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, controllertest.Region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", service, form.Get("Action"), err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	code := ""
	if m := codeRE.FindSubmatch(out); m != nil {
		code = string(m[1])
	}
	return resp.StatusCode, code, string(out)
}
