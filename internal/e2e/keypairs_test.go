package e2e_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"golang.org/x/crypto/ssh"

	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// colonHex20 is EC2's fingerprint of an RSA key it created: a SHA-1 as 20
// colon-separated hex bytes.
var colonHex20 = regexp.MustCompile(`^([0-9a-f]{2}:){19}[0-9a-f]{2}$`)

// TestKeyPairs covers CreateKeyPair (types and formats), ImportKeyPair,
// DescribeKeyPairs and DeleteKeyPair.
func TestKeyPairs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		_, acct := start(t, b)
		c := acct.EC2

		t.Run("create rsa pem", func(t *testing.T) {
			k, err := c.CreateKeyPair(t.Context(), &ec2.CreateKeyPairInput{KeyName: aws.String("rsa-pem"),
				TagSpecifications: tagSpec(types.ResourceTypeKeyPair, "owner", "ops")})
			noErr(t, err)
			material := aws.ToString(k.KeyMaterial)
			if !strings.HasPrefix(material, "-----BEGIN RSA PRIVATE KEY-----") {
				t.Fatalf("KeyMaterial starts %.40q, want an RSA PEM", material)
			}
			fp := aws.ToString(k.KeyFingerprint)
			if !colonHex20.MatchString(fp) {
				t.Errorf("fingerprint %q is not 20 colon-separated hex bytes", fp)
			}
			// EC2's fingerprint of a key it made: SHA-1 of the PKCS#8 DER private key.
			block, _ := pem.Decode([]byte(material))
			priv, err := x509.ParsePKCS1PrivateKey(block.Bytes)
			noErr(t, err)
			der, err := x509.MarshalPKCS8PrivateKey(priv)
			noErr(t, err)
			sum := sha1.Sum(der)
			if want := colonHexOf(sum[:]); fp != want {
				t.Errorf("fingerprint %s, want SHA-1 of the PKCS#8 key %s", fp, want)
			}
			if !strings.HasPrefix(aws.ToString(k.KeyPairId), "key-") || tagsOf(k.Tags)["owner"] != "ops" {
				t.Errorf("key pair id %s tags %v", aws.ToString(k.KeyPairId), tagsOf(k.Tags))
			}
		})

		t.Run("create ed25519 and ppk", func(t *testing.T) {
			ed, err := c.CreateKeyPair(t.Context(), &ec2.CreateKeyPairInput{KeyName: aws.String("ed"), KeyType: types.KeyTypeEd25519})
			noErr(t, err)
			if !strings.HasPrefix(aws.ToString(ed.KeyMaterial), "-----BEGIN OPENSSH PRIVATE KEY-----") {
				t.Errorf("ed25519 KeyMaterial starts %.40q", aws.ToString(ed.KeyMaterial))
			}
			signer, err := ssh.ParsePrivateKey([]byte(aws.ToString(ed.KeyMaterial)))
			noErr(t, err)
			if want := sshFingerprint(signer.PublicKey()); aws.ToString(ed.KeyFingerprint) != want {
				t.Errorf("ed25519 fingerprint %s, want %s", aws.ToString(ed.KeyFingerprint), want)
			}
			for _, kt := range []types.KeyType{types.KeyTypeRsa, types.KeyTypeEd25519} {
				k, err := c.CreateKeyPair(t.Context(), &ec2.CreateKeyPairInput{KeyName: aws.String("ppk-" + string(kt)), KeyType: kt, KeyFormat: types.KeyFormatPpk})
				noErr(t, err)
				if !strings.HasPrefix(aws.ToString(k.KeyMaterial), "PuTTY-User-Key-File-") {
					t.Errorf("%s ppk KeyMaterial starts %.40q", kt, aws.ToString(k.KeyMaterial))
				}
			}
		})

		t.Run("create errors", func(t *testing.T) {
			_, err := c.CreateKeyPair(t.Context(), &ec2.CreateKeyPairInput{KeyName: aws.String("rsa-pem")})
			wantCode(t, err, "InvalidKeyPair.Duplicate")
			_, err = c.CreateKeyPair(t.Context(), &ec2.CreateKeyPairInput{KeyName: aws.String("dsa"), KeyType: "dsa"})
			wantCode(t, err, "InvalidParameterValue")
			_, err = c.CreateKeyPair(t.Context(), &ec2.CreateKeyPairInput{KeyName: aws.String("der"), KeyFormat: "der"})
			wantCode(t, err, "InvalidParameterValue")
			_, err = c.CreateKeyPair(t.Context(), &ec2.CreateKeyPairInput{KeyName: aws.String(strings.Repeat("k", 256))})
			wantCode(t, err, "InvalidParameterValue")
		})

		pub, _, err := ed25519.GenerateKey(rand.Reader)
		noErr(t, err)
		sshPub, err := ssh.NewPublicKey(pub)
		noErr(t, err)
		authorized := ssh.MarshalAuthorizedKey(sshPub) // "ssh-ed25519 AAAA...\n"

		t.Run("import", func(t *testing.T) {
			material := append([]byte(strings.TrimSpace(string(authorized))), " me@laptop\n"...)
			out, err := c.ImportKeyPair(t.Context(), &ec2.ImportKeyPairInput{KeyName: aws.String("imported"), PublicKeyMaterial: material,
				TagSpecifications: tagSpec(types.ResourceTypeKeyPair, "source", "laptop")})
			noErr(t, err)
			if want := sshFingerprint(sshPub); aws.ToString(out.KeyFingerprint) != want {
				t.Errorf("imported fingerprint %s, want %s (base64 SHA-256 of the key blob, padded)", aws.ToString(out.KeyFingerprint), want)
			}
			if !strings.HasPrefix(aws.ToString(out.KeyPairId), "key-") {
				t.Errorf("imported key pair id %q", aws.ToString(out.KeyPairId))
			}
			_, err = c.ImportKeyPair(t.Context(), &ec2.ImportKeyPairInput{KeyName: aws.String("imported"), PublicKeyMaterial: authorized})
			wantCode(t, err, "InvalidKeyPair.Duplicate")
			for _, garbage := range []string{"garbage", "ssh-ed25519 not-base64!", "ssh-rsa AAAAB3NzaC1yc2E=", ""} {
				_, err = c.ImportKeyPair(t.Context(), &ec2.ImportKeyPairInput{KeyName: aws.String("garbage"), PublicKeyMaterial: []byte(garbage)})
				if garbage == "" {
					if err == nil {
						t.Error("importing empty key material succeeded")
					}
					continue
				}
				wantCode(t, err, "InvalidKey.Format")
			}
		})

		t.Run("describe", func(t *testing.T) {
			out, err := c.DescribeKeyPairs(t.Context(), &ec2.DescribeKeyPairsInput{KeyNames: []string{"imported"}, IncludePublicKey: aws.Bool(true)})
			noErr(t, err)
			if len(out.KeyPairs) != 1 {
				t.Fatalf("KeyNames=[imported]: got %d key pairs", len(out.KeyPairs))
			}
			k := out.KeyPairs[0]
			if k.KeyType != types.KeyTypeEd25519 || !strings.HasPrefix(aws.ToString(k.PublicKey), strings.TrimSpace(string(authorized))) ||
				tagsOf(k.Tags)["source"] != "laptop" || k.CreateTime == nil {
				t.Errorf("described key = type %s public %q tags %v created %v", k.KeyType, aws.ToString(k.PublicKey), tagsOf(k.Tags), k.CreateTime)
			}
			out, err = c.DescribeKeyPairs(t.Context(), &ec2.DescribeKeyPairsInput{KeyNames: []string{"imported"}})
			noErr(t, err)
			if out.KeyPairs[0].PublicKey != nil {
				t.Error("the public key is returned without IncludePublicKey")
			}
			_, err = c.DescribeKeyPairs(t.Context(), &ec2.DescribeKeyPairsInput{KeyNames: []string{"nobody"}})
			wantCode(t, err, "InvalidKeyPair.NotFound")
			_, err = c.DescribeKeyPairs(t.Context(), &ec2.DescribeKeyPairsInput{KeyPairIds: []string{"key-0123456789abcdef0"}})
			wantCode(t, err, "InvalidKeyPair.NotFound")

			for _, tc := range []struct {
				name    string
				filters []types.Filter
				want    []string
			}{
				{"key-name", []types.Filter{filter("key-name", "ppk-*")}, []string{"ppk-ed25519", "ppk-rsa"}},
				{"key-type", []types.Filter{filter("key-type", "ed25519")}, []string{"ed", "imported", "ppk-ed25519"}},
				{"tag", []types.Filter{filter("tag:owner", "ops")}, []string{"rsa-pem"}},
				{"tag-key", []types.Filter{filter("tag-key", "source")}, []string{"imported"}},
			} {
				out, err := c.DescribeKeyPairs(t.Context(), &ec2.DescribeKeyPairsInput{Filters: tc.filters})
				noErr(t, err)
				if got := idsOf(out.KeyPairs, keyName); !slices.Equal(got, tc.want) {
					t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
				}
			}
		})

		t.Run("delete", func(t *testing.T) {
			all, err := c.DescribeKeyPairs(t.Context(), &ec2.DescribeKeyPairsInput{KeyNames: []string{"ed"}})
			noErr(t, err)
			edID := aws.ToString(all.KeyPairs[0].KeyPairId)

			_, err = c.DeleteKeyPair(t.Context(), &ec2.DeleteKeyPairInput{KeyName: aws.String("rsa-pem")})
			noErr(t, err)
			_, err = c.DescribeKeyPairs(t.Context(), &ec2.DescribeKeyPairsInput{KeyNames: []string{"rsa-pem"}})
			wantCode(t, err, "InvalidKeyPair.NotFound")
			// As AWS: deleting a name that does not exist succeeds.
			_, err = c.DeleteKeyPair(t.Context(), &ec2.DeleteKeyPairInput{KeyName: aws.String("rsa-pem")})
			noErr(t, err)

			out, err := c.DeleteKeyPair(t.Context(), &ec2.DeleteKeyPairInput{KeyPairId: aws.String(edID)})
			noErr(t, err)
			if aws.ToString(out.KeyPairId) != edID {
				t.Errorf("DeleteKeyPair by id returned id %q, want %s", aws.ToString(out.KeyPairId), edID)
			}
			_, err = c.DescribeKeyPairs(t.Context(), &ec2.DescribeKeyPairsInput{KeyPairIds: []string{edID}})
			wantCode(t, err, "InvalidKeyPair.NotFound")

			// The name is free again, and the tags of the deleted key are gone.
			_, err = c.CreateKeyPair(t.Context(), &ec2.CreateKeyPairInput{KeyName: aws.String("rsa-pem")})
			noErr(t, err)
			tags, err := c.DescribeTags(t.Context(), &ec2.DescribeTagsInput{Filters: []types.Filter{filter("key", "owner")}})
			noErr(t, err)
			if len(tags.Tags) != 0 {
				t.Errorf("tags of a deleted key pair remain: %+v", tags.Tags)
			}
		})
	})
}

// sshFingerprint is EC2's fingerprint of an ed25519 key: the padded
// base64 SHA-256 of the key blob (ssh-keygen's, without "SHA256:").
func sshFingerprint(k ssh.PublicKey) string {
	sum := sha256.Sum256(k.Marshal())
	return base64.StdEncoding.EncodeToString(sum[:])
}

// colonHexOf writes b as lowercase hex pairs joined by colons.
func colonHexOf(b []byte) string {
	parts := make([]string, len(b))
	for i := range b {
		parts[i] = hex.EncodeToString(b[i : i+1])
	}
	return strings.Join(parts, ":")
}
