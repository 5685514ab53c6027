// Package awspolicies holds the AWS managed policies Kumo offers under
// arn:aws:iam::aws:policy/…: the ones people attach by ARN. Their documents
// are embedded, written to match AWS's published versions, except
// ReadOnlyAccess, whose AWS version lists hundreds of services: Kumo's
// grants the read actions of the services Kumo implements (EC2, IAM, S3, STS).
package awspolicies

import (
	"embed"
	"fmt"
	"slices"
	"strings"
	"time"
)

//go:embed documents/*.json
var documents embed.FS

// ARNPrefix starts the ARN of every AWS managed policy.
const ARNPrefix = "arn:aws:iam::aws:policy/"

// Policy is one AWS managed policy, at its default version.
type Policy struct {
	Name        string
	ID          string // AWS's policy id
	Path        string
	Description string
	Version     string // the default version id
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Document    string
}

// ARN is the policy's ARN.
func (p Policy) ARN() string { return "arn:aws:iam::aws:policy" + p.Path + p.Name }

func day(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(fmt.Sprintf("awspolicies: bad date %q", s))
	}
	return t
}

// catalog is the metadata AWS publishes for each policy.
var catalog = []Policy{
	{Name: "AdministratorAccess", ID: "ANPAIWMBCKSKIEE64ZLYK", Version: "v1", CreatedAt: day("2015-02-06T18:39:46Z"), UpdatedAt: day("2015-02-06T18:39:46Z"),
		Description: "Provides full access to AWS services and resources."},
	{Name: "PowerUserAccess", ID: "ANPAJYRXTHIB4FOVS3ZXS", Version: "v12", CreatedAt: day("2015-02-06T18:39:47Z"), UpdatedAt: day("2026-02-12T17:59:00Z"),
		Description: "Provides full access to AWS services and resources, but does not allow management of Users and groups."},
	{Name: "ReadOnlyAccess", ID: "ANPAILL3HVNFSB6DCOWYQ", Version: "v1", CreatedAt: day("2015-02-06T18:39:48Z"), UpdatedAt: day("2015-02-06T18:39:48Z"),
		Description: "Provides read-only access to AWS services and resources."},
	{Name: "AmazonEC2FullAccess", ID: "ANPAI3VAJF5ZCRZ7MCQE6", Version: "v5", CreatedAt: day("2015-02-06T18:40:15Z"), UpdatedAt: day("2018-11-27T02:16:56Z"),
		Description: "Provides full access to Amazon EC2 via the AWS Management Console."},
	{Name: "AmazonEC2ReadOnlyAccess", ID: "ANPAIGDT4SV4GSETWTBZK", Version: "v1", CreatedAt: day("2015-02-06T18:40:17Z"), UpdatedAt: day("2015-02-06T18:40:17Z"),
		Description: "Provides read only access to Amazon EC2 via the AWS Management Console."},
	{Name: "AmazonS3FullAccess", ID: "ANPAIFIR6V6BVTRAHWINE", Version: "v2", CreatedAt: day("2015-02-06T18:40:58Z"), UpdatedAt: day("2021-09-27T20:16:37Z"),
		Description: "Provides full access to all buckets via the AWS Management Console."},
	{Name: "AmazonS3ReadOnlyAccess", ID: "ANPAIZTJ4DXE7G6AGAE6M", Version: "v3", CreatedAt: day("2015-02-06T18:40:59Z"), UpdatedAt: day("2023-08-10T21:31:00Z"),
		Description: "Provides read only access to all buckets via the AWS Management Console."},
	{Name: "IAMFullAccess", ID: "ANPAI7XKCFMBPM3QQRRVQ", Version: "v2", CreatedAt: day("2015-02-06T18:40:38Z"), UpdatedAt: day("2019-06-21T19:40:00Z"),
		Description: "Provides full access to IAM via the AWS Management Console."},
}

// All returns every AWS managed policy Kumo offers, sorted by name.
func All() []Policy {
	out := make([]Policy, 0, len(catalog))
	for _, p := range catalog {
		doc, err := documents.ReadFile("documents/" + p.Name + ".json")
		if err != nil {
			panic("awspolicies: missing document of " + p.Name)
		}
		p.Path, p.Document = "/", string(doc)
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Policy) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Get finds an AWS managed policy by ARN.
func Get(arn string) (Policy, bool) {
	if !strings.HasPrefix(arn, ARNPrefix) {
		return Policy{}, false
	}
	for _, p := range All() {
		if p.ARN() == arn {
			return p, true
		}
	}
	return Policy{}, false
}
