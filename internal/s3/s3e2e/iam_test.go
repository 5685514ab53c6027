package s3e2e

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

func iamCreateUser(name string) *iam.CreateUserInput {
	return &iam.CreateUserInput{UserName: aws.String(name)}
}

func iamCreateKey(name string) *iam.CreateAccessKeyInput {
	return &iam.CreateAccessKeyInput{UserName: aws.String(name)}
}
