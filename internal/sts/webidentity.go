package sts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/kumo-cloud/kumo/internal/awsapi"
	"github.com/kumo-cloud/kumo/internal/awsapi/stsapi"
	"github.com/kumo-cloud/kumo/internal/policy"
	"github.com/kumo-cloud/kumo/internal/store"
)

// OIDCProvider is an OpenID Connect issuer the operator trusts for
// AssumeRoleWithWebIdentity. It exists in every account: a trust policy
// names it as arn:aws:iam::<account>:oidc-provider/<issuer host/path>.
type OIDCProvider struct {
	IssuerURL string   // the tokens' iss, https://…
	Audiences []string // accepted aud values (client ids)
	Keys      jose.JSONWebKeySet
}

// name is the provider's name in ARNs and condition keys: the issuer
// without its scheme.
func (p OIDCProvider) name() string {
	return strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(p.IssuerURL, "https://"), "http://"), "/")
}

// LoadOIDCProvider reads a provider's signing keys from a JWKS file.
func LoadOIDCProvider(issuerURL, audience, jwksFile string) (OIDCProvider, error) {
	p := OIDCProvider{IssuerURL: issuerURL}
	if !strings.HasPrefix(issuerURL, "https://") {
		return p, fmt.Errorf("OIDC issuer %q: must be an https:// URL", issuerURL)
	}
	for _, a := range strings.Split(audience, ";") {
		if a = strings.TrimSpace(a); a != "" {
			p.Audiences = append(p.Audiences, a)
		}
	}
	if len(p.Audiences) == 0 {
		return p, fmt.Errorf("OIDC issuer %s: no audience", issuerURL)
	}
	b, err := os.ReadFile(jwksFile)
	if err != nil {
		return p, fmt.Errorf("OIDC issuer %s: %w", issuerURL, err)
	}
	if err := json.Unmarshal(b, &p.Keys); err != nil || len(p.Keys.Keys) == 0 {
		return p, fmt.Errorf("OIDC issuer %s: %s holds no JSON Web Key Set (%v)", issuerURL, jwksFile, err)
	}
	return p, nil
}

// SetOIDCProviders replaces the trusted issuers (safe while serving).
func (s *Service) SetOIDCProviders(p []OIDCProvider) { s.oidc.Store(&p) }

func (s *Service) provider(issuer string) (OIDCProvider, bool) {
	list := s.oidc.Load()
	if list == nil {
		return OIDCProvider{}, false
	}
	for _, p := range *list {
		if p.IssuerURL == issuer {
			return p, true
		}
	}
	return OIDCProvider{}, false
}

var signatureAlgorithms = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384, jose.ES512, jose.PS256, jose.PS384, jose.PS512, jose.EdDSA}

func invalidIdentityToken(format string, args ...any) error {
	return awsapi.NewError("InvalidIdentityToken", http.StatusBadRequest, format, args...)
}

// verifyWebIdentity checks a JWT's signature, issuer, times and audience.
func (s *Service) verifyWebIdentity(token string) (OIDCProvider, jwt.Claims, error) {
	var claims jwt.Claims
	if len(token) < 4 || len(token) > 20000 {
		return OIDCProvider{}, claims, validationError("1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint: Member must have length between 4 and 20000")
	}
	tok, err := jwt.ParseSigned(token, signatureAlgorithms)
	if err != nil {
		return OIDCProvider{}, claims, invalidIdentityToken("The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)")
	}
	if err := tok.UnsafeClaimsWithoutVerification(&claims); err != nil {
		return OIDCProvider{}, claims, invalidIdentityToken("The ID Token provided is not a valid JWT.")
	}
	p, ok := s.provider(claims.Issuer)
	if !ok {
		return p, claims, invalidIdentityToken("No OpenIDConnect provider found in your account for %s", claims.Issuer)
	}
	claims = jwt.Claims{}
	if err := tok.Claims(p.Keys, &claims); err != nil {
		return p, claims, invalidIdentityToken("Couldn't verify the signature of the web identity token with the provider's keys.")
	}
	now := s.now()
	switch err := claims.ValidateWithLeeway(jwt.Expected{Issuer: p.IssuerURL, Time: now}, time.Minute); {
	case errors.Is(err, jwt.ErrExpired):
		return p, claims, awsapi.NewError("ExpiredTokenException", http.StatusBadRequest, "Token expired: current date/time %s must be before the expiration date/time %s", now.Format(time.RFC3339), claims.Expiry.Time().UTC().Format(time.RFC3339))
	case err != nil:
		return p, claims, invalidIdentityToken("The web identity token is not valid: %v", err)
	}
	if !slices.ContainsFunc(claims.Audience, func(a string) bool { return slices.Contains(p.Audiences, a) }) {
		return p, claims, invalidIdentityToken("Incorrect token audience")
	}
	return p, claims, nil
}

