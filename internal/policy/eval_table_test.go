package policy

import (
	"fmt"
	"strings"
	"testing"
)

// evalCase is one request against a set of policies, from the examples
// of AWS's pages "Policy evaluation logic", "Policy evaluation for
// requests within a single account", "Cross-account policy evaluation
// logic", "Permissions boundaries for IAM entities", "Session policies",
// "IAM JSON policy elements: NotAction / NotResource / NotPrincipal /
// Principal / Resource", "Policy variables" and S3's bucket policy
// examples. want is describe()'s form: the outcome and the statement
// that made it.
type evalCase struct {
	name     string
	identity []string
	resource []string
	boundary string
	session  []string
	trust    bool // resource holds a role trust policy
	who      Principal
	action   string
	res      string // "" = "*"
	owner    string // resource account; "" = the principal's
	ctx      []string
	want     string
}

// stmt writes a statement. A "!" before action or resource makes it
// NotAction / NotResource; "" leaves the resource out (trust policies).
// Values starting with [ are lists. more are extra raw members.
func stmt(effect, action, resource string, more ...string) string {
	parts := []string{`"Effect":"` + effect + `"`, element("Action", action)}
	if resource != "" {
		parts = append(parts, element("Resource", resource))
	}
	parts = append(parts, more...)
	return "{" + strings.Join(parts, ",") + "}"
}

func element(name, v string) string {
	if strings.HasPrefix(v, "!") {
		name, v = "Not"+name, v[1:]
	}
	if !strings.HasPrefix(v, "[") {
		v = `"` + v + `"`
	}
	return `"` + name + `":` + v
}

func doc(stmts ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
}

func sid(s string) string          { return `"Sid":"` + s + `"` }
func cond(c string) string         { return `"Condition":` + c }
func principal(p string) string    { return `"Principal":` + p }
func notPrincipal(p string) string { return `"NotPrincipal":` + p }

const (
	instA     = "arn:aws:ec2:us-east-1:111122223333:instance/i-0123456789abcdef0"
	instB     = "arn:aws:ec2:us-east-1:444455556666:instance/i-0fedcba9876543210"
	bucket    = "arn:aws:s3:::amzn-s3-demo-bucket"
	objectARN = "arn:aws:s3:::amzn-s3-demo-bucket/reports/2026.csv"
	roleDev   = "arn:aws:iam::111122223333:role/Dev"
)

var (
	allowAll     = doc(stmt("Allow", "*", "*"))
	allowS3      = doc(stmt("Allow", "s3:*", "*"))
	allowEC2     = doc(stmt("Allow", "ec2:*", "*"))
	allowAssume  = doc(stmt("Allow", "sts:AssumeRole", roleDev))
	denyAll      = doc(stmt("Deny", "*", "*"))
	publicRead   = doc(stmt("Allow", "s3:GetObject", bucket+"/*", principal(`"*"`)))
	bucketForB   = doc(stmt("Allow", "s3:*", `["`+bucket+`","`+bucket+`/*"]`, principal(`{"AWS":"444455556666"}`)))
	bucketForBob = doc(stmt("Allow", "s3:GetObject", bucket+"/*", principal(`{"AWS":"arn:aws:iam::444455556666:user/bob"}`)))
)

