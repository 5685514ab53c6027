package keypair

import (
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/ssh"
)

// MaxMaterialSize caps the public key material Import reads. EC2 documents
// no limit; a 4096-bit RSA key takes under 1 KiB in any accepted encoding.
const MaxMaterialSize = 16 << 10

// The RSA sizes EC2 documents for imported keys are 1024, 2048 and 4096
// bits; sizes in between (ssh-keygen's default 3072) are accepted too.
const (
	minRSABits = 1024
	maxRSABits = 4096
)

const (
	rfc4716Begin = "---- BEGIN SSH2 PUBLIC KEY ----"
	rfc4716End   = "---- END SSH2 PUBLIC KEY ----"
)

// Import parses public key material the way ImportKeyPair accepts it, after
// the API's own base64 is removed: an OpenSSH authorized_keys line (comment
// optional, no options), or, for RSA only, DER SubjectPublicKeyInfo (raw,
// base64, or PEM "PUBLIC KEY") or an RFC 4716 SSH2 public key file. Only RSA
// of 1024 to 4096 bits and ED25519 keys are accepted. Every failure wraps
// ErrInvalidKeyFormat and says why.
func Import(material []byte) (*Imported, error) {
	key, err := parsePublicKey(material)
	if err != nil {
		return nil, err
	}
	switch key.Type() {
	case ssh.KeyAlgoRSA:
		return describeRSA(key)
	case ssh.KeyAlgoED25519:
		return &Imported{KeyType: ED25519, Fingerprint: ed25519Fingerprint(key), PublicKey: authorizedKey(key)}, nil
	default:
		return nil, unsupportedType(key.Type())
	}
}

func describeRSA(key ssh.PublicKey) (*Imported, error) {
	cryptoKey, ok := key.(ssh.CryptoPublicKey)
	if !ok {
		return nil, invalidf("rsa key of unexpected form %T", key)
	}
	public, ok := cryptoKey.CryptoPublicKey().(*rsa.PublicKey)
	if !ok {
		return nil, invalidf("rsa key of unexpected form %T", cryptoKey.CryptoPublicKey())
	}
	if bits := public.N.BitLen(); bits < minRSABits || bits > maxRSABits {
		return nil, invalidf("rsa key is %d bits; EC2 accepts %d to %d", bits, minRSABits, maxRSABits)
	}
	if public.E < 3 || public.E%2 == 0 {
		return nil, invalidf("rsa public exponent %d is not an odd number of at least 3", public.E)
	}
	fingerprint, err := importedRSAFingerprint(public)
	if err != nil {
		return nil, invalidf("%v", err)
	}
	return &Imported{KeyType: RSA, Fingerprint: fingerprint, PublicKey: authorizedKey(key)}, nil
}

// parsePublicKey recognises the encoding of material and decodes it.
func parsePublicKey(material []byte) (ssh.PublicKey, error) {
	switch {
	case len(material) == 0:
		return nil, invalidf("key material is empty")
	case len(material) > MaxMaterialSize:
		return nil, invalidf("key material is %d bytes; the limit is %d", len(material), MaxMaterialSize)
	case material[0] == 0x30: // an ASN.1 SEQUENCE: DER sent as binary
		return parseDER(material)
	case !utf8.Valid(material) || strings.ContainsRune(string(material), 0):
		return nil, invalidf("key material is neither text nor DER")
	}
	text := strings.TrimSpace(normalizeNewlines(string(material)))
	switch {
	case text == "":
		return nil, invalidf("key material is blank")
	case strings.HasPrefix(text, "---- BEGIN "):
		return parseRFC4716(text)
	case strings.HasPrefix(text, "-----BEGIN "):
		return parsePEM(text)
	case strings.HasPrefix(text, "PuTTY-User-Key-File-"):
		return nil, privateKeyError("a PuTTY private key file")
	case strings.ContainsAny(text, " \t") || looksLikeKeyType(text):
		return parseAuthorizedKey(text)
	default:
		return parseBase64DER(text)
	}
}

// looksLikeKeyType tells an OpenSSH key type name, as "ssh-rsa" or
// "ecdsa-sha2-nistp256", from base64 (which has no '-').
func looksLikeKeyType(text string) bool {
	return strings.HasPrefix(text, "ssh-") || strings.HasPrefix(text, "ecdsa-") || strings.HasPrefix(text, "sk-")
}

// parseAuthorizedKey reads one "<type> <base64> [comment]" line.
func parseAuthorizedKey(line string) (ssh.PublicKey, error) {
	if strings.Contains(line, "\n") {
		return nil, invalidf("expected one OpenSSH public key line, found several lines")
	}
	fields := strings.Fields(line)
	if fields[0] != ssh.KeyAlgoRSA && fields[0] != ssh.KeyAlgoED25519 {
		return nil, unsupportedType(fields[0])
	}
	if len(fields) < 2 {
		return nil, invalidf("%s line has no key data", fields[0])
	}
	blob, err := base64.StdEncoding.DecodeString(fields[1])
	if err != nil {
		return nil, invalidf("%s key data is not base64: %v", fields[0], err)
	}
	key, err := parseSSHBlob(blob)
	if err != nil {
		return nil, err
	}
	if key.Type() != fields[0] {
		return nil, invalidf("line names %s but its key data is %s", fields[0], key.Type())
	}
	return key, nil
}