// AssumeRoleWithWebIdentity exchanges an OIDC ID token from a trusted
// issuer for a session of a role whose trust policy allows that issuer
// (and, through its conditions, the token's aud and sub). The request is
// unsigned, as on AWS.
func (s *Service) AssumeRoleWithWebIdentity(ctx context.Context, in *stsapi.AssumeRoleWithWebIdentityRequest) (*stsapi.AssumeRoleWithWebIdentityResponse, error) {
	roleARN, name := deref(in.RoleArn), deref(in.RoleSessionName)
	account, roleName, err := parseRoleARN(roleARN)
	if err != nil {
		return nil, err
	}
	if err := checkSessionName(name); err != nil {
		return nil, err
	}
	if in.ProviderId != nil {
		return nil, awsapi.NewError("UnsupportedOperation", http.StatusBadRequest, "ProviderId is for OAuth 2.0 providers; Kumo accepts OIDC ID tokens only.")
	}
	p, claims, err := s.verifyWebIdentity(deref(in.WebIdentityToken))
	if err != nil {
		return nil, err
	}
	denied := accessDenied("Not authorized to perform sts:AssumeRoleWithWebIdentity")
	role, err := s.role(ctx, account, roleName)
	if errors.Is(err, store.ErrNotFound) {
		return nil, denied
	}
	if err != nil {
		return nil, err
	}
	d, err := roleDuration(time.Duration(deref(in.DurationSeconds))*time.Second, role)
	if err != nil {
		return nil, err
	}
	sessionPolicy, err := s.sessionPolicy(ctx, deref(in.Policy), in.PolicyArns)
	if err != nil {
		return nil, err
	}
	if !s.trustsWebIdentity(role, roleARN, p, claims) {
		return nil, denied
	}
	creds, err := s.issue(roleSession(role, name, sessionPolicy, nil), d)
	if err != nil {
		return nil, err
	}
	aud := ""
	if len(claims.Audience) > 0 {
		aud = claims.Audience[0]
	}
	return &stsapi.AssumeRoleWithWebIdentityResponse{Credentials: apiCredentials(creds),
		AssumedRoleUser: &stsapi.AssumedRoleUser{AssumedRoleId: ptr(role.RoleID + ":" + name),
			Arn: ptr("arn:aws:sts::" + role.AccountID + ":assumed-role/" + role.Name + "/" + name)},
		SubjectFromWebIdentityToken: ptr(claims.Subject), Provider: ptr(p.name()), Audience: ptr(aud),
		PackedPolicySize: ptr(int32(packedPercent(sessionPolicy, nil)))}, nil
}

// trustsWebIdentity evaluates the role's trust policy for the token's
// provider, with <provider>:aud, <provider>:sub and <provider>:iss.
func (s *Service) trustsWebIdentity(role store.Role, roleARN string, p OIDCProvider, claims jwt.Claims) bool {
	trust, err := policy.Parse([]byte(role.TrustPolicy), policy.Trust)
	if err != nil {
		return false
	}
	providerARN := "arn:aws:iam::" + role.AccountID + ":oidc-provider/" + p.name()
	c := policy.NewContext()
	c.Set(p.name()+":aud", claims.Audience...)
	c.Set(p.name()+":sub", claims.Subject)
	c.Set(p.name()+":iss", claims.Issuer)
	c.Set("aws:FederatedProvider", providerARN)
	pr := policy.Principal{Kind: policy.WebIdentity, Federated: providerARN}
	d := policy.Evaluate(policy.Request{Principal: pr, Action: "sts:AssumeRoleWithWebIdentity", Resource: roleARN, ResourceAccount: role.AccountID, Context: c},
		policy.PolicySet{Resource: []*policy.Policy{trust}, RequireResource: true})
	return d.Allowed()
}
