// Package ec2api is the wire layer of Kumo's EC2 API: the request and
// response structs, Service interface and awsapi.ServiceModel that awsgen
// generates from AWS's EC2 model for the operations listed in ops.txt.
package ec2api

//go:generate go run ../awsgen -service ec2 -ops ops.txt -pkg ec2api -out zz_generated.go
