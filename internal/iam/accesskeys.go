package iam

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"sort"

	"github.com/kumo-cloud/kumo/internal/awsapi"
	"github.com/kumo-cloud/kumo/internal/awsapi/iamapi"
	"github.com/kumo-cloud/kumo/internal/identity"
	"github.com/kumo-cloud/kumo/internal/store"
)

// keyOwner resolves the user a key action is about: the named user, or the
// caller itself (” = root) when none is named. The user must exist.
func (s *Service) keyOwner(ctx context.Context, name *string) (identity.Principal, string, error) {
	p, err := caller(ctx)
	if err != nil {
		return p, "", err
	}
	if name == nil || *name == "" {
		return p, p.UserName, nil
	}
	var u store.User
	err = s.Identity.DB.View(ctx, func(ctx context.Context, tx *store.Tx) (err error) {
		u, err = tx.GetUser(ctx, p.AccountID, *name)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return p, "", noSuchEntity("The user with name %s cannot be found.", *name)
	}
	return p, u.Name, err
}

func optionalName(name string) *string {
	if name == "" {
		return nil
	}
	return &name
}

// CreateAccessKey makes a key for a user (or the caller), at most two each.
func (s *Service) CreateAccessKey(ctx context.Context, in *iamapi.CreateAccessKeyRequest) (*iamapi.CreateAccessKeyResponse, error) {
	p, owner, err := s.keyOwner(ctx, in.UserName)
	if err != nil {
		return nil, err
	}
	key, err := s.Identity.CreateAccessKey(ctx, p.AccountID, owner)
	if errors.Is(err, identity.ErrKeyLimit) {
		return nil, awsapi.NewError("LimitExceeded", http.StatusConflict, "Cannot exceed quota for AccessKeysPerUser: %d", identity.MaxKeysPerOwner)
	}
	if err != nil {
		return nil, err
	}
	return &iamapi.CreateAccessKeyResponse{AccessKey: &iamapi.AccessKey{
		UserName: optionalName(owner), AccessKeyId: ptr(key.ID), Status: ptr(key.Status), SecretAccessKey: ptr(key.Secret), CreateDate: &key.CreatedAt,
	}}, nil
}

// ListAccessKeys lists a user's keys, without secrets.
func (s *Service) ListAccessKeys(ctx context.Context, in *iamapi.ListAccessKeysRequest) (*iamapi.ListAccessKeysResponse, error) {
	p, owner, err := s.keyOwner(ctx, in.UserName)
	if err != nil {
		return nil, err
	}
	var keys []store.AccessKey
	err = s.Identity.DB.View(ctx, func(ctx context.Context, tx *store.Tx) (err error) {
		keys, err = tx.ListAccessKeys(ctx, p.AccountID, owner)
		return err
	})
	if err != nil {
		return nil, err
	}
	page, marker, err := pageByMarker(keys, func(k store.AccessKey) string { return k.ID }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamapi.ListAccessKeysResponse{AccessKeyMetadata: []iamapi.AccessKeyMetadata{}, IsTruncated: ptr(marker != nil), Marker: marker}
	for _, k := range page {
		out.AccessKeyMetadata = append(out.AccessKeyMetadata, iamapi.AccessKeyMetadata{
			UserName: optionalName(owner), AccessKeyId: ptr(k.ID), Status: ptr(k.Status), CreateDate: ptr(k.CreatedAt),
		})
	}
	return out, nil
}

// UpdateAccessKey activates or deactivates a key.
func (s *Service) UpdateAccessKey(ctx context.Context, in *iamapi.UpdateAccessKeyRequest) (*iamapi.UpdateAccessKeyOutput, error) {
	status := deref(in.Status)
	if status != identity.StatusActive && status != identity.StatusInactive {
		return nil, validation("1 validation error detected: Value '%s' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]", status)
	}
	p, owner, err := s.keyOwner(ctx, in.UserName)
	if err != nil {
		return nil, err
	}
	err = s.Identity.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		return tx.SetAccessKeyStatus(ctx, p.AccountID, owner, deref(in.AccessKeyId), status)
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, noSuchEntity("The Access Key with id %s cannot be found.", deref(in.AccessKeyId))
	}
	return &iamapi.UpdateAccessKeyOutput{}, err
}

// DeleteAccessKey removes a key for good.
func (s *Service) DeleteAccessKey(ctx context.Context, in *iamapi.DeleteAccessKeyRequest) (*iamapi.DeleteAccessKeyOutput, error) {
	p, owner, err := s.keyOwner(ctx, in.UserName)
	if err != nil {
		return nil, err
	}
	err = s.Identity.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		return tx.DeleteAccessKey(ctx, p.AccountID, owner, deref(in.AccessKeyId))
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, noSuchEntity("The Access Key with id %s cannot be found.", deref(in.AccessKeyId))
	}
	return &iamapi.DeleteAccessKeyOutput{}, err
}

// pageByMarker implements IAM's Marker/MaxItems paging (default 100, 1-1000).
func pageByMarker[T any](items []T, key func(T) string, marker *string, maxItems *int32) ([]T, *string, error) {
	sort.SliceStable(items, func(i, j int) bool { return key(items[i]) < key(items[j]) })
	max := int32(100)
	if maxItems != nil {
		if *maxItems < 1 || *maxItems > 1000 {
			return nil, nil, validation("1 validation error detected: Value '%d' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000", *maxItems)
		}
		max = *maxItems
	}
	start := 0
	if marker != nil && *marker != "" {
		after, err := base64.RawURLEncoding.DecodeString(*marker)
		if err != nil {
			return nil, nil, validation("Invalid Marker.")
		}
		start = sort.Search(len(items), func(i int) bool { return key(items[i]) > string(after) })
	}
	rest := items[start:]
	if len(rest) <= int(max) {
		return rest, nil, nil
	}
	next := base64.RawURLEncoding.EncodeToString([]byte(key(rest[max-1])))
	return rest[:max], &next, nil
}
