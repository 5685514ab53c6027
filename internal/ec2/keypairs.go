package ec2

import (
	"context"
	"crypto/rand"
	"errors"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/ec2/filter"
	"github.com/kumo-cloud/kumo/internal/ids"
	"github.com/kumo-cloud/kumo/internal/keypair"
	"github.com/kumo-cloud/kumo/internal/store"
)

func validateKeyName(name string) error {
	if name == "" {
		return apiErr("MissingParameter", "The request must contain the parameter KeyName")
	}
	if len(name) > 255 {
		return invalid("Value for parameter KeyName is invalid. Length exceeds maximum of 255.")
	}
	for _, c := range name {
		if c < 0x20 || c > 0x7e {
			return invalid("Value (%q) for parameter KeyName is invalid. Key names may contain printable ASCII characters only.", name)
		}
	}
	return nil
}

// CreateKeyPair makes a key pair and returns its private half, once.
func (s *Service) CreateKeyPair(ctx context.Context, in *ec2api.CreateKeyPairRequest) (*ec2api.KeyPair, error) {
	name := deref(in.KeyName)
	if err := validateKeyName(name); err != nil {
		return nil, err
	}
	kt, format := keypair.KeyType(deref(in.KeyType)), keypair.Format(deref(in.KeyFormat))
	if kt == "" {
		kt = keypair.RSA
	}
	if format == "" {
		format = keypair.PEM
	}
	if kt != keypair.RSA && kt != keypair.ED25519 {
		return nil, invalid("Value (%s) for parameter KeyType is invalid. Valid values: rsa, ed25519.", kt)
	}
	if format != keypair.PEM && format != keypair.PPK {
		return nil, invalid("Value (%s) for parameter KeyFormat is invalid. Valid values: pem, ppk.", format)
	}
	tags, err := specTags(in.TagSpecifications, typeKeyPair)
	if err != nil {
		return nil, err
	}
	created, err := keypair.Create(kt, format, rand.Reader)
	if err != nil {
		return nil, err
	}
	row := store.KeyPair{ID: ids.Resource("key"), Name: name, KeyType: string(kt), Fingerprint: created.Fingerprint, PublicKey: created.PublicKey, CreatedAt: time.Now().UTC()}
	rows, err := s.insertKeyPair(ctx, row, tags)
	if err != nil {
		return nil, err
	}
	return &ec2api.KeyPair{KeyName: str(name), KeyPairId: str(row.ID), KeyFingerprint: str(row.Fingerprint), KeyMaterial: str(created.KeyMaterial), Tags: apiTags(rows)}, nil
}

func (s *Service) insertKeyPair(ctx context.Context, row store.KeyPair, tags []ec2api.Tag) ([]store.Tag, error) {
	var rows []store.Tag
	err := s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		row.AccountID = account
		if err := tx.InsertKeyPair(ctx, row); errors.Is(err, store.ErrConflict) {
			return apiErr("InvalidKeyPair.Duplicate", "The keypair '%s' already exists.", row.Name)
		} else if err != nil {
			return err
		}
		var err error
		rows, err = putTags(ctx, tx, account, row.ID, typeKeyPair, tags)
		return err
	})
	return rows, err
}

// ImportKeyPair stores a public key the user made.
func (s *Service) ImportKeyPair(ctx context.Context, in *ec2api.ImportKeyPairRequest) (*ec2api.ImportKeyPairResult, error) {
	name := deref(in.KeyName)
	if err := validateKeyName(name); err != nil {
		return nil, err
	}
	tags, err := specTags(in.TagSpecifications, typeKeyPair)
	if err != nil {
		return nil, err
	}
	if len(in.PublicKeyMaterial) == 0 {
		return nil, apiErr("MissingParameter", "The request must contain the parameter PublicKeyMaterial")
	}
	imported, err := keypair.Import(in.PublicKeyMaterial)
	if err != nil {
		return nil, apiErr("InvalidKey.Format", "Key is not in valid OpenSSH public key format")
	}
	row := store.KeyPair{ID: ids.Resource("key"), Name: name, KeyType: string(imported.KeyType), Fingerprint: imported.Fingerprint, PublicKey: imported.PublicKey, CreatedAt: time.Now().UTC()}
	rows, err := s.insertKeyPair(ctx, row, tags)
	if err != nil {
		return nil, err
	}
	return &ec2api.ImportKeyPairResult{KeyName: str(name), KeyPairId: str(row.ID), KeyFingerprint: str(row.Fingerprint), Tags: apiTags(rows)}, nil
}