var evalCases = []evalCase{
	// Implicit deny, allow, explicit deny (Policy evaluation logic).
	{name: "no policy: implicit deny", who: alice, action: "ec2:DescribeInstances", want: "implicit identity-based"},
	{name: "allow", identity: []string{allowEC2}, who: alice, action: "ec2:DescribeInstances", want: "allow I0.0"},
	{name: "allow everything", identity: []string{allowAll}, who: alice, action: "iam:CreateUser", res: "arn:aws:iam::111122223333:user/x", want: "allow I0.0"},
	{name: "deny beats allow in another policy", identity: []string{allowAll, denyAll}, who: alice, action: "s3:GetObject", res: objectARN, want: "deny I1.0"},
	{name: "deny beats allow in the same policy", identity: []string{doc(stmt("Allow", "ec2:*", "*"), stmt("Deny", "ec2:TerminateInstances", "*"))}, who: alice, action: "ec2:TerminateInstances", res: instA, want: "deny I0.1"},
	{name: "deny for another action leaves the allow", identity: []string{doc(stmt("Allow", "ec2:*", "*"), stmt("Deny", "ec2:TerminateInstances", "*"))}, who: alice, action: "ec2:StopInstances", res: instA, want: "allow I0.0"},
	{name: "group policy allows", identity: []string{doc(stmt("Allow", "s3:ListBucket", bucket)), doc(stmt("Allow", "ec2:StopInstances", "*"))}, who: alice, action: "ec2:StopInstances", res: instA, want: "allow I1.0"},
	{name: "first allowing statement is reported", identity: []string{doc(stmt("Allow", "ec2:Describe*", "*", sid("Describe")), stmt("Allow", "ec2:*", "*"))}, who: alice, action: "ec2:DescribeVpcs", want: "allow I0.0"},
	{name: "action not allowed", identity: []string{allowS3}, who: alice, action: "ec2:DescribeInstances", want: "implicit identity-based"},
	{name: "resource not allowed", identity: []string{doc(stmt("Allow", "s3:GetObject", "arn:aws:s3:::other/*"))}, who: alice, action: "s3:GetObject", res: objectARN, want: "implicit identity-based"},
	{name: "deny with unmet condition does not apply", identity: []string{allowAll, doc(stmt("Deny", "*", "*", cond(`{"Bool":{"aws:SecureTransport":"false"}}`)))}, who: alice, action: "s3:GetObject", res: objectARN, ctx: []string{"aws:SecureTransport=true"}, want: "allow I0.0"},
	{name: "deny with met condition applies", identity: []string{allowAll, doc(stmt("Deny", "*", "*", cond(`{"Bool":{"aws:SecureTransport":"false"}}`)))}, who: alice, action: "s3:GetObject", res: objectARN, ctx: []string{"aws:SecureTransport=false"}, want: "deny I1.0"},
	{name: "only deny statements", identity: []string{doc(stmt("Deny", "s3:DeleteBucket", "*"))}, who: alice, action: "s3:GetObject", res: objectARN, want: "implicit identity-based"},
	{name: "nil context", identity: []string{doc(stmt("Allow", "ec2:*", "*", cond(`{"StringEquals":{"ec2:Region":"us-east-1"}}`)))}, who: alice, action: "ec2:RunInstances", res: instA, want: "implicit identity-based"},
	// Action matching: case-insensitive, * and ?.
	{name: "action case-insensitive", identity: []string{doc(stmt("Allow", "EC2:describeinstances", "*"))}, who: alice, action: "ec2:DescribeInstances", want: "allow I0.0"},
	{name: "request action case", identity: []string{doc(stmt("Allow", "ec2:DescribeInstances", "*"))}, who: alice, action: "EC2:DESCRIBEINSTANCES", want: "allow I0.0"},
	{name: "prefix wildcard", identity: []string{doc(stmt("Allow", "ec2:Describe*", "*"))}, who: alice, action: "ec2:DescribeSecurityGroups", want: "allow I0.0"},
	{name: "prefix wildcard does not match others", identity: []string{doc(stmt("Allow", "ec2:Describe*", "*"))}, who: alice, action: "ec2:DeleteVpc", res: "arn:aws:ec2:us-east-1:111122223333:vpc/vpc-1", want: "implicit identity-based"},
	{name: "infix wildcard", identity: []string{doc(stmt("Allow", "iam:*AccessKey*", "*"))}, who: alice, action: "iam:ListAccessKeys", want: "allow I0.0"},
	{name: "suffix wildcard", identity: []string{doc(stmt("Allow", "ec2:*Instances", "*"))}, who: alice, action: "ec2:StopInstances", res: instA, want: "allow I0.0"},
	{name: "question mark", identity: []string{doc(stmt("Allow", "ec2:?topInstances", "*"))}, who: alice, action: "ec2:StopInstances", res: instA, want: "allow I0.0"},
	{name: "question mark is one character", identity: []string{doc(stmt("Allow", "ec2:?topInstances", "*"))}, who: alice, action: "ec2:StartInstances", res: instA, want: "implicit identity-based"},
	{name: "service wildcard does not cross services", identity: []string{allowEC2}, who: alice, action: "s3:GetObject", res: objectARN, want: "implicit identity-based"},
	{name: "action list", identity: []string{doc(stmt("Allow", `["ec2:StartInstances","ec2:StopInstances"]`, "*"))}, who: alice, action: "ec2:StopInstances", res: instA, want: "allow I0.0"},
	{name: "action list miss", identity: []string{doc(stmt("Allow", `["ec2:StartInstances","ec2:StopInstances"]`, "*"))}, who: alice, action: "ec2:RebootInstances", res: instA, want: "implicit identity-based"},
	{name: "whole action needed", identity: []string{doc(stmt("Allow", "ec2:Stop", "*"))}, who: alice, action: "ec2:StopInstances", res: instA, want: "implicit identity-based"},
	// Resource matching (IAM JSON policy elements: Resource).
	{name: "objectARN wildcard spans slashes", identity: []string{doc(stmt("Allow", "s3:GetObject", bucket+"/*"))}, who: alice, action: "s3:GetObject", res: objectARN, want: "allow I0.0"},
	{name: "bucket ARN is not its objects", identity: []string{doc(stmt("Allow", "s3:GetObject", bucket))}, who: alice, action: "s3:GetObject", res: objectARN, want: "implicit identity-based"},
	{name: "objects are not the bucket", identity: []string{doc(stmt("Allow", "s3:ListBucket", bucket+"/*"))}, who: alice, action: "s3:ListBucket", res: bucket, want: "implicit identity-based"},
	{name: "resource list", identity: []string{doc(stmt("Allow", "s3:*", `["`+bucket+`","`+bucket+`/*"]`))}, who: alice, action: "s3:ListBucket", res: bucket, want: "allow I0.0"},
	{name: "all users path", identity: []string{doc(stmt("Allow", "iam:GetUser", "arn:aws:iam::111122223333:user/*"))}, who: alice, action: "iam:GetUser", res: "arn:aws:iam::111122223333:user/division_abc/subdivision_xyz/carol", want: "allow I0.0"},
	{name: "users under a path", identity: []string{doc(stmt("Allow", "iam:GetUser", "arn:aws:iam::111122223333:user/division_abc/*"))}, who: alice, action: "iam:GetUser", res: "arn:aws:iam::111122223333:user/division_abc/subdivision_xyz/carol", want: "allow I0.0"},
	{name: "users under another path", identity: []string{doc(stmt("Allow", "iam:GetUser", "arn:aws:iam::111122223333:user/division_def/*"))}, who: alice, action: "iam:GetUser", res: "arn:aws:iam::111122223333:user/division_abc/subdivision_xyz/carol", want: "implicit identity-based"},
	{name: "any region and account", identity: []string{doc(stmt("Allow", "ec2:StopInstances", "arn:aws:ec2:*:*:instance/*"))}, who: alice, action: "ec2:StopInstances", res: instA, want: "allow I0.0"},
	{name: "region mismatch", identity: []string{doc(stmt("Allow", "ec2:StopInstances", "arn:aws:ec2:us-west-2:111122223333:instance/*"))}, who: alice, action: "ec2:StopInstances", res: instA, want: "implicit identity-based"},
	{name: "region with question mark", identity: []string{doc(stmt("Allow", "ec2:StopInstances", "arn:aws:ec2:us-east-?:111122223333:instance/*"))}, who: alice, action: "ec2:StopInstances", res: instA, want: "allow I0.0"},
	{name: "account mismatch", identity: []string{doc(stmt("Allow", "ec2:StopInstances", "arn:aws:ec2:us-east-1:444455556666:instance/*"))}, who: alice, action: "ec2:StopInstances", res: instA, want: "implicit identity-based"},
	{name: "resource type mismatch", identity: []string{doc(stmt("Allow", "ec2:AttachVolume", "arn:aws:ec2:*:*:volume/*"))}, who: alice, action: "ec2:AttachVolume", res: instA, want: "implicit identity-based"},
	{name: "one instance", identity: []string{doc(stmt("Allow", "ec2:StopInstances", instA))}, who: alice, action: "ec2:StopInstances", res: instA, want: "allow I0.0"},
	{name: "ARN is case-sensitive", identity: []string{doc(stmt("Allow", "s3:GetObject", "arn:aws:s3:::AMZN-S3-DEMO-BUCKET/*"))}, who: alice, action: "s3:GetObject", res: objectARN, want: "implicit identity-based"},
	{name: "wildcard does not span segments", identity: []string{doc(stmt("Allow", "ec2:StopInstances", "arn:aws:ec2:us-*:instance/*:*:*"))}, who: alice, action: "ec2:StopInstances", res: instA, want: "implicit identity-based"},
	{name: "empty region matched by star", identity: []string{doc(stmt("Allow", "s3:ListBucket", "arn:aws:s3:*:*:amzn-s3-demo-bucket"))}, who: alice, action: "s3:ListBucket", res: bucket, want: "allow I0.0"},
	{name: "action without resource type needs star", identity: []string{doc(stmt("Allow", "ec2:DescribeInstances", "arn:aws:ec2:*:*:instance/*"))}, who: alice, action: "ec2:DescribeInstances", want: "implicit identity-based"},
	{name: "arn:aws:s3:::* covers every bucket and objectARN", identity: []string{doc(stmt("Allow", "s3:*", "arn:aws:s3:::*"))}, who: alice, action: "s3:GetObject", res: objectARN, want: "allow I0.0"},
	{name: "bucket name prefix", identity: []string{doc(stmt("Allow", "s3:*", "arn:aws:s3:::amzn-s3-*"))}, who: alice, action: "s3:ListBucket", res: bucket, want: "allow I0.0"},
	{name: "resource with colons in its last segment", identity: []string{doc(stmt("Allow", "sns:Publish", "arn:aws:sns:us-east-1:111122223333:topic:*"))}, who: alice, action: "sns:Publish", res: "arn:aws:sns:us-east-1:111122223333:topic:sub-1", want: "allow I0.0"},
	// NotAction (IAM JSON policy elements: NotAction).
	{name: "allow NotAction iam: other services allowed", identity: []string{doc(stmt("Allow", "!iam:*", "*"))}, who: alice, action: "ec2:RunInstances", res: instA, want: "allow I0.0"},
	{name: "allow NotAction iam: IAM not allowed", identity: []string{doc(stmt("Allow", "!iam:*", "*"))}, who: alice, action: "iam:CreateUser", res: "arn:aws:iam::111122223333:user/x", want: "implicit identity-based"},
	{name: "NotAction list", identity: []string{doc(stmt("Allow", `!["iam:*","sts:*"]`, "*"))}, who: alice, action: "sts:GetCallerIdentity", want: "implicit identity-based"},
	{name: "NotAction s3:DeleteBucket on all buckets: get allowed", identity: []string{doc(stmt("Allow", "!s3:DeleteBucket", "arn:aws:s3:::*"))}, who: alice, action: "s3:GetObject", res: objectARN, want: "allow I0.0"},
	{name: "NotAction s3:DeleteBucket: delete not allowed", identity: []string{doc(stmt("Allow", "!s3:DeleteBucket", "arn:aws:s3:::*"))}, who: alice, action: "s3:DeleteBucket", res: bucket, want: "implicit identity-based"},
	{name: "NotAction with a resource limits the resource", identity: []string{doc(stmt("Allow", "!s3:DeleteBucket", "arn:aws:s3:::*"))}, who: alice, action: "ec2:DescribeInstances", want: "implicit identity-based"},
	{name: "deny NotAction iam without MFA: EC2 denied", identity: []string{allowAll, doc(stmt("Deny", "!iam:*", "*", cond(`{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}`)))}, who: alice, action: "ec2:RunInstances", res: instA, want: "deny I1.0"},
	{name: "deny NotAction iam without MFA: IAM not denied", identity: []string{allowAll, doc(stmt("Deny", "!iam:*", "*", cond(`{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}`)))}, who: alice, action: "iam:ListUsers", want: "allow I0.0"},
	{name: "deny NotAction iam with MFA: EC2 allowed", identity: []string{allowAll, doc(stmt("Deny", "!iam:*", "*", cond(`{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}`)))}, who: alice, action: "ec2:RunInstances", res: instA, ctx: []string{"aws:MultiFactorAuthPresent=true"}, want: "allow I0.0"},
	{name: "deny NotAction with wildcard", identity: []string{allowAll, doc(stmt("Deny", `!["s3:Get*","s3:List*"]`, bucket+"/*"))}, who: alice, action: "s3:PutObject", res: objectARN, want: "deny I1.0"},
	{name: "deny NotAction with wildcard spares reads", identity: []string{allowAll, doc(stmt("Deny", `!["s3:Get*","s3:List*"]`, bucket+"/*"))}, who: alice, action: "s3:GetObject", res: objectARN, want: "allow I0.0"},
	// NotResource.
	{name: "deny NotResource: other buckets denied", identity: []string{allowS3, doc(stmt("Deny", "s3:*", `!["arn:aws:s3:::HRBucket/Payroll","arn:aws:s3:::HRBucket/Payroll/*"]`))}, who: alice, action: "s3:GetObject", res: objectARN, want: "deny I1.0"},
	{name: "deny NotResource: payroll not denied", identity: []string{allowS3, doc(stmt("Deny", "s3:*", `!["arn:aws:s3:::HRBucket/Payroll","arn:aws:s3:::HRBucket/Payroll/*"]`))}, who: alice, action: "s3:GetObject", res: "arn:aws:s3:::HRBucket/Payroll/jan.csv", want: "allow I0.0"},
	{name: "allow NotResource", identity: []string{doc(stmt("Allow", "s3:*", "!arn:aws:s3:::secret/*"))}, who: alice, action: "s3:GetObject", res: objectARN, want: "allow I0.0"},
	{name: "allow NotResource excludes", identity: []string{doc(stmt("Allow", "s3:*", "!arn:aws:s3:::secret/*"))}, who: alice, action: "s3:GetObject", res: "arn:aws:s3:::secret/x", want: "implicit identity-based"},
	{name: "NotResource matches star resource", identity: []string{doc(stmt("Allow", "ec2:*", "!arn:aws:ec2:*:*:instance/*"))}, who: alice, action: "ec2:DescribeInstances", want: "allow I0.0"},
	{name: "NotAction and NotResource together", identity: []string{doc(stmt("Allow", "!iam:*", "!arn:aws:s3:::secret/*"))}, who: alice, action: "s3:GetObject", res: "arn:aws:s3:::secret/x", want: "implicit identity-based"},
	// Policy variables in Resource.
	{name: "home folder", identity: []string{doc(stmt("Allow", "s3:*", "arn:aws:s3:::amzn-s3-demo-bucket/home/${aws:username}/*"))}, who: alice, action: "s3:GetObject", res: bucket + "/home/alice/notes.txt", ctx: []string{"aws:username=alice"}, want: "allow I0.0"},
	{name: "someone else's home folder", identity: []string{doc(stmt("Allow", "s3:*", "arn:aws:s3:::amzn-s3-demo-bucket/home/${aws:username}/*"))}, who: alice, action: "s3:GetObject", res: bucket + "/home/bob/notes.txt", ctx: []string{"aws:username=alice"}, want: "implicit identity-based"},
	{name: "variable with no value: statement does not apply", identity: []string{doc(stmt("Allow", "s3:*", "arn:aws:s3:::amzn-s3-demo-bucket/home/${aws:username}/*"))}, who: devA, action: "s3:GetObject", res: bucket + "/home/alice/notes.txt", want: "implicit identity-based"},
	{name: "variable with no value: deny NotResource does not apply", identity: []string{allowS3, doc(stmt("Deny", "s3:*", "!arn:aws:s3:::amzn-s3-demo-bucket/home/${aws:username}/*"))}, who: devA, action: "s3:GetObject", res: bucket + "/other", want: "allow I0.0"},
	{name: "variable default value", identity: []string{doc(stmt("Allow", "s3:*", "arn:aws:s3:::amzn-s3-demo-bucket/home/${aws:username, 'shared'}/*"))}, who: devA, action: "s3:GetObject", res: bucket + "/home/shared/x", want: "allow I0.0"},
	{name: "variable key case-insensitive", identity: []string{doc(stmt("Allow", "s3:*", "arn:aws:s3:::amzn-s3-demo-bucket/home/${AWS:UserName}/*"))}, who: alice, action: "s3:GetObject", res: bucket + "/home/alice/x", ctx: []string{"aws:username=alice"}, want: "allow I0.0"},
	{name: "variable value is literal", identity: []string{doc(stmt("Allow", "s3:*", "arn:aws:s3:::amzn-s3-demo-bucket/home/${aws:username}/*"))}, who: alice, action: "s3:GetObject", res: bucket + "/home/alice/x", ctx: []string{"aws:username=*"}, want: "implicit identity-based"},
	{name: "principal tag variable", identity: []string{doc(stmt("Allow", "s3:*", "arn:aws:s3:::amzn-s3-demo-bucket/${aws:PrincipalTag/team}/*"))}, who: devA, action: "s3:PutObject", res: bucket + "/blue/x", ctx: []string{"aws:PrincipalTag/team=blue"}, want: "allow I0.0"},
	{name: "userid variable", identity: []string{doc(stmt("Allow", "s3:*", "arn:aws:s3:::amzn-s3-demo-bucket/${aws:userid}/*"))}, who: devA, action: "s3:PutObject", res: bucket + "/AROAEXAMPLE:alice/x", ctx: []string{"aws:userid=AROAEXAMPLE:alice"}, want: "allow I0.0"},
	{name: "${*} is a literal star", identity: []string{doc(stmt("Allow", "s3:*", "arn:aws:s3:::amzn-s3-demo-bucket/${*}"))}, who: alice, action: "s3:GetObject", res: bucket + "/x", want: "implicit identity-based"},
	{name: "${*} matches a key named *", identity: []string{doc(stmt("Allow", "s3:*", "arn:aws:s3:::amzn-s3-demo-bucket/${*}"))}, who: alice, action: "s3:GetObject", res: bucket + "/*", want: "allow I0.0"},
	{name: "${?} is a literal question mark", identity: []string{doc(stmt("Allow", "s3:*", "arn:aws:s3:::amzn-s3-demo-bucket/a${?}"))}, who: alice, action: "s3:GetObject", res: bucket + "/ab", want: "implicit identity-based"},
	{name: "${$} is a literal dollar", identity: []string{doc(stmt("Allow", "s3:*", "arn:aws:s3:::amzn-s3-demo-bucket/${$}x"))}, who: alice, action: "s3:GetObject", res: bucket + "/$x", want: "allow I0.0"},
	{name: "2008 version: variables are literal", identity: []string{`{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/${aws:username}/*"}}`}, who: alice, action: "s3:GetObject", res: bucket + "/alice/x", ctx: []string{"aws:username=alice"}, want: "implicit identity-based"},
	{name: "2008 version: literal text matches", identity: []string{`{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/${aws:username}/*"}}`}, who: alice, action: "s3:GetObject", res: bucket + "/${aws:username}/x", want: "allow I0.0"},
	{name: "no version: variables are literal", identity: []string{`{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/${aws:username}/*"}}`}, who: alice, action: "s3:GetObject", res: bucket + "/alice/x", ctx: []string{"aws:username=alice"}, want: "implicit identity-based"},
	// Same account: identity-based and resource-based (Carlos example).
	{name: "bucket policy grants the user: no identity policy needed", resource: []string{doc(stmt("Allow", "s3:PutObject", bucket+"-carlossalazar-logs/*", principal(`{"AWS":"arn:aws:iam::111122223333:user/alice"}`)))}, who: alice, action: "s3:PutObject", res: bucket + "-carlossalazar-logs/x", want: "allow R0.0"},
	{name: "identity allows, bucket policy silent", identity: []string{doc(stmt("Allow", "s3:GetObject", bucket+"/*"))}, resource: []string{doc(stmt("Allow", "s3:PutObject", bucket+"/*", principal(`{"AWS":"arn:aws:iam::111122223333:user/alice"}`)))}, who: alice, action: "s3:GetObject", res: objectARN, want: "allow I0.0"},
	{name: "bucket policy denies the user", identity: []string{allowS3}, resource: []string{doc(stmt("Deny", "s3:*", bucket+"/*", principal(`{"AWS":"arn:aws:iam::111122223333:user/alice"}`)))}, who: alice, action: "s3:GetObject", res: objectARN, want: "deny R0.0"},
	{name: "bucket policy deny for another user", identity: []string{allowS3}, resource: []string{doc(stmt("Deny", "s3:*", bucket+"/*", principal(`{"AWS":"arn:aws:iam::111122223333:user/mallory"}`)))}, who: alice, action: "s3:GetObject", res: objectARN, want: "allow I0.0"},
	{name: "bucket policy names the account: delegation only", resource: []string{doc(stmt("Allow", "s3:GetObject", bucket+"/*", principal(`{"AWS":"111122223333"}`)))}, who: alice, action: "s3:GetObject", res: objectARN, want: "implicit identity-based"},
	{name: "bucket policy names the account, identity allows", identity: []string{allowS3}, resource: []string{doc(stmt("Allow", "s3:GetObject", bucket+"/*", principal(`{"AWS":"arn:aws:iam::111122223333:root"}`)))}, who: alice, action: "s3:GetObject", res: objectARN, want: "allow I0.0"},
	{name: "public bucket: any user of the account", resource: []string{publicRead}, who: alice, action: "s3:GetObject", res: objectARN, want: "allow R0.0"},
	{name: "public bucket: write not granted", resource: []string{publicRead}, who: alice, action: "s3:PutObject", res: objectARN, want: "implicit identity-based"},
	{name: "bucket policy with condition unmet", resource: []string{doc(stmt("Allow", "s3:GetObject", bucket+"/*", principal(`"*"`), cond(`{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}`)))}, who: alice, action: "s3:GetObject", res: objectARN, ctx: []string{"aws:SourceIp=198.51.100.7"}, want: "implicit identity-based"},
	{name: "bucket policy with condition met", resource: []string{doc(stmt("Allow", "s3:GetObject", bucket+"/*", principal(`"*"`), cond(`{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}`)))}, who: alice, action: "s3:GetObject", res: objectARN, ctx: []string{"aws:SourceIp=192.0.2.7"}, want: "allow R0.0"},
	{name: "bucket policy deny insecure transport", identity: []string{allowS3}, resource: []string{doc(stmt("Deny", "s3:*", `["`+bucket+`","`+bucket+`/*"]`, principal(`"*"`), cond(`{"Bool":{"aws:SecureTransport":"false"}}`)))}, who: alice, action: "s3:GetObject", res: objectARN, ctx: []string{"aws:SecureTransport=false"}, want: "deny R0.0"},
	{name: "bucket policy deny insecure transport: TLS passes", identity: []string{allowS3}, resource: []string{doc(stmt("Deny", "s3:*", `["`+bucket+`","`+bucket+`/*"]`, principal(`"*"`), cond(`{"Bool":{"aws:SecureTransport":"false"}}`)))}, who: alice, action: "s3:GetObject", res: objectARN, ctx: []string{"aws:SecureTransport=true"}, want: "allow I0.0"},
	{name: "identity deny beats bucket allow", identity: []string{doc(stmt("Deny", "s3:*", "*"))}, resource: []string{publicRead}, who: alice, action: "s3:GetObject", res: objectARN, want: "deny I0.0"},
	{name: "bucket policy names the role: session allowed", resource: []string{doc(stmt("Allow", "s3:GetObject", bucket+"/*", principal(`{"AWS":"`+roleDev+`"}`)))}, who: devA, action: "s3:GetObject", res: objectARN, want: "allow R0.0"},
	{name: "bucket policy names the session", resource: []string{doc(stmt("Allow", "s3:GetObject", bucket+"/*", principal(`{"AWS":"arn:aws:sts::111122223333:assumed-role/Dev/alice"}`)))}, who: devA, action: "s3:GetObject", res: objectARN, want: "allow R0.0"},
	{name: "bucket policy names another session", resource: []string{doc(stmt("Allow", "s3:GetObject", bucket+"/*", principal(`{"AWS":"arn:aws:sts::111122223333:assumed-role/Dev/bob"}`)))}, who: devA, action: "s3:GetObject", res: objectARN, want: "implicit identity-based"},
	{name: "bucket policy names another role", resource: []string{doc(stmt("Allow", "s3:GetObject", bucket+"/*", principal(`{"AWS":"arn:aws:iam::111122223333:role/Ops"}`)))}, who: devA, action: "s3:GetObject", res: objectARN, want: "implicit identity-based"},
	{name: "bucket policy names another user", resource: []string{doc(stmt("Allow", "s3:GetObject", bucket+"/*", principal(`{"AWS":"arn:aws:iam::111122223333:user/carol"}`)))}, who: alice, action: "s3:GetObject", res: objectARN, want: "implicit identity-based"},
	{name: "federated user named by the bucket", resource: []string{doc(stmt("Allow", "s3:GetObject", bucket+"/*", principal(`{"AWS":"arn:aws:sts::111122223333:federated-user/fred"}`)))}, who: fedA, session: []string{doc(stmt("Allow", "ec2:*", "*"))}, action: "s3:GetObject", res: objectARN, want: "allow R0.0"},
	{name: "service principal is not a user", resource: []string{doc(stmt("Allow", "s3:PutObject", bucket+"/*", principal(`{"Service":"logging.s3.amazonaws.com"}`)))}, who: alice, action: "s3:PutObject", res: objectARN, want: "implicit identity-based"},
	{name: "service principal", resource: []string{doc(stmt("Allow", "s3:PutObject", bucket+"/*", principal(`{"Service":"ec2.amazonaws.com"}`)))}, who: ec2Svc, action: "s3:PutObject", res: objectARN, owner: acctA, want: "allow R0.0"},
	{name: "service principal not named", resource: []string{publicRead}, who: ec2Svc, action: "s3:PutObject", res: objectARN, owner: acctA, want: "implicit resource-based"},
	{name: "resource policy list of principals", resource: []string{doc(stmt("Allow", "s3:GetObject", bucket+"/*", principal(`{"AWS":["arn:aws:iam::111122223333:user/carol","arn:aws:iam::111122223333:user/alice"]}`)))}, who: alice, action: "s3:GetObject", res: objectARN, want: "allow R0.0"},
	{name: "best grant wins: account then user", resource: []string{doc(stmt("Allow", "s3:GetObject", bucket+"/*", principal(`{"AWS":"111122223333"}`)), stmt("Allow", "s3:GetObject", bucket+"/*", principal(`{"AWS":"arn:aws:iam::111122223333:user/alice"}`)))}, who: alice, action: "s3:GetObject", res: objectARN, want: "allow R0.1"},
	// Permissions boundaries.
	{name: "boundary and identity allow", identity: []string{allowAll}, boundary: allowS3, who: alice, action: "s3:GetObject", res: objectARN, want: "allow I0.0"},
	{name: "boundary does not allow", identity: []string{allowAll}, boundary: allowS3, who: alice, action: "ec2:RunInstances", res: instA, want: "implicit permissions"},
	{name: "boundary alone grants nothing", boundary: allowAll, who: alice, action: "s3:GetObject", res: objectARN, want: "implicit identity-based"},
	{name: "boundary deny", identity: []string{allowAll}, boundary: doc(stmt("Allow", "*", "*"), stmt("Deny", "iam:*", "*")), who: alice, action: "iam:CreateUser", res: "arn:aws:iam::111122223333:user/x", want: "deny B0.1"},
	{name: "boundary with condition", identity: []string{allowAll}, boundary: doc(stmt("Allow", "ec2:*", "*", cond(`{"StringEquals":{"ec2:Region":"us-east-1"}}`))), who: alice, action: "ec2:RunInstances", res: instA, ctx: []string{"ec2:Region=us-west-2"}, want: "implicit permissions"},
	{name: "bucket names the user: boundary does not limit", boundary: allowEC2, resource: []string{doc(stmt("Allow", "s3:GetObject", bucket+"/*", principal(`{"AWS":"arn:aws:iam::111122223333:user/alice"}`)))}, who: alice, action: "s3:GetObject", res: objectARN, want: "allow R0.0"},
	{name: "bucket names the account: boundary limits", identity: []string{allowAll}, boundary: allowEC2, resource: []string{doc(stmt("Allow", "s3:GetObject", bucket+"/*", principal(`{"AWS":"111122223333"}`)))}, who: alice, action: "s3:GetObject", res: objectARN, want: "implicit permissions"},
	{name: "bucket names the role: boundary limits", identity: []string{allowAll}, boundary: allowEC2, resource: []string{doc(stmt("Allow", "s3:GetObject", bucket+"/*", principal(`{"AWS":"`+roleDev+`"}`)))}, who: devA, action: "s3:GetObject", res: objectARN, want: "implicit permissions"},
	{name: "bucket names the role: boundary allows", boundary: allowS3, resource: []string{doc(stmt("Allow", "s3:GetObject", bucket+"/*", principal(`{"AWS":"`+roleDev+`"}`)))}, who: devA, action: "s3:GetObject", res: objectARN, want: "allow R0.0"},
	{name: "bucket names the session: boundary does not limit", boundary: allowEC2, resource: []string{doc(stmt("Allow", "s3:GetObject", bucket+"/*", principal(`{"AWS":"arn:aws:sts::111122223333:assumed-role/Dev/alice"}`)))}, who: devA, action: "s3:GetObject", res: objectARN, want: "allow R0.0"},
	{name: "bucket deny beats boundary and identity", identity: []string{allowAll}, boundary: allowAll, resource: []string{doc(stmt("Deny", "s3:*", bucket+"/*", principal(`"*"`)))}, who: alice, action: "s3:GetObject", res: objectARN, want: "deny R0.0"},
	// Session policies.
	{name: "session and role allow", identity: []string{allowAll}, session: []string{allowS3}, who: devA, action: "s3:GetObject", res: objectARN, want: "allow I0.0"},
	{name: "session does not allow", identity: []string{allowAll}, session: []string{allowS3}, who: devA, action: "ec2:RunInstances", res: instA, want: "implicit session"},
	{name: "session alone grants nothing", session: []string{allowAll}, who: devA, action: "s3:GetObject", res: objectARN, want: "implicit identity-based"},
	{name: "session deny", identity: []string{allowAll}, session: []string{doc(stmt("Allow", "*", "*"), stmt("Deny", "s3:DeleteObject", "*"))}, who: devA, action: "s3:DeleteObject", res: objectARN, want: "deny S0.1"},
	{name: "second session policy allows", identity: []string{allowAll}, session: []string{allowEC2, allowS3}, who: devA, action: "s3:GetObject", res: objectARN, want: "allow I0.0"},
	{name: "boundary, session and role all allow", identity: []string{allowAll}, boundary: allowS3, session: []string{allowS3}, who: devA, action: "s3:GetObject", res: objectARN, want: "allow I0.0"},
	{name: "boundary allows, session does not", identity: []string{allowAll}, boundary: allowAll, session: []string{allowEC2}, who: devA, action: "s3:GetObject", res: objectARN, want: "implicit session"},
	{name: "bucket names the session: session policy does not limit", session: []string{allowEC2}, resource: []string{doc(stmt("Allow", "s3:GetObject", bucket+"/*", principal(`{"AWS":"arn:aws:sts::111122223333:assumed-role/Dev/alice"}`)))}, who: devA, action: "s3:GetObject", res: objectARN, want: "allow R0.0"},
	{name: "bucket names the role: session policy limits", identity: []string{allowAll}, session: []string{allowEC2}, resource: []string{doc(stmt("Allow", "s3:GetObject", bucket+"/*", principal(`{"AWS":"`+roleDev+`"}`)))}, who: devA, action: "s3:GetObject", res: objectARN, want: "implicit session"},
	{name: "bucket names the role: session policy allows", session: []string{allowS3}, resource: []string{doc(stmt("Allow", "s3:GetObject", bucket+"/*", principal(`{"AWS":"`+roleDev+`"}`)))}, who: devA, action: "s3:GetObject", res: objectARN, want: "allow R0.0"},
	// Cross-account.
	{name: "cross-account: both allow", identity: []string{allowS3}, resource: []string{bucketForB}, who: bob, action: "s3:GetObject", res: objectARN, owner: acctA, want: "allow I0.0"},
	{name: "cross-account: no bucket policy", identity: []string{allowS3}, who: bob, action: "s3:GetObject", res: objectARN, owner: acctA, want: "implicit resource-based"},
	{name: "cross-account: bucket policy alone is not enough", resource: []string{bucketForB}, who: bob, action: "s3:GetObject", res: objectARN, owner: acctA, want: "implicit identity-based"},
	{name: "cross-account: bucket names the user, identity allows", identity: []string{allowS3}, resource: []string{bucketForBob}, who: bob, action: "s3:GetObject", res: objectARN, owner: acctA, want: "allow I0.0"},
	{name: "cross-account: bucket names the user, no identity", resource: []string{bucketForBob}, who: bob, action: "s3:GetObject", res: objectARN, owner: acctA, want: "implicit identity-based"},
	{name: "cross-account: bucket names another account", identity: []string{allowS3}, resource: []string{doc(stmt("Allow", "s3:*", bucket+"/*", principal(`{"AWS":"999988887777"}`)))}, who: bob, action: "s3:GetObject", res: objectARN, owner: acctA, want: "implicit resource-based"},
	{name: "cross-account: bucket allows another action", identity: []string{allowS3}, resource: []string{bucketForBob}, who: bob, action: "s3:PutObject", res: objectARN, owner: acctA, want: "implicit resource-based"},
	{name: "cross-account: bucket deny", identity: []string{allowS3}, resource: []string{bucketForB, doc(stmt("Deny", "s3:DeleteObject", bucket+"/*", principal(`{"AWS":"444455556666"}`)))}, who: bob, action: "s3:DeleteObject", res: objectARN, owner: acctA, want: "deny R1.0"},
	{name: "cross-account: identity deny", identity: []string{allowS3, doc(stmt("Deny", "s3:*", "arn:aws:s3:::amzn-s3-demo-bucket/*"))}, resource: []string{bucketForB}, who: bob, action: "s3:GetObject", res: objectARN, owner: acctA, want: "deny I1.0"},
	{name: "cross-account: public bucket still needs identity", resource: []string{publicRead}, who: bob, action: "s3:GetObject", res: objectARN, owner: acctA, want: "implicit identity-based"},
	{name: "cross-account: public bucket and identity", identity: []string{allowS3}, resource: []string{publicRead}, who: bob, action: "s3:GetObject", res: objectARN, owner: acctA, want: "allow I0.0"},
	{name: "cross-account: other account's root", resource: []string{bucketForB}, who: rootB, action: "s3:GetObject", res: objectARN, owner: acctA, want: "allow R0.0"},
	{name: "cross-account: other root without bucket policy", who: rootB, action: "s3:GetObject", res: objectARN, owner: acctA, want: "implicit resource-based"},
	{name: "cross-account: other root named by user ARN only", resource: []string{bucketForBob}, who: rootB, action: "s3:GetObject", res: objectARN, owner: acctA, want: "implicit resource-based"},
	{name: "cross-account: session of a role named by the bucket", identity: []string{allowS3}, resource: []string{doc(stmt("Allow", "s3:GetObject", bucket+"/*", principal(`{"AWS":"arn:aws:iam::444455556666:role/Dev"}`)))}, who: devB, action: "s3:GetObject", res: objectARN, owner: acctA, want: "allow I0.0"},
	{name: "cross-account: boundary limits", identity: []string{allowS3}, boundary: allowEC2, resource: []string{bucketForB}, who: bob, action: "s3:GetObject", res: objectARN, owner: acctA, want: "implicit permissions"},
	{name: "cross-account: session policy limits", identity: []string{allowS3}, session: []string{allowEC2}, resource: []string{bucketForB}, who: devB, action: "s3:GetObject", res: objectARN, owner: acctA, want: "implicit session"},
	{name: "cross-account EC2 instance without resource policy", identity: []string{allowEC2}, who: bob, action: "ec2:StopInstances", res: instA, owner: acctA, want: "implicit resource-based"},
	{name: "own account named explicitly as owner", identity: []string{allowEC2}, who: bob, action: "ec2:StopInstances", res: instB, owner: acctB, want: "allow I0.0"},
	// The account root user.
	{name: "root: full access with no policy", who: rootA, action: "ec2:TerminateInstances", res: instA, want: "root"},
	{name: "root: IAM", who: rootA, action: "iam:CreateUser", res: "arn:aws:iam::111122223333:user/x", want: "root"},
	{name: "root: bucket policy deny applies", resource: []string{doc(stmt("Deny", "s3:GetObject", bucket+"/*", principal(`"*"`)))}, who: rootA, action: "s3:GetObject", res: objectARN, want: "deny R0.0"},
	{name: "root: bucket policy deny naming the account", resource: []string{doc(stmt("Deny", "s3:DeleteBucket", bucket, principal(`{"AWS":"111122223333"}`)))}, who: rootA, action: "s3:DeleteBucket", res: bucket, want: "deny R0.0"},
	{name: "root: bucket policy deny naming a user does not apply", resource: []string{doc(stmt("Deny", "s3:*", bucket+"/*", principal(`{"AWS":"arn:aws:iam::111122223333:user/alice"}`)))}, who: rootA, action: "s3:GetObject", res: objectARN, want: "root"},
	{name: "root: may always put the bucket policy", resource: []string{doc(stmt("Deny", "s3:*", `["`+bucket+`","`+bucket+`/*"]`, principal(`"*"`)))}, who: rootA, action: "s3:PutBucketPolicy", res: bucket, want: "root"},
	{name: "root: may always get the bucket policy", resource: []string{doc(stmt("Deny", "s3:*", `["`+bucket+`","`+bucket+`/*"]`, principal(`"*"`)))}, who: rootA, action: "s3:GetBucketPolicy", res: bucket, want: "root"},
	{name: "root: may always delete the bucket policy", resource: []string{doc(stmt("Deny", "s3:*", `["`+bucket+`","`+bucket+`/*"]`, principal(`"*"`)))}, who: rootA, action: "s3:DeleteBucketPolicy", res: bucket, want: "root"},
	{name: "users get no such safeguard", identity: []string{allowAll}, resource: []string{doc(stmt("Deny", "s3:*", `["`+bucket+`","`+bucket+`/*"]`, principal(`"*"`)))}, who: alice, action: "s3:PutBucketPolicy", res: bucket, want: "deny R0.0"},
	{name: "other root gets no safeguard", resource: []string{bucketForB, doc(stmt("Deny", "s3:*", bucket, principal(`"*"`)))}, who: rootB, action: "s3:PutBucketPolicy", res: bucket, owner: acctA, want: "deny R1.0"},
	// Anonymous requests (S3).
	{name: "anonymous: public read", resource: []string{publicRead}, who: anon, action: "s3:GetObject", res: objectARN, owner: acctA, want: "allow R0.0"},
	{name: "anonymous: AWS star is everyone", resource: []string{doc(stmt("Allow", "s3:GetObject", bucket+"/*", principal(`{"AWS":"*"}`)))}, who: anon, action: "s3:GetObject", res: objectARN, owner: acctA, want: "allow R0.0"},
	{name: "anonymous: no policy", who: anon, action: "s3:GetObject", res: objectARN, owner: acctA, want: "implicit resource-based"},
	{name: "anonymous: account principal", resource: []string{bucketForB}, who: anon, action: "s3:GetObject", res: objectARN, owner: acctA, want: "implicit resource-based"},
	{name: "anonymous: write not public", resource: []string{publicRead}, who: anon, action: "s3:PutObject", res: objectARN, owner: acctA, want: "implicit resource-based"},
	{name: "anonymous: public with IP condition", resource: []string{doc(stmt("Allow", "s3:GetObject", bucket+"/*", principal(`"*"`), cond(`{"NotIpAddress":{"aws:SourceIp":"54.240.143.0/24"}}`)))}, who: anon, action: "s3:GetObject", res: objectARN, owner: acctA, ctx: []string{"aws:SourceIp=54.240.143.9"}, want: "implicit resource-based"},
	// NotPrincipal.
	{name: "NotPrincipal deny: listed user and account excluded", identity: []string{allowS3}, resource: []string{bucketForB, doc(stmt("Deny", "s3:*", `["`+bucket+`","`+bucket+`/*"]`, notPrincipal(`{"AWS":["arn:aws:iam::444455556666:user/bob","arn:aws:iam::444455556666:root"]}`)))}, who: bob, action: "s3:GetObject", res: objectARN, owner: acctA, want: "allow I0.0"},
	{name: "NotPrincipal deny: user listed without its account is denied", identity: []string{allowS3}, resource: []string{bucketForB, doc(stmt("Deny", "s3:*", `["`+bucket+`","`+bucket+`/*"]`, notPrincipal(`{"AWS":["arn:aws:iam::444455556666:user/bob"]}`)))}, who: bob, action: "s3:GetObject", res: objectARN, owner: acctA, want: "deny R1.0"},
	{name: "NotPrincipal deny: other users denied", identity: []string{allowS3}, resource: []string{doc(stmt("Deny", "s3:*", `["`+bucket+`","`+bucket+`/*"]`, notPrincipal(`{"AWS":["arn:aws:iam::111122223333:user/carol","arn:aws:iam::111122223333:root"]}`)))}, who: alice, action: "s3:GetObject", res: objectARN, want: "deny R0.0"},
	{name: "NotPrincipal deny: session, role and account excluded", identity: []string{allowS3}, resource: []string{bucketForB, doc(stmt("Deny", "s3:*", `["`+bucket+`","`+bucket+`/*"]`, notPrincipal(`{"AWS":["arn:aws:sts::444455556666:assumed-role/Dev/bob","arn:aws:iam::444455556666:role/Dev","444455556666"]}`)))}, who: devB, action: "s3:GetObject", res: objectARN, owner: acctA, want: "allow I0.0"},
	{name: "NotPrincipal deny: session without its role denied", identity: []string{allowS3}, resource: []string{bucketForB, doc(stmt("Deny", "s3:*", `["`+bucket+`","`+bucket+`/*"]`, notPrincipal(`{"AWS":["arn:aws:sts::444455556666:assumed-role/Dev/bob","444455556666"]}`)))}, who: devB, action: "s3:GetObject", res: objectARN, owner: acctA, want: "deny R1.0"},
	{name: "NotPrincipal deny: account root excluded by its account", resource: []string{doc(stmt("Deny", "s3:*", bucket+"/*", notPrincipal(`{"AWS":"111122223333"}`)))}, who: rootA, action: "s3:GetObject", res: objectARN, want: "root"},
	{name: "NotPrincipal deny: anonymous always denied", resource: []string{publicRead, doc(stmt("Deny", "s3:*", bucket+"/*", notPrincipal(`{"AWS":"111122223333"}`)))}, who: anon, action: "s3:GetObject", res: objectARN, owner: acctA, want: "deny R1.0"},
	{name: "NotPrincipal allow: everyone but the listed", resource: []string{doc(stmt("Allow", "s3:GetObject", bucket+"/*", notPrincipal(`{"AWS":["arn:aws:iam::111122223333:user/carol","111122223333"]}`)))}, who: alice, action: "s3:GetObject", res: objectARN, want: "allow R0.0"},
	{name: "NotPrincipal allow: listed principal left out", resource: []string{doc(stmt("Allow", "s3:GetObject", bucket+"/*", notPrincipal(`{"AWS":["arn:aws:iam::111122223333:user/alice","111122223333"]}`)))}, who: alice, action: "s3:GetObject", res: objectARN, want: "implicit identity-based"},
	{name: "NotPrincipal service", resource: []string{doc(stmt("Deny", "s3:*", bucket+"/*", notPrincipal(`{"Service":"ec2.amazonaws.com"}`)))}, who: ec2Svc, action: "s3:GetObject", res: objectARN, owner: acctA, want: "implicit resource-based"},
	// Role trust policies (RequireResource).
	{name: "trust: own root needs the trust policy", trust: true, resource: []string{doc(stmt("Allow", "sts:AssumeRole", "", principal(`{"Service":"ec2.amazonaws.com"}`)))}, who: rootA, action: "sts:AssumeRole", res: roleDev, want: "implicit resource-based"},
	{name: "trust: own root named by its account", trust: true, resource: []string{doc(stmt("Allow", "sts:AssumeRole", "", principal(`{"AWS":"111122223333"}`)))}, who: rootA, action: "sts:AssumeRole", res: roleDev, want: "root"},
	{name: "trust: service principal", trust: true, resource: []string{doc(stmt("Allow", "sts:AssumeRole", "", principal(`{"Service":"ec2.amazonaws.com"}`)))}, who: ec2Svc, action: "sts:AssumeRole", res: roleDev, owner: acctA, want: "allow R0.0"},
	{name: "trust: service not trusted", trust: true, resource: []string{doc(stmt("Allow", "sts:AssumeRole", "", principal(`{"Service":"lambda.amazonaws.com"}`)))}, who: ec2Svc, action: "sts:AssumeRole", res: roleDev, owner: acctA, want: "implicit resource-based"},
	{name: "trust: names the user", trust: true, resource: []string{doc(stmt("Allow", "sts:AssumeRole", "", principal(`{"AWS":"arn:aws:iam::111122223333:user/alice"}`)))}, who: alice, action: "sts:AssumeRole", res: roleDev, want: "allow R0.0"},
	{name: "trust: names the account, identity allows", trust: true, identity: []string{allowAssume}, resource: []string{doc(stmt("Allow", "sts:AssumeRole", "", principal(`{"AWS":"arn:aws:iam::111122223333:root"}`)))}, who: alice, action: "sts:AssumeRole", res: roleDev, want: "allow I0.0"},
	{name: "trust: names the account, no identity policy", trust: true, resource: []string{doc(stmt("Allow", "sts:AssumeRole", "", principal(`{"AWS":"111122223333"}`)))}, who: alice, action: "sts:AssumeRole", res: roleDev, want: "implicit identity-based"},
	{name: "trust: identity policy alone is not enough", trust: true, identity: []string{allowAssume}, resource: []string{doc(stmt("Allow", "sts:AssumeRole", "", principal(`{"Service":"ec2.amazonaws.com"}`)))}, who: alice, action: "sts:AssumeRole", res: roleDev, want: "implicit resource-based"},
	{name: "trust: cross-account with identity", trust: true, identity: []string{doc(stmt("Allow", "sts:AssumeRole", "arn:aws:iam::111122223333:role/*"))}, resource: []string{doc(stmt("Allow", "sts:AssumeRole", "", principal(`{"AWS":"444455556666"}`)))}, who: bob, action: "sts:AssumeRole", res: roleDev, owner: acctA, want: "allow I0.0"},
	{name: "trust: cross-account without identity", trust: true, resource: []string{doc(stmt("Allow", "sts:AssumeRole", "", principal(`{"AWS":"444455556666"}`)))}, who: bob, action: "sts:AssumeRole", res: roleDev, owner: acctA, want: "implicit identity-based"},
	{name: "trust: ExternalId matches", trust: true, identity: []string{allowAll}, resource: []string{doc(stmt("Allow", "sts:AssumeRole", "", principal(`{"AWS":"444455556666"}`), cond(`{"StringEquals":{"sts:ExternalId":"Unique-ID-1234"}}`)))}, who: bob, action: "sts:AssumeRole", res: roleDev, owner: acctA, ctx: []string{"sts:ExternalId=Unique-ID-1234"}, want: "allow I0.0"},
	{name: "trust: ExternalId wrong", trust: true, identity: []string{allowAll}, resource: []string{doc(stmt("Allow", "sts:AssumeRole", "", principal(`{"AWS":"444455556666"}`), cond(`{"StringEquals":{"sts:ExternalId":"Unique-ID-1234"}}`)))}, who: bob, action: "sts:AssumeRole", res: roleDev, owner: acctA, ctx: []string{"sts:ExternalId=guess"}, want: "implicit resource-based"},
	{name: "trust: ExternalId missing", trust: true, identity: []string{allowAll}, resource: []string{doc(stmt("Allow", "sts:AssumeRole", "", principal(`{"AWS":"444455556666"}`), cond(`{"StringEquals":{"sts:ExternalId":"Unique-ID-1234"}}`)))}, who: bob, action: "sts:AssumeRole", res: roleDev, owner: acctA, want: "implicit resource-based"},
	{name: "trust: other root", trust: true, resource: []string{doc(stmt("Allow", "sts:AssumeRole", "", principal(`{"AWS":"444455556666"}`)))}, who: rootB, action: "sts:AssumeRole", res: roleDev, owner: acctA, want: "allow R0.0"},
	{name: "trust: wrong action", trust: true, identity: []string{allowAll}, resource: []string{doc(stmt("Allow", "sts:AssumeRole", "", principal(`{"AWS":"444455556666"}`)))}, who: bob, action: "sts:TagSession", res: roleDev, owner: acctA, want: "implicit resource-based"},
	{name: "trust: deny statement", trust: true, identity: []string{allowAll}, resource: []string{doc(stmt("Allow", "sts:AssumeRole", "", principal(`{"AWS":"444455556666"}`)), stmt("Deny", "sts:AssumeRole", "", principal(`{"AWS":"arn:aws:iam::444455556666:user/bob"}`)))}, who: bob, action: "sts:AssumeRole", res: roleDev, owner: acctA, want: "deny R0.1"},
	{name: "trust: web identity with audience", trust: true, resource: []string{doc(stmt("Allow", "sts:AssumeRoleWithWebIdentity", "", principal(`{"Federated":"arn:aws:iam::111122223333:oidc-provider/login.example.com"}`), cond(`{"StringEquals":{"login.example.com:aud":"kumo"}}`)))}, who: oidc, action: "sts:AssumeRoleWithWebIdentity", res: roleDev, owner: acctA, ctx: []string{"login.example.com:aud=kumo"}, want: "allow R0.0"},
	{name: "trust: web identity wrong audience", trust: true, resource: []string{doc(stmt("Allow", "sts:AssumeRoleWithWebIdentity", "", principal(`{"Federated":"arn:aws:iam::111122223333:oidc-provider/login.example.com"}`), cond(`{"StringEquals":{"login.example.com:aud":"kumo"}}`)))}, who: oidc, action: "sts:AssumeRoleWithWebIdentity", res: roleDev, owner: acctA, ctx: []string{"login.example.com:aud=other"}, want: "implicit resource-based"},
	{name: "trust: web identity other provider", trust: true, resource: []string{doc(stmt("Allow", "sts:AssumeRoleWithWebIdentity", "", principal(`{"Federated":"accounts.google.com"}`)))}, who: oidc, action: "sts:AssumeRoleWithWebIdentity", res: roleDev, owner: acctA, want: "implicit resource-based"},
	// Tag-based team sharing (the recipe), ABAC examples.
	{name: "team: own team's instance", identity: []string{doc(stmt("Allow", `["ec2:StartInstances","ec2:StopInstances","ec2:RebootInstances"]`, "arn:aws:ec2:*:*:instance/*", cond(`{"StringEquals":{"ec2:ResourceTag/team":"blue"}}`)))}, who: alice, action: "ec2:StopInstances", res: instA, ctx: []string{"ec2:ResourceTag/team=blue", "aws:ResourceTag/team=blue"}, want: "allow I0.0"},
	{name: "team: other team's instance", identity: []string{doc(stmt("Allow", `["ec2:StartInstances","ec2:StopInstances","ec2:RebootInstances"]`, "arn:aws:ec2:*:*:instance/*", cond(`{"StringEquals":{"ec2:ResourceTag/team":"blue"}}`)))}, who: alice, action: "ec2:StopInstances", res: instA, ctx: []string{"ec2:ResourceTag/team=red"}, want: "implicit identity-based"},
	{name: "team: untagged instance", identity: []string{doc(stmt("Allow", `["ec2:StartInstances","ec2:StopInstances","ec2:RebootInstances"]`, "arn:aws:ec2:*:*:instance/*", cond(`{"StringEquals":{"ec2:ResourceTag/team":"blue"}}`)))}, who: alice, action: "ec2:StopInstances", res: instA, want: "implicit identity-based"},
	{name: "team: terminate not granted", identity: []string{doc(stmt("Allow", `["ec2:StartInstances","ec2:StopInstances","ec2:RebootInstances"]`, "arn:aws:ec2:*:*:instance/*", cond(`{"StringEquals":{"ec2:ResourceTag/team":"blue"}}`)))}, who: alice, action: "ec2:TerminateInstances", res: instA, ctx: []string{"ec2:ResourceTag/team=blue"}, want: "implicit identity-based"},
	{name: "ABAC: resource tag equals principal tag", identity: []string{doc(stmt("Allow", "ec2:*", "*", cond(`{"StringEquals":{"aws:ResourceTag/project":"${aws:PrincipalTag/project}"}}`)))}, who: devA, action: "ec2:RebootInstances", res: instA, ctx: []string{"aws:ResourceTag/project=apollo", "aws:PrincipalTag/project=apollo"}, want: "allow I0.0"},
	{name: "ABAC: different project", identity: []string{doc(stmt("Allow", "ec2:*", "*", cond(`{"StringEquals":{"aws:ResourceTag/project":"${aws:PrincipalTag/project}"}}`)))}, who: devA, action: "ec2:RebootInstances", res: instA, ctx: []string{"aws:ResourceTag/project=gemini", "aws:PrincipalTag/project=apollo"}, want: "implicit identity-based"},
	{name: "tag on create: RequestTag and TagKeys", identity: []string{doc(stmt("Allow", "ec2:RunInstances", "arn:aws:ec2:*:*:instance/*", cond(`{"StringEquals":{"aws:RequestTag/team":"blue"},"ForAllValues:StringEquals":{"aws:TagKeys":["team","Name"]}}`)))}, who: alice, action: "ec2:RunInstances", res: instA, ctx: []string{"aws:RequestTag/team=blue", "aws:TagKeys=team|Name"}, want: "allow I0.0"},
	{name: "tag on create: extra tag key", identity: []string{doc(stmt("Allow", "ec2:RunInstances", "arn:aws:ec2:*:*:instance/*", cond(`{"StringEquals":{"aws:RequestTag/team":"blue"},"ForAllValues:StringEquals":{"aws:TagKeys":["team","Name"]}}`)))}, who: alice, action: "ec2:RunInstances", res: instA, ctx: []string{"aws:RequestTag/team=blue", "aws:TagKeys=team|cost"}, want: "implicit identity-based"},
	{name: "CreateTags only when creating", identity: []string{doc(stmt("Allow", "ec2:CreateTags", "arn:aws:ec2:*:*:instance/*", cond(`{"StringEquals":{"ec2:CreateAction":"RunInstances"}}`)))}, who: alice, action: "ec2:CreateTags", res: instA, ctx: []string{"ec2:CreateAction=RunInstances"}, want: "allow I0.0"},
	{name: "CreateTags on an existing instance", identity: []string{doc(stmt("Allow", "ec2:CreateTags", "arn:aws:ec2:*:*:instance/*", cond(`{"StringEquals":{"ec2:CreateAction":"RunInstances"}}`)))}, who: alice, action: "ec2:CreateTags", res: instA, want: "implicit identity-based"},
	{name: "instance type limit", identity: []string{doc(stmt("Allow", "ec2:RunInstances", "*"), stmt("Deny", "ec2:RunInstances", "arn:aws:ec2:*:*:instance/*", cond(`{"StringNotEquals":{"ec2:InstanceType":["t2.micro","t2.small"]}}`)))}, who: alice, action: "ec2:RunInstances", res: instA, ctx: []string{"ec2:InstanceType=m5.large"}, want: "deny I0.1"},
	{name: "instance type allowed", identity: []string{doc(stmt("Allow", "ec2:RunInstances", "*"), stmt("Deny", "ec2:RunInstances", "arn:aws:ec2:*:*:instance/*", cond(`{"StringNotEquals":{"ec2:InstanceType":["t2.micro","t2.small"]}}`)))}, who: alice, action: "ec2:RunInstances", res: instA, ctx: []string{"ec2:InstanceType=t2.micro"}, want: "allow I0.0"},
	{name: "instance type deny skips the subnet", identity: []string{doc(stmt("Allow", "ec2:RunInstances", "*"), stmt("Deny", "ec2:RunInstances", "arn:aws:ec2:*:*:instance/*", cond(`{"StringNotEquals":{"ec2:InstanceType":["t2.micro","t2.small"]}}`)))}, who: alice, action: "ec2:RunInstances", res: "arn:aws:ec2:us-east-1:111122223333:subnet/subnet-1", want: "allow I0.0"},
	{name: "region restriction", identity: []string{allowAll, doc(stmt("Deny", "*", "*", cond(`{"StringNotEquals":{"aws:RequestedRegion":["us-east-1"]}}`)))}, who: alice, action: "ec2:DescribeInstances", ctx: []string{"aws:RequestedRegion=eu-west-1"}, want: "deny I1.0"},
	{name: "region restriction passes", identity: []string{allowAll, doc(stmt("Deny", "*", "*", cond(`{"StringNotEquals":{"aws:RequestedRegion":["us-east-1"]}}`)))}, who: alice, action: "ec2:DescribeInstances", ctx: []string{"aws:RequestedRegion=us-east-1"}, want: "allow I0.0"},
	{name: "IAM user manages own keys", identity: []string{doc(stmt("Allow", `["iam:CreateAccessKey","iam:ListAccessKeys","iam:DeleteAccessKey"]`, "arn:aws:iam::*:user/${aws:username}"))}, who: alice, action: "iam:CreateAccessKey", res: "arn:aws:iam::111122223333:user/alice", ctx: []string{"aws:username=alice"}, want: "allow I0.0"},
	{name: "IAM user cannot manage others' keys", identity: []string{doc(stmt("Allow", `["iam:CreateAccessKey","iam:ListAccessKeys","iam:DeleteAccessKey"]`, "arn:aws:iam::*:user/${aws:username}"))}, who: alice, action: "iam:CreateAccessKey", res: "arn:aws:iam::111122223333:user/bob", ctx: []string{"aws:username=alice"}, want: "implicit identity-based"},
	{name: "ListBucket home prefix", identity: []string{doc(stmt("Allow", "s3:ListBucket", bucket, cond(`{"StringLike":{"s3:prefix":["","home/","home/${aws:username}/*"]}}`)))}, who: alice, action: "s3:ListBucket", res: bucket, ctx: []string{"s3:prefix=home/alice/", "aws:username=alice"}, want: "allow I0.0"},
	{name: "ListBucket other prefix", identity: []string{doc(stmt("Allow", "s3:ListBucket", bucket, cond(`{"StringLike":{"s3:prefix":["","home/","home/${aws:username}/*"]}}`)))}, who: alice, action: "s3:ListBucket", res: bucket, ctx: []string{"s3:prefix=home/bob/", "aws:username=alice"}, want: "implicit identity-based"},
	{name: "PassRole to EC2 only", identity: []string{doc(stmt("Allow", "iam:PassRole", roleDev, cond(`{"StringEquals":{"iam:PassedToService":"ec2.amazonaws.com"}}`)))}, who: alice, action: "iam:PassRole", res: roleDev, ctx: []string{"iam:PassedToService=ec2.amazonaws.com"}, want: "allow I0.0"},
	{name: "PassRole to another service", identity: []string{doc(stmt("Allow", "iam:PassRole", roleDev, cond(`{"StringEquals":{"iam:PassedToService":"ec2.amazonaws.com"}}`)))}, who: alice, action: "iam:PassRole", res: roleDev, ctx: []string{"iam:PassedToService=lambda.amazonaws.com"}, want: "implicit identity-based"},
	{name: "nil policies are skipped", identity: []string{""}, who: alice, action: "s3:GetObject", res: objectARN, want: "implicit identity-based"},
}

// TestEvaluationTable runs evalCases.
func TestEvaluationTable(t *testing.T) {
	for i, c := range evalCases {
		t.Run(fmt.Sprintf("%03d %s", i, c.name), func(t *testing.T) {
			set := PolicySet{Identity: parseAll(t, Identity, c.identity), Session: parseAll(t, Identity, c.session)}
			kind := Resource
			if c.trust {
				kind, set.RequireResource = Trust, true
			}
			set.Resource = parseAll(t, kind, c.resource)
			if c.boundary != "" {
				set.Boundary = mustParse(t, Identity, c.boundary)
			}
			res := c.res
			if res == "" {
				res = "*"
			}
			d := Evaluate(Request{Principal: c.who, Action: c.action, Resource: res, ResourceAccount: c.owner, Context: ctxOf(c.ctx...)}, set)
			if got := describe(d); got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

// parseAll parses documents; "" stands for a nil policy.
func parseAll(t *testing.T, kind Kind, docs []string) []*Policy {
	var out []*Policy
	for _, d := range docs {
		if d == "" {
			out = append(out, nil)
			continue
		}
		out = append(out, mustParse(t, kind, d))
	}
	return out
}