// parseRFC4716 reads an SSH2 public key file (RFC 4716): BEGIN line,
// headers with backslash continuations, base64 body, END line. EC2 takes
// only RSA keys in this form.
func parseRFC4716(text string) (ssh.PublicKey, error) {
	lines := strings.Split(text, "\n")
	if strings.Contains(lines[0], "PRIVATE KEY") {
		return nil, privateKeyError("an SSH2 private key file")
	}
	if strings.TrimSpace(lines[0]) != rfc4716Begin {
		return nil, invalidf("expected %q as the first line", rfc4716Begin)
	}
	if len(lines) < 2 || strings.TrimSpace(lines[len(lines)-1]) != rfc4716End {
		return nil, invalidf("SSH2 public key file does not end with %q", rfc4716End)
	}
	body, err := skipRFC4716Headers(lines[1 : len(lines)-1])
	if err != nil {
		return nil, err
	}
	if len(body) == 0 {
		return nil, invalidf("SSH2 public key file has no key data")
	}
	blob, err := base64.StdEncoding.DecodeString(joinTrimmed(body))
	if err != nil {
		return nil, invalidf("SSH2 public key body is not base64: %v", err)
	}
	key, err := parseSSHBlob(blob)
	if err != nil {
		return nil, err
	}
	if key.Type() != ssh.KeyAlgoRSA {
		return nil, rsaOnly("SSH2 public key file (RFC 4716)", key.Type())
	}
	return key, nil
}

// skipRFC4716Headers returns the lines after the "Tag: value" headers.
// Base64 has no colon, so a line with one is a header; a header ending in a
// backslash continues on the next line.
func skipRFC4716Headers(lines []string) ([]string, error) {
	i := 0
	for i < len(lines) && strings.Contains(lines[i], ":") {
		for strings.HasSuffix(strings.TrimSpace(lines[i]), `\`) {
			i++
			if i == len(lines) {
				return nil, invalidf("SSH2 public key header continues past the end of the file")
			}
		}
		i++
	}
	return lines[i:], nil
}

// parsePEM reads a PEM "PUBLIC KEY" block holding DER SubjectPublicKeyInfo.
func parsePEM(text string) (ssh.PublicKey, error) {
	block, rest := pem.Decode([]byte(text))
	switch {
	case block == nil:
		return nil, invalidf("malformed PEM block")
	case strings.Contains(block.Type, "PRIVATE KEY"):
		return nil, privateKeyError(fmt.Sprintf("a PEM %q block", block.Type))
	case block.Type != "PUBLIC KEY":
		return nil, invalidf("PEM block %q is not a PUBLIC KEY", block.Type)
	case len(block.Headers) > 0:
		return nil, invalidf("PEM PUBLIC KEY block has headers")
	case strings.TrimSpace(string(rest)) != "":
		return nil, invalidf("unexpected data after the PEM block")
	}
	return parseDER(block.Bytes)
}

// parseBase64DER reads base64 DER, possibly wrapped over several lines.
func parseBase64DER(text string) (ssh.PublicKey, error) {
	der, err := base64.StdEncoding.DecodeString(joinTrimmed(strings.Split(text, "\n")))
	if err != nil {
		return nil, invalidf("not an OpenSSH public key line, and not base64 DER: %v", err)
	}
	return parseDER(der)
}

// parseDER reads DER SubjectPublicKeyInfo; EC2 takes only RSA keys so.
func parseDER(der []byte) (ssh.PublicKey, error) {
	public, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, invalidf("not DER SubjectPublicKeyInfo: %v", err)
	}
	switch public.(type) {
	case *rsa.PublicKey:
	case ed25519.PublicKey:
		return nil, rsaOnly("DER format", ssh.KeyAlgoED25519)
	default:
		return nil, invalidf("DER public key of type %T is not supported; EC2 accepts RSA and ED25519", public)
	}
	key, err := ssh.NewPublicKey(public)
	if err != nil {
		return nil, invalidf("%v", err)
	}
	return key, nil
}

// parseSSHBlob decodes an SSH wire-format public key.
func parseSSHBlob(blob []byte) (ssh.PublicKey, error) {
	key, err := ssh.ParsePublicKey(blob)
	if err != nil {
		return nil, invalidf("key data does not parse: %v", err)
	}
	return key, nil
}

func normalizeNewlines(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

func joinTrimmed(lines []string) string {
	var b strings.Builder
	for _, line := range lines {
		b.WriteString(strings.TrimSpace(line))
	}
	return b.String()
}

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidKeyFormat, fmt.Sprintf(format, args...))
}

func unsupportedType(keyType string) error {
	return invalidf("key type %q is not supported; EC2 accepts ssh-rsa and ssh-ed25519 keys", keyType)
}

func rsaOnly(encoding, keyType string) error {
	return invalidf("%s keys are not accepted in %s, which EC2 takes for RSA keys only", keyType, encoding)
}

func privateKeyError(what string) error {
	return invalidf("this is %s; import only the public key", what)
}
