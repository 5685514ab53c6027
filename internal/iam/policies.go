package iam

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi"
	"github.com/kumo-cloud/kumo/internal/awsapi/iamapi"
	"github.com/kumo-cloud/kumo/internal/iam/awspolicies"
	"github.com/kumo-cloud/kumo/internal/ids"
	"github.com/kumo-cloud/kumo/internal/store"
)

// IAM's managed policy quotas.
const (
	maxPolicySize       = 6144 // PolicySize, in non-space characters
	maxPolicyVersions   = 5
	maxAttachedPerThing = 10 // PoliciesPerUser/Group/Role
)

// managed is a managed policy as IAM shows it: a customer managed policy
// of the caller's account or an AWS managed one.
type managed struct {
	store.Policy
	awsManaged bool
	awsDoc     string // the AWS managed policy's (only) version
}

func fromAWS(p awspolicies.Policy) managed {
	return managed{awsManaged: true, awsDoc: p.Document, Policy: store.Policy{
		PolicyID: p.ID, ARN: p.ARN(), Name: p.Name, Path: p.Path, Description: p.Description,
		DefaultVersion: p.Version, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}}
}

func notAttachable(arn string) error {
	return noSuchEntity("Policy %s does not exist or is not attachable.", arn)
}

// findPolicy resolves a policy ARN the caller may use: an AWS managed
// policy or one of its account's.
func findPolicy(ctx context.Context, tx *store.Tx, account, arn string) (managed, error) {
	rest, ok := strings.CutPrefix(arn, "arn:aws:iam::")
	owner, _, isPolicy := strings.Cut(rest, ":policy/")
	if !ok || !isPolicy || owner == "" {
		return managed{}, invalidInput("ARN %s is not valid.", arn)
	}
	if owner == "aws" {
		p, ok := awspolicies.Get(arn)
		if !ok {
			return managed{}, notAttachable(arn)
		}
		return fromAWS(p), nil
	}
	if owner != account {
		return managed{}, notAttachable(arn)
	}
	p, err := tx.GetPolicy(ctx, account, arn)
	if errors.Is(err, store.ErrNotFound) {
		return managed{}, notAttachable(arn)
	}
	return managed{Policy: p}, err
}

// customerPolicy resolves an ARN that must name one of the account's own
// policies: AWS managed ones cannot be changed.
func customerPolicy(ctx context.Context, tx *store.Tx, account, arn string) (managed, error) {
	m, err := findPolicy(ctx, tx, account, arn)
	if err == nil && m.awsManaged {
		return m, awsapi.NewError("AccessDenied", http.StatusForbidden, "Policy %s is an AWS managed policy: it cannot be changed or deleted.", arn)
	}
	return m, err
}

// usage counts where in an account a managed policy is used.
type usage struct {
	attached int // attachments to users, groups and roles
	boundary int // roles whose permissions boundary it is
}

// usages loads the usage of every policy used in an account, by ARN.
func usages(ctx context.Context, tx *store.Tx, account string) (map[string]usage, error) {
	attached, err := tx.AttachmentCounts(ctx, account)
	if err != nil {
		return nil, err
	}
	boundary, err := tx.BoundaryUsageCounts(ctx, account)
	if err != nil {
		return nil, err
	}
	out := map[string]usage{}
	for arn, n := range attached {
		out[arn] = usage{attached: n, boundary: boundary[arn]}
	}
	for arn, n := range boundary {
		out[arn] = usage{attached: attached[arn], boundary: n}
	}
	return out, nil
}

func apiPolicy(m managed, u usage, tags []store.Tag, withDescription bool) iamapi.Policy {
	out := iamapi.Policy{
		PolicyName: ptr(m.Name), PolicyId: ptr(m.PolicyID), Arn: ptr(m.ARN), Path: ptr(m.Path), DefaultVersionId: ptr(m.DefaultVersion),
		AttachmentCount: ptr(int32(u.attached)), PermissionsBoundaryUsageCount: ptr(int32(u.boundary)), IsAttachable: ptr(true),
		CreateDate: ptr(m.CreatedAt), UpdateDate: ptr(m.UpdatedAt), Tags: apiTags(tags),
	}
	if withDescription && m.Description != "" {
		out.Description = ptr(m.Description)
	}
	return out
}

func apiTags(tags []store.Tag) []iamapi.Tag {
	var out []iamapi.Tag
	for _, t := range tags {
		out = append(out, iamapi.Tag{Key: ptr(t.Key), Value: ptr(t.Value)})
	}
	return out
}

// checkManagedDocument validates a managed policy's document and size.
func checkManagedDocument(doc string) error {
	if err := checkPolicyDocument(doc, identityPolicy); err != nil {
		return err
	}
	if policySize(doc) > maxPolicySize {
		return limitExceeded("Cannot exceed quota for PolicySize: %d", maxPolicySize)
	}
	return nil
}

