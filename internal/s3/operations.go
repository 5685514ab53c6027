package s3

import "slices"

// Operation describes one operation of AWS's S3 model: what a request
// for it looks like and whether Kumo serves it. Every other operation of
// the model is answered 501 NotImplemented naming it.
type Operation struct {
	Name            string
	Method          string
	Path            string   // "/", "/{Bucket}", "/{Bucket}/{Key+}" or a fixed path
	Query           []string // subresources of its requestUri: "versioning", "list-type=2"
	RequiredQuery   []string // query parameters the model requires, e.g. uploadId
	RequiredHeaders []string // headers the model requires, e.g. x-amz-copy-source
	XID             string   // the x-id parameter aws-sdk-go-v2 sends, if any
	Deprecated      bool
	ServedAs        string // the operation its requests are: its own name, or the one a deprecated alias sends the same requests as
	Implemented     bool   // Kumo serves ServedAs
}

// Operations lists every operation of the S3 model Kumo routes by
// (ModelSources), in name order.
func Operations() []Operation {
	paths := [...]string{levelService: "/", levelBucket: "/{Bucket}", levelObject: "/{Bucket}/{Key+}"}
	out := make([]Operation, 0, len(modelOperations))
	for _, mo := range modelOperations {
		o := Operation{Name: mo.name, Method: mo.method, Path: mo.path, RequiredQuery: slices.Clone(mo.requiredQuery),
			RequiredHeaders: slices.Clone(mo.requiredHeaders), XID: mo.xid, Deprecated: mo.deprecated, ServedAs: mo.name}
		if mo.level != levelFixed {
			o.Path = paths[mo.level]
		}
		for _, q := range mo.query {
			if q.value == "" {
				o.Query = append(o.Query, q.key)
			} else {
				o.Query = append(o.Query, q.key+"="+q.value)
			}
		}
		if mo.sameAs != "" {
			o.ServedAs = mo.sameAs
		}
		_, o.Implemented = op(o.ServedAs).lookup()
		out = append(out, o)
	}
	return out
}

// ModelSources names the models the route table was generated from.
func ModelSources() string { return modelSources }
