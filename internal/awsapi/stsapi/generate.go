// Package stsapi is the wire layer of Kumo's STS API: the request and
// response structs, Service interface and awsapi.ServiceModel that awsgen
// generates from AWS's STS model for the operations listed in ops.txt.
package stsapi

//go:generate go run ../awsgen -service sts -ops ops.txt -pkg stsapi -out zz_generated.go
