package s3

// The route table (zz_routes.go) is generated from AWS's S3 model; see
// s3routegen.

//go:generate go run ./s3routegen -out zz_routes.go
