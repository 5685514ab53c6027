package ec2

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/ec2/filter"
	"github.com/kumo-cloud/kumo/internal/ec2/paginate"
	"github.com/kumo-cloud/kumo/internal/ids"
	"github.com/kumo-cloud/kumo/internal/instancestate"
	"github.com/kumo-cloud/kumo/internal/store"
)

// Association states as EC2 reports them. Kumo's changes are immediate:
// an association is "associated" from the start, and a disassociated one
// is gone (the answer says "disassociating", as EC2's does).
const (
	assocAssociated    = "associated"
	assocDisassociated = "disassociating"
)

// profileARN is an instance profile's ARN, with its path.
func profileARN(p store.InstanceProfile) string {
	return "arn:aws:iam::" + p.AccountID + ":instance-profile" + p.Path + p.Name
}

// resolveProfile finds the instance profile a specification names, by
// ARN or by name (not both), in the caller's account.
func resolveProfile(ctx context.Context, tx *store.Tx, account string, spec *ec2api.IamInstanceProfileSpecification) (store.InstanceProfile, error) {
	if spec == nil || (spec.Arn == nil && spec.Name == nil) {
		return store.InstanceProfile{}, apiErr("MissingParameter", "The request must contain the parameter iamInstanceProfile.arn or iamInstanceProfile.name")
	}
	if spec.Arn != nil && spec.Name != nil {
		return store.InstanceProfile{}, apiErr("InvalidParameterCombination", "The parameter 'iamInstanceProfile.name' may not be used in combination with 'iamInstanceProfile.arn'")
	}
	if spec.Name != nil {
		p, err := tx.GetInstanceProfile(ctx, account, *spec.Name)
		if errors.Is(err, store.ErrNotFound) {
			return p, invalid("Value (%s) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name", *spec.Name)
		}
		return p, err
	}
	arn := *spec.Arn
	bad := invalid("Value (%s) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN", arn)
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || parts[4] != account || !strings.HasPrefix(parts[5], "instance-profile/") {
		return store.InstanceProfile{}, bad
	}
	name := parts[5][strings.LastIndexByte(parts[5], '/')+1:]
	p, err := tx.GetInstanceProfile(ctx, account, name)
	if errors.Is(err, store.ErrNotFound) || (err == nil && profileARN(p) != arn) {
		return p, bad
	}
	return p, err
}

func apiAssociation(a store.ProfileAssociation, state string) *ec2api.IamInstanceProfileAssociation {
	return &ec2api.IamInstanceProfileAssociation{AssociationId: str(a.AssociationID), InstanceId: str(a.InstanceID), State: str(state),
		IamInstanceProfile: &ec2api.IamInstanceProfile{Arn: str(a.ProfileARN), Id: str(a.ProfileID)}, Timestamp: timep(a.CreatedAt)}
}

// associate stores an instance's association with a profile.
func associate(ctx context.Context, tx *store.Tx, account, instanceID string, p store.InstanceProfile) (store.ProfileAssociation, error) {
	a := store.ProfileAssociation{AssociationID: ids.Resource("iip-assoc"), AccountID: account, InstanceID: instanceID,
		ProfileID: p.ProfileID, ProfileARN: profileARN(p), CreatedAt: time.Now().UTC()}
	return a, tx.InsertProfileAssociation(ctx, a)
}

