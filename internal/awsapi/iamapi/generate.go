// Package iamapi is the wire layer of Kumo's IAM API: the request and
// response structs, Service interface and awsapi.ServiceModel that awsgen
// generates from AWS's IAM model for the operations listed in ops.txt.
package iamapi

//go:generate go run ../awsgen -service iam -ops ops.txt -pkg iamapi -out zz_generated.go