// CreatePolicy adds a customer managed policy with its first version.
func (s *Service) CreatePolicy(ctx context.Context, in *iamapi.CreatePolicyRequest) (*iamapi.CreatePolicyResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	name, doc, desc := deref(in.PolicyName), deref(in.PolicyDocument), deref(in.Description)
	if err := validName("policyName", name, maxPolicyName); err != nil {
		return nil, err
	}
	path, err := validPath(deref(in.Path))
	if err != nil {
		return nil, err
	}
	if len([]rune(desc)) > maxDescription {
		return nil, validation("1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to %d", maxDescription)
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	if err := checkManagedDocument(doc); err != nil {
		return nil, err
	}
	now := nowMillis()
	pol := store.Policy{AccountID: p.AccountID, PolicyID: ids.PolicyID(), ARN: arn(p.AccountID, "policy", path, name), Name: name, Path: path,
		Description: desc, DefaultVersion: "v1", NextVersion: 2, CreatedAt: now, UpdatedAt: now}
	var tags []store.Tag
	err = s.Identity.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		err := tx.InsertPolicy(ctx, pol, store.PolicyVersion{AccountID: p.AccountID, PolicyID: pol.PolicyID, VersionID: "v1", Document: doc, CreatedAt: now})
		if errors.Is(err, store.ErrConflict) {
			return alreadyExists("A policy called %s already exists. Duplicate names are not allowed.", name)
		}
		if err != nil {
			return err
		}
		tags, err = putTags(ctx, tx, p.AccountID, pol.PolicyID, tagPolicy, in.Tags)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create policy %s: %w", name, err)
	}
	out := apiPolicy(managed{Policy: pol}, usage{}, tags, true)
	return &iamapi.CreatePolicyResponse{Policy: &out}, nil
}

