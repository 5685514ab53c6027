package authz

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/kumo-cloud/kumo/internal/policy/actions"
	"github.com/kumo-cloud/kumo/internal/store"
)

// targets maps a request to the (action, resource) pairs it is evaluated
// against.
func (a *Authorizer) targets(ctx context.Context, tx *store.Tx, c Call, acts []*actions.Action) ([]target, error) {
	switch c.Service {
	case "ec2":
		return a.ec2Targets(ctx, tx, c, acts)
	case "iam", "sts":
		return a.iamTargets(c, acts), nil
	}
	return nil, fmt.Errorf("service %s: %w", c.Service, ErrNoMapping)
}

// iamTargets: IAM and STS resources are named by the request's
// parameters (UserName, GroupName, RoleName, PolicyArn, ...); an
// operation on "the caller's own user" (CreateAccessKey without
// UserName) targets the caller. Paths are taken from a Path parameter
// when the request has one ("/" otherwise).
func (a *Authorizer) iamTargets(c Call, acts []*actions.Action) []target {
	keys := map[string][]string{}
	tagKeys(keys, requestTags(c.Params, "Tags.member."))
	if b := c.Params.Get("PermissionsBoundary"); b != "" {
		keys["iam:PermissionsBoundary"] = []string{b}
	}
	if p := c.Params.Get("PolicyArn"); p != "" {
		keys["iam:PolicyARN"] = []string{p}
	}
	var out []target
	for _, act := range acts {
		n := len(out)
		for _, ref := range act.Resources {
			if res := a.iamResource(c, ref.Type); res != "" {
				out = append(out, target{action: act.Name, resource: res, keys: keys})
			}
		}
		if len(out) == n {
			out = append(out, target{action: act.Name, resource: "*", keys: keys})
		}
	}
	return out
}

// iamResource is the ARN of the resource of type rt the request names
// ("" when it names none).
func (a *Authorizer) iamResource(c Call, rt *actions.ResourceType) string {
	acct := c.Principal.AccountID
	p := c.Params
	withPath := func(name string) string {
		if name == "" {
			return ""
		}
		return strings.TrimPrefix(p.Get("Path"), "/") + name
	}
	switch rt.Name {
	case "user":
		name := p.Get("UserName")
		if name == "" && !c.Principal.IsRoleSession() {
			name = c.Principal.UserName // an operation on the caller's own user
		}
		if name == "" {
			return ""
		}
		return a.arn(rt, acct, withPath(name))
	case "group":
		return a.nameARN(rt, acct, withPath(p.Get("GroupName")))
	case "role":
		if arn := p.Get("RoleArn"); arn != "" {
			return arn
		}
		return a.nameARN(rt, acct, withPath(p.Get("RoleName")))
	case "policy":
		if arn := p.Get("PolicyArn"); arn != "" {
			return arn
		}
		return a.nameARN(rt, acct, withPath(p.Get("PolicyName")))
	case "instance-profile":
		return a.nameARN(rt, acct, withPath(p.Get("InstanceProfileName")))
	case "oidc-provider":
		if arn := p.Get("OpenIDConnectProviderArn"); arn != "" {
			return arn
		}
		if u, err := url.Parse(p.Get("Url")); err == nil && u.Host != "" {
			return a.arn(rt, acct, u.Host+strings.TrimSuffix(u.Path, "/"))
		}
	}
	return ""
}

func (a *Authorizer) nameARN(rt *actions.ResourceType, acct, name string) string {
	if name == "" {
		return ""
	}
	return a.arn(rt, acct, name)
}
