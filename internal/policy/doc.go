// Package policy parses IAM policy documents and evaluates requests
// against them the way AWS does: explicit deny beats allow, allow beats
// the implicit deny, and identity policies, resource policies,
// permissions boundaries and session policies combine as AWS's "Policy
// evaluation logic" pages describe.
//
// The package is pure: no database, no HTTP, no clock. Callers parse a
// document once (Parse), keep the *Policy, and call Evaluate with the
// policies that apply to a request and the request's context keys.
// docs/authorization.md describes the model as built.
package policy
