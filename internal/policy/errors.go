package policy

import "fmt"

// MalformedError is a policy document IAM would refuse. Message is the
// text IAM puts in its MalformedPolicyDocument (S3: MalformedPolicy)
// error, so a caller can answer with it unchanged.
type MalformedError struct {
	Message string
}

func (e *MalformedError) Error() string { return e.Message }

func malformed(format string, args ...any) *MalformedError {
	return &MalformedError{Message: fmt.Sprintf(format, args...)}
}

// IAM's wording for the refusals it makes.
const (
	msgSyntax           = "Syntax errors in policy."
	msgLegacy           = "The policy failed legacy parsing"
	msgNoStatement      = "Missing required field Statement"
	msgNoEffect         = "Missing required field Effect"
	msgNoActions        = "Policy statement must contain actions."
	msgNoResources      = "Policy statement must contain resources."
	msgNoPrincipal      = "Missing required field Principal"
	msgHasPrincipal     = "Policy document should not specify a principal."
	msgVendor           = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
	msgOneColon         = "Actions/Condition can contain only one colon."
	msgSidUnique        = "Statement IDs (SID) in a single policy must be unique."
	msgSidAlnum         = "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"
	msgVendorWildcard   = "Action vendors must not contain wildcards."
	msgResourceARN      = "Resource %s must be in ARN format or \"*\"."
	msgInvalidPrincipal = "Invalid principal in policy: %s"
	msgConditionType    = "Invalid Condition type : %s."
	msgProhibited       = "Has prohibited field %s"
	msgBothElements     = "Statement cannot contain both %s and %s."
)
