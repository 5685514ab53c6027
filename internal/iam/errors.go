package iam

import (
	"net/http"

	"github.com/kumo-cloud/kumo/internal/awsapi"
)

// IAM's error vocabulary, with the HTTP statuses IAM answers them with.

func alreadyExists(format string, args ...any) error {
	return awsapi.NewError("EntityAlreadyExists", http.StatusConflict, format, args...)
}

func deleteConflict(format string, args ...any) error {
	return awsapi.NewError("DeleteConflict", http.StatusConflict, format, args...)
}

func limitExceeded(format string, args ...any) error {
	return awsapi.NewError("LimitExceeded", http.StatusConflict, format, args...)
}

func malformedPolicy(format string, args ...any) error {
	return awsapi.NewError("MalformedPolicyDocument", http.StatusBadRequest, format, args...)
}

func invalidInput(format string, args ...any) error {
	return awsapi.NewError("InvalidInput", http.StatusBadRequest, format, args...)
}

func noSuchUser(name string) error {
	return noSuchEntity("The user with name %s cannot be found.", name)
}
func noSuchGroup(name string) error {
	return noSuchEntity("The group with name %s cannot be found.", name)
}
func noSuchRole(name string) error {
	return noSuchEntity("The role with name %s cannot be found.", name)
}
