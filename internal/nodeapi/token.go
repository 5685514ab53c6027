package nodeapi

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// JoinToken bootstraps a node: the hash pins the server's CA before the node
// trusts anything it says; ID and Secret authenticate the node to the server.
type JoinToken struct {
	CAHash string // hex sha256 of the CA certificate's DER
	ID     string // public half, the row key in node_join_tokens
	Secret string // private half; the server stores only its hash
}

const tokenVersion = "K1"

// ErrBadToken: a join token that is not K1.<hash>.<id>.<secret>.
var ErrBadToken = errors.New("malformed join token (want K1.<ca sha256>.<id>.<secret>)")

var (
	hexHash   = regexp.MustCompile(`^[0-9a-f]{64}$`)
	tokenPart = regexp.MustCompile(`^[0-9a-z]{6,64}$`)
)

// NewJoinToken makes a random token for a CA of the given hash.
func NewJoinToken(caHash string) JoinToken {
	return JoinToken{CAHash: caHash, ID: randomHex(6), Secret: randomHex(16)}
}

// ParseJoinToken splits and checks a token's text.
func ParseJoinToken(s string) (JoinToken, error) {
	parts := strings.Split(strings.TrimSpace(s), ".")
	if len(parts) != 4 || parts[0] != tokenVersion || !hexHash.MatchString(parts[1]) ||
		!tokenPart.MatchString(parts[2]) || !tokenPart.MatchString(parts[3]) {
		return JoinToken{}, ErrBadToken
	}
	return JoinToken{CAHash: parts[1], ID: parts[2], Secret: parts[3]}, nil
}

// String is the token as `kumo admin node token` prints it.
func (t JoinToken) String() string {
	return strings.Join([]string{tokenVersion, t.CAHash, t.ID, t.Secret}, ".")
}

// HashSecret is what the server stores for a token's secret.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// SecretMatches compares a secret with a stored hash in constant time.
func SecretMatches(secret, hash string) bool {
	return subtle.ConstantTimeCompare([]byte(HashSecret(secret)), []byte(hash)) == 1
}

// CAHash is the hex sha256 of a certificate's DER, as tokens carry it.
func CAHash(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return hex.EncodeToString(sum[:])
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return hex.EncodeToString(b)
}
