package policy_test

import (
	"errors"
	"fmt"

	"github.com/kumo-cloud/kumo/internal/policy"
)

// Example shows what a request handler does: parse the caller's
// policies once, then evaluate each request with its context keys.
func Example() {
	team, err := policy.Parse([]byte(`{
		"Version": "2012-10-17",
		"Statement": [{
			"Sid": "TeamBlueMachines",
			"Effect": "Allow",
			"Action": ["ec2:StartInstances", "ec2:StopInstances", "ec2:RebootInstances"],
			"Resource": "arn:aws:ec2:*:*:instance/*",
			"Condition": {"StringEquals": {"ec2:ResourceTag/team": "blue"}}
		}]
	}`), policy.Identity)
	if err != nil {
		panic(err)
	}
	team.Name = "arn:aws:iam::111122223333:policy/team-blue"
	alice := policy.Principal{Kind: policy.User, Account: "111122223333", ARN: "arn:aws:iam::111122223333:user/alice"}

	for _, tag := range []string{"blue", "red"} {
		req := policy.Request{
			Principal: alice,
			Action:    "ec2:StopInstances",
			Resource:  "arn:aws:ec2:us-east-1:111122223333:instance/i-0123456789abcdef0",
			Context:   policy.NewContext().SetPrincipal(alice).Set("ec2:ResourceTag/team", tag),
		}
		d := policy.Evaluate(req, policy.PolicySet{Identity: []*policy.Policy{team}})
		if d.Allowed() {
			fmt.Printf("team=%s: allowed by %s\n", tag, d.By.Sid)
		} else {
			fmt.Printf("team=%s: %s\n", tag, policy.Message(req, d))
		}
	}

	_, err = policy.Parse([]byte(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:*","Resource":"my-instance"}}`), policy.Identity)
	var malformed *policy.MalformedError
	if errors.As(err, &malformed) {
		fmt.Println("MalformedPolicyDocument:", malformed.Message)
	}
	// Output:
	// team=blue: allowed by TeamBlueMachines
	// team=red: User: arn:aws:iam::111122223333:user/alice is not authorized to perform: ec2:StopInstances on resource: arn:aws:ec2:us-east-1:111122223333:instance/i-0123456789abcdef0 because no identity-based policy allows the ec2:StopInstances action
	// MalformedPolicyDocument: Resource my-instance must be in ARN format or "*".
}
