package authz

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/kumo-cloud/kumo/internal/awsapi"
	"github.com/kumo-cloud/kumo/internal/policy"
	"github.com/kumo-cloud/kumo/internal/secrets"
)

// messageLabel binds sealed authorization messages to their purpose: a
// sealed access key secret cannot be passed off as one.
const messageLabel = "kumo-authorization-message"

// Denied is a request a policy denied.
type Denied struct {
	Service  string
	Request  policy.Request
	Decision policy.Decision
	box      *secrets.Box
}

func (d *Denied) Error() string { return policy.Message(d.Request, d.Decision) }

// APIError is the error AWS answers: EC2's UnauthorizedOperation with an
// encoded authorization message, IAM's and STS's AccessDenied naming the
// caller, the action, the resource and why.
func (d *Denied) APIError() *awsapi.Error {
	if d.Service != "ec2" {
		return awsapi.NewError("AccessDenied", http.StatusForbidden, "%s", policy.Message(d.Request, d.Decision))
	}
	encoded, err := Encode(d.box, d.Request, d.Decision)
	if err != nil {
		return awsapi.NewError("UnauthorizedOperation", http.StatusForbidden, "You are not authorized to perform this operation.")
	}
	return awsapi.NewError("UnauthorizedOperation", http.StatusForbidden,
		"You are not authorized to perform this operation. Encoded authorization failure message: %s", encoded)
}

// Message is the decoded form of an encoded authorization message, in
// the shape STS DecodeAuthorizationMessage returns (its DecodedMessage is
// this JSON).
type Message struct {
	Allowed           bool           `json:"allowed"`
	ExplicitDeny      bool           `json:"explicitDeny"`
	MatchedStatements map[string]any `json:"matchedStatements"`
	Failures          map[string]any `json:"failures"`
	Context           MessageContext `json:"context"`
}

// MessageContext is the request a message is about.
type MessageContext struct {
	Principal  MessagePrincipal `json:"principal"`
	Action     string           `json:"action"`
	Resource   string           `json:"resource"`
	Conditions map[string]any   `json:"conditions"`
}

// MessagePrincipal is the caller.
type MessagePrincipal struct {
	ID  string `json:"id"`
	ARN string `json:"arn"`
}

// Encode seals a denial into the opaque message EC2 returns.
func Encode(box *secrets.Box, req policy.Request, d policy.Decision) (string, error) {
	m := Message{Allowed: d.Allowed(), ExplicitDeny: d.Outcome == policy.ExplicitDeny,
		MatchedStatements: map[string]any{"items": []any{}}, Failures: map[string]any{"items": []any{}},
		Context: MessageContext{Principal: MessagePrincipal{ID: req.Principal.UserID, ARN: req.Principal.ARN},
			Action: req.Action, Resource: req.Resource, Conditions: map[string]any{"items": conditionItems(req.Context)}}}
	if d.By != nil {
		m.MatchedStatements["items"] = []any{map[string]any{"statementId": d.By.Sid, "effect": "DENY", "policy": d.By.Policy, "type": d.By.Type.String()}}
	}
	if box == nil {
		return "", fmt.Errorf("encode authorization message: no key")
	}
	js, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("encode authorization message: %w", err)
	}
	return box.Seal(string(js), messageLabel)
}

// Decode opens an encoded authorization message and returns its JSON
// (STS DecodeAuthorizationMessage's DecodedMessage). An error means the
// message was not made by this server (STS answers
// InvalidAuthorizationMessageException).
func Decode(box *secrets.Box, encoded string) (string, error) {
	js, err := box.Open(encoded, messageLabel)
	if err != nil {
		return "", fmt.Errorf("decode authorization message: %w", err)
	}
	return js, nil
}

// conditionItems lists the request's context keys, as AWS's decoded
// messages do.
func conditionItems(c *policy.Context) []any {
	var out []any
	for _, k := range c.Keys() {
		v, _ := c.Get(k)
		vals := make([]any, 0, len(v))
		for _, s := range v {
			vals = append(vals, map[string]string{"value": s})
		}
		out = append(out, map[string]any{"key": k, "values": map[string]any{"items": vals}})
	}
	return out
}
