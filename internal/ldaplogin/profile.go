package ldaplogin

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ProcessOutput is the credential_process JSON the AWS CLI and SDKs read.
func ProcessOutput(r Response) ([]byte, error) {
	return json.MarshalIndent(struct {
		Version         int
		AccessKeyId     string
		SecretAccessKey string
		SessionToken    string
		Expiration      string
	}{1, r.AccessKeyID, r.SecretAccessKey, r.SessionToken, r.Expiration.UTC().Format(time.RFC3339)}, "", "  ")
}

// WriteProfile sets [profile] in an AWS shared credentials file, keeping
// the other profiles and lines as they are.
func WriteProfile(path, profile string, r Response) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("read %s: %w", path, err)
	}
	section := []string{"[" + profile + "]",
		"aws_access_key_id = " + r.AccessKeyID,
		"aws_secret_access_key = " + r.SecretAccessKey,
		"aws_session_token = " + r.SessionToken,
		"# kumo login: " + r.RoleArn + " until " + r.Expiration.UTC().Format(time.RFC3339)}
	out := replaceSection(strings.Split(strings.TrimRight(string(old), "\n"), "\n"), profile, section)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".kumo-tmp"
	if err := os.WriteFile(tmp, []byte(strings.Join(out, "\n")+"\n"), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// replaceSection swaps the lines of [name] (up to the next section) for
// section, or appends section.
func replaceSection(lines []string, name string, section []string) []string {
	var out []string
	in, done := false, false
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") {
			in = strings.TrimSpace(t[1:len(t)-1]) == name
			if in {
				out = append(out, section...)
				done = true
				continue
			}
		}
		if !in && !(len(out) == 0 && t == "") {
			out = append(out, l)
		}
	}
	if !done {
		if len(out) > 0 {
			out = append(out, "")
		}
		out = append(out, section...)
	}
	return out
}

// CredentialsFile is where the AWS CLI reads credentials from.
func CredentialsFile() (string, error) {
	if p := os.Getenv("AWS_SHARED_CREDENTIALS_FILE"); p != "" {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find ~/.aws/credentials: %w", err)
	}
	return filepath.Join(home, ".aws", "credentials"), nil
}
