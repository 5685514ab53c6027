package ec2

import (
	"errors"
	"net/http"
	"strings"

	"github.com/kumo-cloud/kumo/internal/awsapi"
	"github.com/kumo-cloud/kumo/internal/ec2/filter"
	"github.com/kumo-cloud/kumo/internal/ec2/paginate"
)

// apiErr builds an EC2 client error (HTTP 400).
func apiErr(code, format string, args ...any) error {
	return awsapi.NewError(code, http.StatusBadRequest, format, args...)
}

func errVPCNotFound(id string) error {
	return apiErr("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", id)
}

func errSubnetNotFound(id string) error {
	return apiErr("InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", id)
}

func errGroupNotFound(id string) error {
	return apiErr("InvalidGroup.NotFound", "The security group '%s' does not exist", id)
}

func errGroupNameNotFound(name, vpc string) error {
	return apiErr("InvalidGroup.NotFound", "The security group '%s' does not exist in default VPC '%s'", name, vpc)
}

func errRuleNotFound(id string) error {
	return apiErr("InvalidSecurityGroupRuleId.NotFound", "The security group rule ID '%s' does not exist", id)
}

func errKeyPairNotFound(name string) error {
	return apiErr("InvalidKeyPair.NotFound", "The key pair '%s' does not exist", name)
}

func errDependency(format string, args ...any) error {
	return apiErr("DependencyViolation", format, args...)
}

// errMalformedID checks an id's prefix and shape.
func checkID(id, prefix, code string) error {
	rest, ok := strings.CutPrefix(id, prefix+"-")
	if !ok || rest == "" || len(rest) > 32 || strings.Trim(rest, "0123456789abcdef") != "" {
		return apiErr(code, "Invalid id: \"%s\"", id)
	}
	return nil
}

// listErr maps the shared Describe helpers' errors to EC2's codes.
func listErr(err error) error {
	var inv *filter.InvalidError
	var rng *paginate.RangeError
	switch {
	case errors.As(err, &inv):
		return apiErr("InvalidParameterValue", "%s", inv.Error())
	case errors.As(err, &rng):
		return apiErr("InvalidParameterValue", "%s", rng.Error())
	case errors.Is(err, paginate.ErrInvalidToken):
		return apiErr("InvalidPaginationToken", "The specified pagination token is not valid or is expired.")
	}
	return err
}
