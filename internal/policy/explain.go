package policy

import "fmt"

// EvalDecision is the outcome as IAM's SimulatePrincipalPolicy and
// SimulateCustomPolicy name it: allowed, explicitDeny, implicitDeny.
func (o Outcome) EvalDecision() string {
	switch o {
	case Allowed:
		return "allowed"
	case ExplicitDeny:
		return "explicitDeny"
	}
	return "implicitDeny"
}

// Message is AWS's text for a denial, as its AccessDenied messages and
// decoded EC2 authorization messages put it ("User: arn:... is not
// authorized to perform: ec2:StopInstances on resource: arn:... because
// no identity-based policy allows the ec2:StopInstances action"). It
// returns "" for an allowed request.
func Message(req Request, d Decision) string {
	who := req.Principal.ARN
	if req.Principal.Kind == Anonymous {
		who = "anonymous"
	}
	head := fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s", who, req.Action, req.Resource)
	switch {
	case d.Outcome == ExplicitDeny && d.By != nil:
		return fmt.Sprintf("%s with an explicit deny in %s", head, withArticle(d.By.Type.String()))
	case d.Outcome == ImplicitDeny && d.Missing != NoPolicy:
		return fmt.Sprintf("%s because no %s allows the %s action", head, d.Missing, req.Action)
	case d.Outcome == ImplicitDeny:
		return head
	}
	return ""
}

func withArticle(s string) string {
	if s != "" && (s[0] == 'i' || s[0] == 'a' || s[0] == 'e' || s[0] == 'o' || s[0] == 'u') {
		return "an " + s
	}
	return "a " + s
}
