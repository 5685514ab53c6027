package imds

import (
	"encoding/json"
	"time"
)

// IAM is the instance profile of an instance and the temporary
// credentials of its role, as the node agent last fetched them.
type IAM struct {
	InstanceProfileARN string
	InstanceProfileID  string
	RoleName           string
	// Credentials are the role's; the zero value (not fetched yet, or
	// the server could not issue them) leaves security-credentials/
	// empty, so SDKs retry rather than use stale keys.
	Credentials IAMCredentials
}

// IAMCredentials are a role session's temporary credentials.
type IAMCredentials struct {
	AccessKeyID, SecretAccessKey, Token string
	Expiration                          time.Time
	// LastUpdated is when the node fetched them.
	LastUpdated time.Time
}

// imdsTime is the timestamp format of the credential documents.
const imdsTime = "2006-01-02T15:04:05Z"

// iamInfo is iam/info as AWS serves it.
type iamInfo struct {
	Code               string
	LastUpdated        string
	InstanceProfileArn string
	InstanceProfileId  string
}

// iamCredentials is iam/security-credentials/<role>, the document
// botocore's InstanceMetadataFetcher and the CLI read (they require
// AccessKeyId, SecretAccessKey, Token and Expiration).
type iamCredentials struct {
	Code            string
	LastUpdated     string
	Type            string
	AccessKeyId     string
	SecretAccessKey string
	Token           string
	Expiration      string
}

// iamDir fills meta-data/iam/ for an instance with a profile.
func iamDir(md *node, p *IAM) {
	d := md.dir("iam")
	updated := p.Credentials.LastUpdated.UTC().Format(imdsTime)
	d.blob("info", jsonDoc(iamInfo{Code: "Success", LastUpdated: updated, InstanceProfileArn: p.InstanceProfileARN, InstanceProfileId: p.InstanceProfileID}))
	creds := d.dir("security-credentials")
	c := p.Credentials
	if c.AccessKeyID == "" || p.RoleName == "" {
		return
	}
	creds.blob(p.RoleName, jsonDoc(iamCredentials{Code: "Success", LastUpdated: updated, Type: "AWS-HMAC",
		AccessKeyId: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, Token: c.Token, Expiration: c.Expiration.UTC().Format(imdsTime)}))
}

// jsonDoc formats a document as AWS does: two-space indentation.
func jsonDoc(v any) []byte {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic(err) // plain structs of strings always marshal
	}
	return b
}