// AssociateIamInstanceProfile gives a running or stopped instance an
// instance profile; it may have only one.
func (s *Service) AssociateIamInstanceProfile(ctx context.Context, in *ec2api.AssociateIamInstanceProfileRequest) (*ec2api.AssociateIamInstanceProfileResult, error) {
	id := deref(in.InstanceId)
	if err := checkInstanceID(id); err != nil {
		return nil, err
	}
	var a store.ProfileAssociation
	var node string
	err := s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		inst, err := tx.GetInstance(ctx, account, id)
		if errors.Is(err, store.ErrNotFound) || (err == nil && inst.State == string(instancestate.Terminated)) {
			return errInstanceNotFound(id)
		}
		if err != nil {
			return err
		}
		p, err := resolveProfile(ctx, tx, account, in.IamInstanceProfile)
		if err != nil {
			return err
		}
		if _, err := tx.ProfileAssociationOf(ctx, id); err == nil {
			return apiErr("IncorrectState", "There is an existing association for instance %s", id)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		node = inst.NodeID
		a, err = associate(ctx, tx, account, id, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.notify(node)
	return &ec2api.AssociateIamInstanceProfileResult{IamInstanceProfileAssociation: apiAssociation(a, "associating")}, nil
}

// profileAssociation finds one of the caller's associations by id.
func profileAssociation(ctx context.Context, tx *store.Tx, account, id string) (store.ProfileAssociation, error) {
	a, err := tx.GetProfileAssociation(ctx, account, id)
	if errors.Is(err, store.ErrNotFound) {
		return a, apiErr("InvalidAssociationID.NotFound", "An association with ID %s does not exist.", id)
	}
	return a, err
}

// ReplaceIamInstanceProfileAssociation swaps an instance's profile
// without a moment without one.
func (s *Service) ReplaceIamInstanceProfileAssociation(ctx context.Context, in *ec2api.ReplaceIamInstanceProfileAssociationRequest) (*ec2api.ReplaceIamInstanceProfileAssociationResult, error) {
	var a store.ProfileAssociation
	var node string
	err := s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		old, err := profileAssociation(ctx, tx, account, deref(in.AssociationId))
		if err != nil {
			return err
		}
		p, err := resolveProfile(ctx, tx, account, in.IamInstanceProfile)
		if err != nil {
			return err
		}
		if err := tx.DeleteProfileAssociation(ctx, old.AssociationID); err != nil {
			return err
		}
		if inst, err := tx.GetInstance(ctx, account, old.InstanceID); err == nil {
			node = inst.NodeID
		}
		a, err = associate(ctx, tx, account, old.InstanceID, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.notify(node)
	return &ec2api.ReplaceIamInstanceProfileAssociationResult{IamInstanceProfileAssociation: apiAssociation(a, "associating")}, nil
}

// DisassociateIamInstanceProfile takes an instance's profile away.
func (s *Service) DisassociateIamInstanceProfile(ctx context.Context, in *ec2api.DisassociateIamInstanceProfileRequest) (*ec2api.DisassociateIamInstanceProfileResult, error) {
	var a store.ProfileAssociation
	var node string
	err := s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		var err error
		if a, err = profileAssociation(ctx, tx, account, deref(in.AssociationId)); err != nil {
			return err
		}
		if inst, err := tx.GetInstance(ctx, account, a.InstanceID); err == nil {
			node = inst.NodeID
		}
		return tx.DeleteProfileAssociation(ctx, a.AssociationID)
	})
	if err != nil {
		return nil, err
	}
	s.notify(node)
	return &ec2api.DisassociateIamInstanceProfileResult{IamInstanceProfileAssociation: apiAssociation(a, assocDisassociated)}, nil
}

var associationFields = filter.Fields[store.ProfileAssociation]{
	"instance-id": func(a store.ProfileAssociation) []string { return filter.One(a.InstanceID) },
	"state":       func(store.ProfileAssociation) []string { return filter.One(assocAssociated) },
}

// DescribeIamInstanceProfileAssociations lists the caller's associations.
func (s *Service) DescribeIamInstanceProfileAssociations(ctx context.Context, in *ec2api.DescribeIamInstanceProfileAssociationsRequest) (*ec2api.DescribeIamInstanceProfileAssociationsResult, error) {
	if len(in.AssociationIds) > 0 && (len(in.Filters) > 0 || in.MaxResults != nil) {
		return nil, apiErr("InvalidParameterCombination", "The parameter 'AssociationIds' may not be used in combination with 'Filters' or 'MaxResults'")
	}
	var all []store.ProfileAssociation
	err := s.view(ctx, func(ctx context.Context, tx *store.Tx, account string) (err error) {
		all, err = tx.ProfileAssociations(ctx, account)
		return err
	})
	if err != nil {
		return nil, err
	}
	all, err = selectByID(all, in.AssociationIds, func(a store.ProfileAssociation) string { return a.AssociationID }, func(id string) error {
		return apiErr("InvalidAssociationID.NotFound", "An association with ID %s does not exist.", id)
	})
	if err != nil {
		return nil, err
	}
	page, next, err := describe(all, in.Filters, associationFields, nil, func(a store.ProfileAssociation) string { return a.AssociationID },
		in.MaxResults, in.NextToken, paginate.Limits{Min: 5, Max: 1000})
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeIamInstanceProfileAssociationsResult{IamInstanceProfileAssociations: []ec2api.IamInstanceProfileAssociation{}, NextToken: next}
	for _, a := range page {
		out.IamInstanceProfileAssociations = append(out.IamInstanceProfileAssociations, *apiAssociation(a, assocAssociated))
	}
	return out, nil
}