var keyPairFields = filter.Fields[store.KeyPair]{
	"key-pair-id": func(k store.KeyPair) []string { return filter.One(k.ID) },
	"fingerprint": func(k store.KeyPair) []string { return filter.One(k.Fingerprint) },
	"key-name":    func(k store.KeyPair) []string { return filter.One(k.Name) },
	"key-type":    func(k store.KeyPair) []string { return filter.One(k.KeyType) },
}

// DescribeKeyPairs lists the caller's key pairs (EC2 does not paginate them).
func (s *Service) DescribeKeyPairs(ctx context.Context, in *ec2api.DescribeKeyPairsRequest) (*ec2api.DescribeKeyPairsResult, error) {
	keys, tags, err := listTagged(ctx, s, typeKeyPair, func(tx *store.Tx) func(context.Context, string) ([]store.KeyPair, error) { return tx.ListKeyPairs })
	if err != nil {
		return nil, err
	}
	keys, err = selectByID(keys, in.KeyPairIds, func(k store.KeyPair) string { return k.ID }, func(id string) error {
		return apiErr("InvalidKeyPair.NotFound", "The key pair ID '%s' does not exist", id)
	})
	if err != nil {
		return nil, err
	}
	keys, err = selectByID(keys, in.KeyNames, func(k store.KeyPair) string { return k.Name }, errKeyPairNotFound)
	if err != nil {
		return nil, err
	}
	page, _, err := describe(keys, in.Filters, keyPairFields, func(k store.KeyPair) map[string]string { return tagMap(tags[k.ID]) },
		func(k store.KeyPair) string { return k.ID }, nil, nil, noPaging)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeKeyPairsResult{KeyPairs: []ec2api.KeyPairInfo{}}
	for _, k := range page {
		info := ec2api.KeyPairInfo{KeyPairId: str(k.ID), KeyName: str(k.Name), KeyFingerprint: str(k.Fingerprint),
			KeyType: str(k.KeyType), CreateTime: timep(k.CreatedAt), Tags: apiTags(tags[k.ID])}
		if deref2(in.IncludePublicKey) {
			info.PublicKey = str(k.PublicKey)
		}
		if info.Tags == nil {
			info.Tags = []ec2api.Tag{}
		}
		out.KeyPairs = append(out.KeyPairs, info)
	}
	return out, nil
}

// DeleteKeyPair removes a key pair by name or id; like AWS it succeeds when
// there is nothing to delete.
func (s *Service) DeleteKeyPair(ctx context.Context, in *ec2api.DeleteKeyPairRequest) (*ec2api.DeleteKeyPairResult, error) {
	if in.KeyName == nil && in.KeyPairId == nil {
		return nil, apiErr("MissingParameter", "The request must contain the parameter KeyName or KeyPairId")
	}
	var deleted string
	err := s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		keys, err := tx.ListKeyPairs(ctx, account)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if (in.KeyPairId != nil && k.ID == *in.KeyPairId) || (in.KeyPairId == nil && k.Name == deref(in.KeyName)) {
				deleted = k.ID
				return tx.DeleteKeyPair(ctx, account, k.ID)
			}
		}
		if in.KeyPairId != nil {
			return apiErr("InvalidKeyPair.NotFound", "The key pair ID '%s' does not exist", *in.KeyPairId)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DeleteKeyPairResult{Return: boolp(true), KeyPairId: optional(deleted)}, nil
}
