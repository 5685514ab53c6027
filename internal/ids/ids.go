// Package ids makes the identifiers Kumo hands out, shaped like AWS's so
// tools that validate them accept them. Uniqueness is enforced by the
// database's primary keys; these are only the random candidates.
package ids

import (
	"crypto/rand"
	"encoding/hex"
	"math/big"
	"strings"
)

// Resource returns prefix-<17 lowercase hex>, e.g. sg-0a1b2c3d4e5f60718.
func Resource(prefix string) string {
	var b [9]byte
	fill(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])[:17]
}

// Account returns a 12-digit account id that does not start with 0.
func Account() string {
	n, err := rand.Int(rand.Reader, big.NewInt(900_000_000_000))
	if err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return big.NewInt(0).Add(n, big.NewInt(100_000_000_000)).String()
}

const upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

// AccessKeyID returns a long-term access key id: AKIA + 16 characters.
func AccessKeyID() string { return "AKIA" + randomFrom(upperAlnum, 16) }

// UserID returns an IAM user's unique id: AIDA + 17 characters.
func UserID() string { return "AIDA" + randomFrom(upperAlnum, 17) }

// GroupID returns an IAM group's unique id: AGPA + 17 characters.
func GroupID() string { return "AGPA" + randomFrom(upperAlnum, 17) }

// RoleID returns an IAM role's unique id: AROA + 17 characters.
func RoleID() string { return "AROA" + randomFrom(upperAlnum, 17) }

// PolicyID returns a managed policy's unique id: ANPA + 17 characters.
func PolicyID() string { return "ANPA" + randomFrom(upperAlnum, 17) }

// InstanceProfileID returns an instance profile's unique id: AIPA + 17 characters.
func InstanceProfileID() string { return "AIPA" + randomFrom(upperAlnum, 17) }

// SecretAccessKey returns a 40-character secret.
func SecretAccessKey() string {
	return randomFrom("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40)
}

// Token returns n random bytes as hex, for bearer tokens.
func Token(n int) string {
	b := make([]byte, n)
	fill(b)
	return hex.EncodeToString(b)
}

// RequestID returns a UUID-shaped request id, as AWS's.
func RequestID() string {
	var b [16]byte
	fill(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func randomFrom(alphabet string, n int) string {
	b := make([]byte, n)
	fill(b)
	var sb strings.Builder
	for _, c := range b {
		sb.WriteByte(alphabet[int(c)%len(alphabet)])
	}
	return sb.String()
}

func fill(b []byte) {
	if _, err := rand.Read(b); err != nil {
		// crypto/rand never fails on Linux; a failure means the system is unusable.
		panic("crypto/rand failed: " + err.Error())
	}
}