// GetPolicy describes a managed policy (not its document: see GetPolicyVersion).
func (s *Service) GetPolicy(ctx context.Context, in *iamapi.GetPolicyRequest) (*iamapi.GetPolicyResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var out iamapi.Policy
	err = s.Identity.DB.View(ctx, func(ctx context.Context, tx *store.Tx) error {
		m, err := findPolicy(ctx, tx, p.AccountID, deref(in.PolicyArn))
		if err != nil {
			return err
		}
		used, err := usages(ctx, tx, p.AccountID)
		if err != nil {
			return err
		}
		var tags []store.Tag
		if !m.awsManaged {
			if tags, err = tagsOf(ctx, tx, p.AccountID, tagPolicy, m.PolicyID); err != nil {
				return err
			}
		}
		out = apiPolicy(m, used[m.ARN], tags, true)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.GetPolicyResponse{Policy: &out}, nil
}

// ListPolicies pages through AWS managed and the account's policies.
func (s *Service) ListPolicies(ctx context.Context, in *iamapi.ListPoliciesRequest) (*iamapi.ListPoliciesResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	scope := deref(in.Scope)
	if scope == "" {
		scope = "All"
	}
	if scope != "All" && scope != "AWS" && scope != "Local" {
		return nil, validation("1 validation error detected: Value '%s' at 'scope' failed to satisfy constraint: Member must satisfy enum value set: [All, AWS, Local]", scope)
	}
	prefix, err := validPathPrefix(in.PathPrefix)
	if err != nil {
		return nil, err
	}
	filter := deref(in.PolicyUsageFilter)
	if filter != "" && filter != "PermissionsPolicy" && filter != "PermissionsBoundary" {
		return nil, validation("1 validation error detected: Value '%s' at 'policyUsageFilter' failed to satisfy constraint: Member must satisfy enum value set: [PermissionsPolicy, PermissionsBoundary]", filter)
	}
	var all []managed
	var used map[string]usage
	err = s.Identity.DB.View(ctx, func(ctx context.Context, tx *store.Tx) error {
		if used, err = usages(ctx, tx, p.AccountID); err != nil {
			return err
		}
		if scope != "AWS" {
			local, err := tx.ListPolicies(ctx, p.AccountID)
			if err != nil {
				return err
			}
			for _, pol := range local {
				all = append(all, managed{Policy: pol})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if scope != "Local" {
		for _, a := range awspolicies.All() {
			all = append(all, fromAWS(a))
		}
	}
	var chosen []managed
	for _, m := range all {
		if strings.HasPrefix(m.Path, prefix) && (!flag(in.OnlyAttached) || inUse(used[m.ARN], filter)) {
			chosen = append(chosen, m)
		}
	}
	page, marker, err := pageByMarker(chosen, func(m managed) string { return m.ARN }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamapi.ListPoliciesResponse{Policies: []iamapi.Policy{}, IsTruncated: ptr(marker != nil), Marker: marker}
	for _, m := range page {
		out.Policies = append(out.Policies, apiPolicy(m, used[m.ARN], nil, false))
	}
	return out, nil
}

// inUse says whether a policy is attached (or, by PolicyUsageFilter, used
// as a permissions policy or as a boundary).
func inUse(u usage, filter string) bool {
	switch filter {
	case "PermissionsPolicy":
		return u.attached > 0
	case "PermissionsBoundary":
		return u.boundary > 0
	}
	return u.attached+u.boundary > 0
}

// flag reads an optional boolean parameter.
func flag(b *bool) bool { return b != nil && *b }

// DeletePolicy removes a customer managed policy that is attached nowhere
// and has no version but its default.
func (s *Service) DeletePolicy(ctx context.Context, in *iamapi.DeletePolicyRequest) (*iamapi.DeletePolicyOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	err = s.Identity.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.LockAccount(ctx, p.AccountID); err != nil {
			return err
		}
		m, err := customerPolicy(ctx, tx, p.AccountID, deref(in.PolicyArn))
		if err != nil {
			return err
		}
		used, err := usages(ctx, tx, p.AccountID)
		if err != nil {
			return err
		}
		if u := used[m.ARN]; u.attached+u.boundary > 0 {
			return deleteConflict("Cannot delete a policy attached to entities.")
		}
		versions, err := tx.ListPolicyVersions(ctx, m.PolicyID)
		if err != nil {
			return err
		}
		if len(versions) > 1 {
			return deleteConflict("This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.")
		}
		if err := tx.DeleteAllTags(ctx, p.AccountID, m.PolicyID); err != nil {
			return err
		}
		return tx.DeletePolicy(ctx, m.PolicyID)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.DeletePolicyOutput{}, nil
}

// versionNumber parses v<N> (IAM's version ids), 0 when malformed.
func versionNumber(id string) int {
	n := 0
	if len(id) < 2 || id[0] != 'v' || id[1] == '0' {
		return 0
	}
	for _, c := range id[1:] {
		if c < '0' || c > '9' || n > 1e8 {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}

func validVersionID(id string) error {
	if versionNumber(id) == 0 {
		return validation("1 validation error detected: Value '%s' at 'versionId' failed to satisfy constraint: Member must satisfy regular expression pattern: v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?", id)
	}
	return nil
}

func noSuchVersion(arn, version string) error {
	return noSuchEntity("Policy %s version %s does not exist or is not attachable.", arn, version)
}

// CreatePolicyVersion adds a version to a customer managed policy, at most five.
func (s *Service) CreatePolicyVersion(ctx context.Context, in *iamapi.CreatePolicyVersionRequest) (*iamapi.CreatePolicyVersionResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	doc := deref(in.PolicyDocument)
	if err := checkManagedDocument(doc); err != nil {
		return nil, err
	}
	var v store.PolicyVersion
	err = s.Identity.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.LockAccount(ctx, p.AccountID); err != nil {
			return err
		}
		m, err := customerPolicy(ctx, tx, p.AccountID, deref(in.PolicyArn))
		if err != nil {
			return err
		}
		versions, err := tx.ListPolicyVersions(ctx, m.PolicyID)
		if err != nil {
			return err
		}
		if len(versions) >= maxPolicyVersions {
			return limitExceeded("A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", maxPolicyVersions)
		}
		now := nowMillis()
		v = store.PolicyVersion{AccountID: p.AccountID, PolicyID: m.PolicyID, VersionID: fmt.Sprintf("v%d", m.NextVersion), Document: doc, CreatedAt: now}
		if err := tx.InsertPolicyVersion(ctx, v); err != nil {
			return err
		}
		def := m.DefaultVersion
		if flag(in.SetAsDefault) {
			def = v.VersionID
		}
		return tx.SetPolicyVersions(ctx, m.PolicyID, def, m.NextVersion+1, now)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.CreatePolicyVersionResponse{PolicyVersion: &iamapi.PolicyVersion{
		VersionId: ptr(v.VersionID), IsDefaultVersion: ptr(flag(in.SetAsDefault)), CreateDate: ptr(v.CreatedAt),
	}}, nil
}

// policyVersions returns a policy's versions (an AWS managed one has one).
func policyVersions(ctx context.Context, tx *store.Tx, m managed) ([]store.PolicyVersion, error) {
	if m.awsManaged {
		return []store.PolicyVersion{{VersionID: m.DefaultVersion, Document: m.awsDoc, CreatedAt: m.UpdatedAt}}, nil
	}
	return tx.ListPolicyVersions(ctx, m.PolicyID)
}

// GetPolicyVersion returns one version's document, URL-encoded as IAM does.
func (s *Service) GetPolicyVersion(ctx context.Context, in *iamapi.GetPolicyVersionRequest) (*iamapi.GetPolicyVersionResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	id := deref(in.VersionId)
	if err := validVersionID(id); err != nil {
		return nil, err
	}
	var out *iamapi.PolicyVersion
	err = s.Identity.DB.View(ctx, func(ctx context.Context, tx *store.Tx) error {
		m, err := findPolicy(ctx, tx, p.AccountID, deref(in.PolicyArn))
		if err != nil {
			return err
		}
		versions, err := policyVersions(ctx, tx, m)
		if err != nil {
			return err
		}
		for _, v := range versions {
			if v.VersionID == id {
				out = apiVersion(v, m.DefaultVersion, true)
				return nil
			}
		}
		return noSuchVersion(m.ARN, id)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.GetPolicyVersionResponse{PolicyVersion: out}, nil
}

func apiVersion(v store.PolicyVersion, defaultVersion string, withDocument bool) *iamapi.PolicyVersion {
	out := &iamapi.PolicyVersion{VersionId: ptr(v.VersionID), IsDefaultVersion: ptr(v.VersionID == defaultVersion), CreateDate: ptr(v.CreatedAt)}
	if withDocument {
		out.Document = ptr(encodeDocument(v.Document))
	}
	return out
}

// ListPolicyVersions pages through a policy's versions, newest first.
func (s *Service) ListPolicyVersions(ctx context.Context, in *iamapi.ListPolicyVersionsRequest) (*iamapi.ListPolicyVersionsResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var versions []store.PolicyVersion
	var def string
	err = s.Identity.DB.View(ctx, func(ctx context.Context, tx *store.Tx) error {
		m, err := findPolicy(ctx, tx, p.AccountID, deref(in.PolicyArn))
		if err != nil {
			return err
		}
		def = m.DefaultVersion
		versions, err = policyVersions(ctx, tx, m)
		return err
	})
	if err != nil {
		return nil, err
	}
	newestFirst := func(v store.PolicyVersion) string { return fmt.Sprintf("%010d", 1<<30-versionNumber(v.VersionID)) }
	page, marker, err := pageByMarker(versions, newestFirst, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamapi.ListPolicyVersionsResponse{Versions: []iamapi.PolicyVersion{}, IsTruncated: ptr(marker != nil), Marker: marker}
	for _, v := range page {
		out.Versions = append(out.Versions, *apiVersion(v, def, false))
	}
	return out, nil
}

// DeletePolicyVersion removes a version other than the default.
func (s *Service) DeletePolicyVersion(ctx context.Context, in *iamapi.DeletePolicyVersionRequest) (*iamapi.DeletePolicyVersionOutput, error) {
	id := deref(in.VersionId)
	if err := validVersionID(id); err != nil {
		return nil, err
	}
	err := s.changeVersion(ctx, deref(in.PolicyArn), id, func(ctx context.Context, tx *store.Tx, m managed) error {
		if m.DefaultVersion == id {
			return deleteConflict("Cannot delete the default version of a policy.")
		}
		return tx.DeletePolicyVersion(ctx, m.PolicyID, id)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.DeletePolicyVersionOutput{}, nil
}

// SetDefaultPolicyVersion makes a version the one that applies.
func (s *Service) SetDefaultPolicyVersion(ctx context.Context, in *iamapi.SetDefaultPolicyVersionRequest) (*iamapi.SetDefaultPolicyVersionOutput, error) {
	id := deref(in.VersionId)
	if err := validVersionID(id); err != nil {
		return nil, err
	}
	err := s.changeVersion(ctx, deref(in.PolicyArn), id, func(ctx context.Context, tx *store.Tx, m managed) error {
		return tx.SetPolicyVersions(ctx, m.PolicyID, id, m.NextVersion, time.Now().UTC().Truncate(time.Millisecond))
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.SetDefaultPolicyVersionOutput{}, nil
}

// changeVersion runs fn on an existing version of a customer managed policy.
func (s *Service) changeVersion(ctx context.Context, policyARN, id string, fn func(context.Context, *store.Tx, managed) error) error {
	p, err := caller(ctx)
	if err != nil {
		return err
	}
	return s.Identity.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.LockAccount(ctx, p.AccountID); err != nil {
			return err
		}
		m, err := customerPolicy(ctx, tx, p.AccountID, policyARN)
		if err != nil {
			return err
		}
		if _, err := tx.GetPolicyVersion(ctx, m.PolicyID, id); errors.Is(err, store.ErrNotFound) {
			return noSuchVersion(m.ARN, id)
		} else if err != nil {
			return err
		}
		return fn(ctx, tx, m)
	})
}
