package iam

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kumo-cloud/kumo/internal/iam/awspolicies"
	"github.com/kumo-cloud/kumo/internal/identity"
	"github.com/kumo-cloud/kumo/internal/store"
)

// PolicyDocument is one identity-based policy that applies to a principal.
type PolicyDocument struct {
	// Owner is the user, group or role it is attached to or embedded in:
	// "user/alice", "group/devs", "role/web".
	Owner string
	// Name is a managed policy's ARN or an inline policy's name.
	Name    string
	Managed bool
	// Document is the JSON as written (not URL-encoded): for a managed
	// policy, its default version.
	Document string
}

// PrincipalPolicies is what the policy engine evaluates for a principal.
type PrincipalPolicies struct {
	// Identity holds the principal's own inline and attached policies and,
	// for a user, those of each of its groups.
	Identity []PolicyDocument
	// Boundary is the permissions boundary (a managed policy), nil when none.
	Boundary *PolicyDocument
}

// ErrRootPrincipal: the account's root has no policies; it may do anything
// in its account, so callers must not evaluate policies for it.
var ErrRootPrincipal = errors.New("the account's root is not governed by IAM policies")

// PoliciesFor gathers the identity policies of the user who signed a
// request (ErrRootPrincipal for the root), in one read transaction.
func (s *Service) PoliciesFor(ctx context.Context, p identity.Principal) (PrincipalPolicies, error) {
	if p.IsRoot() {
		return PrincipalPolicies{}, ErrRootPrincipal
	}
	var out PrincipalPolicies
	err := s.Identity.DB.View(ctx, func(ctx context.Context, tx *store.Tx) (err error) {
		out, err = PoliciesForUser(ctx, tx, p.AccountID, p.UserName)
		return err
	})
	return out, err
}

// PoliciesForRoleName gathers a role's policies (for STS sessions of it).
func (s *Service) PoliciesForRoleName(ctx context.Context, accountID, roleName string) (PrincipalPolicies, error) {
	var out PrincipalPolicies
	err := s.Identity.DB.View(ctx, func(ctx context.Context, tx *store.Tx) (err error) {
		out, err = PoliciesForRole(ctx, tx, accountID, roleName)
		return err
	})
	return out, err
}

// PoliciesForUser gathers a user's inline and attached policies, those of
// its groups, and its permissions boundary. store.ErrNotFound when the
// user does not exist.
func PoliciesForUser(ctx context.Context, tx *store.Tx, accountID, userName string) (PrincipalPolicies, error) {
	ug, err := tx.GetUserWithGroups(ctx, accountID, userName)
	if err != nil {
		return PrincipalPolicies{}, fmt.Errorf("policies of user %s: %w", userName, err)
	}
	u := ug.User
	owners := map[string]string{u.UserID: "user/" + u.Name}
	ids := []string{u.UserID}
	for _, g := range ug.Groups {
		owners[g.GroupID] = "group/" + g.Name
		ids = append(ids, g.GroupID)
	}
	docs, err := gather(ctx, tx, ids, owners)
	if err != nil {
		return PrincipalPolicies{}, fmt.Errorf("policies of user %s: %w", userName, err)
	}
	out := PrincipalPolicies{Identity: docs}
	out.Boundary, err = boundary(ctx, tx, accountID, owners[u.UserID], u.PermissionsBoundary)
	if err != nil {
		return out, fmt.Errorf("boundary of user %s: %w", userName, err)
	}
	return out, nil
}

// PoliciesForRole gathers a role's inline and attached policies and its
// permissions boundary. store.ErrNotFound when the role does not exist.
func PoliciesForRole(ctx context.Context, tx *store.Tx, accountID, roleName string) (PrincipalPolicies, error) {
	r, err := tx.GetRole(ctx, accountID, roleName)
	if err != nil {
		return PrincipalPolicies{}, fmt.Errorf("policies of role %s: %w", roleName, err)
	}
	owner := "role/" + r.Name
	docs, err := gather(ctx, tx, []string{r.RoleID}, map[string]string{r.RoleID: owner})
	if err != nil {
		return PrincipalPolicies{}, fmt.Errorf("policies of role %s: %w", roleName, err)
	}
	out := PrincipalPolicies{Identity: docs}
	out.Boundary, err = boundary(ctx, tx, accountID, owner, r.PermissionsBoundary)
	if err != nil {
		return out, fmt.Errorf("boundary of role %s: %w", roleName, err)
	}
	return out, nil
}

// gather reads the inline and attached policies of entities (a user and
// its groups, or a role) in one query; AWS managed documents come from
// the binary.
func gather(ctx context.Context, tx *store.Tx, ids []string, owners map[string]string) ([]PolicyDocument, error) {
	rows, err := tx.PoliciesOfEntities(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]PolicyDocument, 0, len(rows))
	for _, r := range rows {
		doc := r.Document
		if r.Managed && strings.HasPrefix(r.Name, awspolicies.ARNPrefix) {
			p, ok := awspolicies.Get(r.Name)
			if !ok {
				return nil, fmt.Errorf("AWS managed policy %s: %w", r.Name, store.ErrNotFound)
			}
			doc = p.Document
		} else if r.Managed && doc == "" {
			return nil, fmt.Errorf("managed policy %s: %w", r.Name, store.ErrNotFound)
		}
		out = append(out, PolicyDocument{Owner: owners[r.EntityID], Name: r.Name, Managed: r.Managed, Document: doc})
	}
	return out, nil
}

// managedDocuments returns the default documents of managed policies by
// ARN, AWS managed ones from the binary.
func managedDocuments(ctx context.Context, tx *store.Tx, accountID string, arns []string) (map[string]string, error) {
	out := map[string]string{}
	var local []string
	for _, arn := range arns {
		if strings.HasPrefix(arn, awspolicies.ARNPrefix) {
			p, ok := awspolicies.Get(arn)
			if !ok {
				return nil, fmt.Errorf("AWS managed policy %s: %w", arn, store.ErrNotFound)
			}
			out[arn] = p.Document
			continue
		}
		local = append(local, arn)
	}
	docs, err := tx.DefaultDocuments(ctx, accountID, local)
	if err != nil {
		return nil, err
	}
	for _, arn := range local {
		doc, ok := docs[arn]
		if !ok {
			return nil, fmt.Errorf("managed policy %s: %w", arn, store.ErrNotFound)
		}
		out[arn] = doc
	}
	return out, nil
}

// boundary loads a permissions boundary's document (nil when there is none).
func boundary(ctx context.Context, tx *store.Tx, accountID, owner, policyARN string) (*PolicyDocument, error) {
	if policyARN == "" {
		return nil, nil
	}
	doc, err := managedDocuments(ctx, tx, accountID, []string{policyARN})
	if err != nil {
		return nil, err
	}
	return &PolicyDocument{Owner: owner, Name: policyARN, Managed: true, Document: doc[policyARN]}, nil
}
