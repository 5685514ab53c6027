//go:build tools

package main

// awsgen reads the API models that ship with github.com/aws/aws-sdk-go; this
// import keeps that module in go.mod, since no Go code imports it.
import _ "github.com/aws/aws-sdk-go/aws"
