package e2e_test

import (
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/kumo-cloud/kumo/internal/awsapi"
	"github.com/kumo-cloud/kumo/internal/awsapi/iamapi"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// iamBase gives every parameter a usable value; each junk set overrides
// some, so that requests carry every required parameter. The password is
// refused by the password policy, so that no test hashes it 26 times.
var iamBase = []string{"UserName", "alice", "GroupName", "devs", "RoleName", "web", "InstanceProfileName", "web", "PolicyName", "p",
	"PolicyArn", "arn:aws:iam::aws:policy/ReadOnlyAccess", "PolicyDocument", describeDoc, "AssumeRolePolicyDocument", ec2TrustDoc,
	"VersionId", "v1", "Password", "weak", "AccountAlias", "team-x", "Tags.member.1.Key", "k", "Tags.member.1.Value", "v",
	"TagKeys.member.1", "k", "AccessKeyId", "AKIAAAAAAAAAAAAAAAAA", "Status", "Active"}

// withBase returns base with the pairs of kv overriding it.
func withBase(kv []string) []string {
	out := append([]string(nil), iamBase...)
	for i := 0; i+1 < len(kv); i += 2 {
		replaced := false
		for j := 0; j+1 < len(out); j += 2 {
			if out[j] == kv[i] {
				out[j+1], replaced = kv[i+1], true
			}
		}
		if !replaced {
			out = append(out, kv[i], kv[i+1])
		}
	}
	return out
}

// iamJunk are values for every parameter name the implemented IAM actions
// take: names that exist and do not, ARNs of every shape, documents that
// are not JSON, and lengths past every limit.
var iamJunk = [][]string{
	{"UserName", "alice", "GroupName", "devs", "RoleName", "web", "InstanceProfileName", "web", "PolicyName", "p"},
	{"UserName", "nobody", "GroupName", "nogroup", "RoleName", "norole", "InstanceProfileName", "noprofile", "PolicyName", "nopolicy"},
	{"UserName", "", "GroupName", "", "RoleName", "", "InstanceProfileName", "", "PolicyName", "", "PolicyArn", "", "VersionId", ""},
	{"UserName", strings.Repeat("u", 300), "RoleName", "a b", "GroupName", "ü", "PolicyArn", "arn:aws:iam::", "VersionId", "v0"},
	{"PolicyArn", "arn:aws:iam::aws:policy/", "VersionId", "v99999999999999999999", "PolicyDocument", "{}", "AssumeRolePolicyDocument", "[1]"},
	{"PolicyArn", "arn:aws:iam::123456789012:policy/x", "PolicyDocument", "{\"Version\":\"2012-10-17\",\"Statement\":null}", "Path", "/a//b/"},
	{"PolicyArn", "arn:aws:iam::aws:policy/AdministratorAccess", "VersionId", "v1", "SetAsDefault", "true", "PolicyDocument", strings.Repeat("{", 5000)},
	{"UserName", "alice", "Password", strings.Repeat("Aa1!", 40), "PasswordResetRequired", "maybe", "AccountAlias", "x--y"},
	{"UserName", "alice", "Tags.member.1.Key", strings.Repeat("k", 200), "Tags.member.1.Value", "v", "TagKeys.member.1", ""},
	{"RoleName", "web", "MaxSessionDuration", "-1", "Description", strings.Repeat("d", 1001), "PermissionsBoundary", "not-an-arn"},
	{"MaxItems", "0", "Marker", "!!!", "PathPrefix", "no-slash", "Scope", "Everything", "Filter.member.1", "Users", "EntityFilter", "Robots"},
	{"MaxItems", "1001", "Marker", "AAAA", "PolicyUsageFilter", "Sometimes", "OnlyAttached", "yes"},
}

// inputParams lists the top-level parameters an operation takes, from its
// generated input struct's tags.
func inputParams(op *awsapi.Operation) map[string]bool {
	out := map[string]bool{}
	typ := reflect.TypeOf(op.NewInput()).Elem()
	for i := range typ.NumField() {
		tag := typ.Field(i).Tag.Get("awsapi")
		name, _, _ := strings.Cut(strings.TrimPrefix(tag, "in="), ",")
		out[name] = true
	}
	return out
}

// only keeps the key, value pairs whose parameter the operation takes, so
// that junk reaches the handler instead of stopping at UnknownParameter.
func only(accepted map[string]bool, kv []string) []string {
	var out []string
	for i := 0; i+1 < len(kv); i += 2 {
		if top, _, _ := strings.Cut(kv[i], "."); accepted[top] {
			out = append(out, kv[i], kv[i+1])
		}
	}
	return out
}

// TestIAMHostileRequests sends every implemented IAM action with no
// parameters and with each set of junk values: every answer is a success
// or a 4xx with an error code, never a 5xx.
func TestIAMHostileRequests(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		srv, acct := startIAM(t, b)
		c := acct.IAM
		noErr(t, second(c.CreateUser(t.Context(), &iam.CreateUserInput{UserName: aws.String("alice")})))
		noErr(t, second(c.CreateGroup(t.Context(), &iam.CreateGroupInput{GroupName: aws.String("devs")})))
		noErr(t, second(c.CreateRole(t.Context(), &iam.CreateRoleInput{RoleName: aws.String("web"), AssumeRolePolicyDocument: aws.String(ec2TrustDoc)})))
		raw := newRawClient(srv, acct.KeyID, acct.Secret)
		codes := map[string]int{}
		model := iamapi.Model()
		for _, op := range iamapi.ImplementedOperations() {
			accepted := inputParams(model.Operations[op])
			sets := [][]string{nil}
			for _, kv := range iamJunk {
				sets = append(sets, withBase(kv))
			}
			for i, kv := range sets {
				params := queryParams(op, iamapi.APIVersion, only(accepted, kv)...)
				r := raw.call(t, "iam", params)
				codes[r.Code]++
				if r.Status >= 500 || (r.Status >= 400 && r.Code == "") {
					t.Errorf("%s with junk %d (%.200s): HTTP %d %s %s", op, i, url.Values(params).Encode(), r.Status, r.Code, r.Message)
				}
			}
		}
		t.Logf("answers by code: %v", codes)
	})
}
