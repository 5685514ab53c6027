package iam

import (
	"context"
	"unicode/utf8"

	"github.com/kumo-cloud/kumo/internal/awsapi/iamapi"
	"github.com/kumo-cloud/kumo/internal/store"
)

// Tag resource types of IAM entities in the store's tags table.
const (
	tagUser   = "iam-user"
	tagRole   = "iam-role"
	tagPolicy = "iam-policy"
)

// checkTags validates tags given to a create or Tag* call: at most 50,
// keys 1-128 characters, values up to 256.
func checkTags(tags []iamapi.Tag) error {
	if len(tags) > maxTagsPerThing {
		return limitExceeded("The number of tags has reached the maximum limit.")
	}
	seen := map[string]bool{}
	for _, t := range tags {
		k, v := deref(t.Key), deref(t.Value)
		if n := utf8.RuneCountInString(k); n < 1 || n > 128 {
			return validation("1 validation error detected: Value '%s' at 'tags.member.key' failed to satisfy constraint: Member must have length between 1 and 128", k)
		}
		if utf8.RuneCountInString(v) > 256 {
			return validation("1 validation error detected: Value at 'tags.member.value' failed to satisfy constraint: Member must have length less than or equal to 256")
		}
		if seen[k] {
			return invalidInput("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[k] = true
	}
	return nil
}

// putTags stores tags on an entity and returns them as stored.
func putTags(ctx context.Context, tx *store.Tx, account, resourceID, resourceType string, tags []iamapi.Tag) ([]store.Tag, error) {
	var out []store.Tag
	for _, t := range tags {
		row := store.Tag{AccountID: account, ResourceID: resourceID, ResourceType: resourceType, Key: deref(t.Key), Value: deref(t.Value)}
		if err := tx.PutTag(ctx, row); err != nil {
			return nil, err
		}
		out = append(out, row)
	}
	return out, nil
}

// tagsOf returns one entity's tags, by key.
func tagsOf(ctx context.Context, tx *store.Tx, account, resourceType, resourceID string) ([]store.Tag, error) {
	byRes, err := tx.TagsByResource(ctx, account, resourceType)
	return byRes[resourceID], err
}
