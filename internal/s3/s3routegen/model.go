package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Path levels, as the generated table names them.
const (
	levelService = "levelService" // GET /
	levelBucket  = "levelBucket"  // /{Bucket}
	levelObject  = "levelObject"  // /{Bucket}/{Key+}
	levelFixed   = "levelFixed"   // a fixed path such as /WriteGetObjectResponse
)

// operation is one S3 operation's request shape, as far as routing needs.
type operation struct {
	Name            string
	Method          string
	Level           string
	Path            string      // the fixed path of levelFixed
	Query           [][2]string // subresources of the requestUri: key, value ("" when none)
	RequiredQuery   []string    // query parameters the model requires
	RequiredHeaders []string    // headers the model requires, lower case
	Members         []string    // every query parameter the operation takes
	XID             string      // the x-id parameter the v2 SDK sends, if any
	Deprecated      bool
	Newer           bool   // not in the v1 model: from the v2 SDK's serializers
	SameAs          string // the operation an indistinguishable deprecated one is served as
}

type apiModel struct {
	Operations map[string]struct {
		HTTP struct {
			Method     string `json:"method"`
			RequestURI string `json:"requestUri"`
		} `json:"http"`
		Input *struct {
			Shape string `json:"shape"`
		} `json:"input"`
		Deprecated bool `json:"deprecated"`
	} `json:"operations"`
	Shapes map[string]struct {
		Required []string `json:"required"`
		Members  map[string]struct {
			Location     string `json:"location"`
			LocationName string `json:"locationName"`
		} `json:"members"`
	} `json:"shapes"`
}

// parseModel reads every operation of the v1 api-2.json.
func parseModel(data []byte) ([]operation, error) {
	var m apiModel
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if len(m.Operations) == 0 {
		return nil, errors.New("no operations")
	}
	var ops []operation
	for name, o := range m.Operations {
		op := operation{Name: name, Method: o.HTTP.Method, Deprecated: o.Deprecated}
		if err := op.setURI(o.HTTP.RequestURI, false); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if o.Input != nil {
			shape, ok := m.Shapes[o.Input.Shape]
			if !ok {
				return nil, fmt.Errorf("%s: no shape %s", name, o.Input.Shape)
			}
			for member, mm := range shape.Members {
				required := slices.Contains(shape.Required, member)
				switch mm.Location {
				case "querystring":
					op.Members = append(op.Members, mm.LocationName)
					if required {
						op.RequiredQuery = append(op.RequiredQuery, mm.LocationName)
					}
				case "header":
					if required {
						op.RequiredHeaders = append(op.RequiredHeaders, strings.ToLower(mm.LocationName))
					}
				}
			}
		}
		op.sortFields()
		ops = append(ops, op)
	}
	return ops, nil
}

// setURI reads a requestUri. v2 URIs leave the bucket to the host name:
// "/" and "/?sub" are a bucket's, "/{Key+}" an object's.
func (op *operation) setURI(uri string, v2 bool) error {
	path, query, _ := strings.Cut(uri, "?")
	switch {
	case path == "/" && !v2:
		op.Level = levelService
	case path == "/{Bucket}" && !v2, path == "/" && v2:
		op.Level = levelBucket
	case path == "/{Bucket}/{Key+}" && !v2, path == "/{Key+}" && v2:
		op.Level = levelObject
	case !strings.Contains(path, "{"):
		op.Level, op.Path = levelFixed, path
	default:
		return fmt.Errorf("unexpected requestUri %q", uri)
	}
	if query == "" {
		return nil
	}
	for _, kv := range strings.Split(query, "&") {
		k, v, _ := strings.Cut(kv, "=")
		if k == "x-id" {
			op.XID = v
			continue
		}
		op.Query = append(op.Query, [2]string{k, v})
	}
	return nil
}

func (op *operation) sortFields() {
	sort.Strings(op.RequiredQuery)
	sort.Strings(op.RequiredHeaders)
	sort.Strings(op.Members)
	sort.Slice(op.Query, func(i, j int) bool { return op.Query[i][0] < op.Query[j][0] })
}

var (
	serializerRE = regexp.MustCompile(`(?s)type awsRestxml_serializeOp(\w+) struct.*?httpbinding\.SplitURI\("([^"]*)"\).*?request\.Method = "(\w+)"`)
	bindingsRE   = regexp.MustCompile(`(?s)func awsRestxml_serializeOpHttpBindings(\w+)Input\(.*?\n}\n`)
	setQueryRE   = regexp.MustCompile(`encoder\.SetQuery\("([^"]+)"\)`)
)

// parseSerializers reads the operations of the v2 SDK's serializers.go:
// method, requestUri (with the x-id it sends) and query parameters.
func parseSerializers(src []byte) ([]operation, error) {
	members := map[string][]string{}
	for _, m := range bindingsRE.FindAllSubmatch(src, -1) {
		for _, q := range setQueryRE.FindAllSubmatch(m[0], -1) {
			members[string(m[1])] = append(members[string(m[1])], string(q[1]))
		}
	}
	var ops []operation
	for _, m := range serializerRE.FindAllSubmatch(src, -1) {
		op := operation{Name: string(m[1]), Method: string(m[3]), Newer: true, Members: members[string(m[1])]}
		if err := op.setURI(string(m[2]), true); err != nil {
			return nil, fmt.Errorf("%s: %w", op.Name, err)
		}
		op.sortFields()
		ops = append(ops, op)
	}
	if len(ops) < 100 {
		return nil, fmt.Errorf("found only %d operations: has the file's layout changed?", len(ops))
	}
	return ops, nil
}

// merge adds the operations of the v2 SDK that the v1 model lacks, takes
// the x-id of the others, and marks indistinguishable deprecated ones.
func merge(ops, v2 []operation) ([]operation, error) {
	byName := map[string]int{}
	for i, op := range ops {
		byName[op.Name] = i
	}
	for _, n := range v2 {
		i, ok := byName[n.Name]
		if ok {
			if ops[i].Method != n.Method {
				return nil, fmt.Errorf("%s: v1 model says %s, v2 SDK %s", n.Name, ops[i].Method, n.Method)
			}
			ops[i].XID = n.XID
			ops[i].Members = union(ops[i].Members, n.Members)
			continue
		}
		ops = append(ops, n)
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].Name < ops[j].Name })
	for i := range ops {
		if !ops[i].Deprecated {
			continue
		}
		for _, o := range ops {
			if o.Name != ops[i].Name && !o.Deprecated && sameRequest(o, ops[i]) {
				ops[i].SameAs = o.Name
			}
		}
	}
	return ops, nil
}

// sameRequest says two operations send the same requests.
func sameRequest(a, b operation) bool {
	return a.Method == b.Method && a.Level == b.Level && a.Path == b.Path && slices.Equal(a.Query, b.Query) &&
		slices.Equal(a.RequiredQuery, b.RequiredQuery) && slices.Equal(a.RequiredHeaders, b.RequiredHeaders)
}

// subresources are the query keys that select an operation: those named
// in a requestUri and those some operation requires.
func subresources(ops []operation) []string {
	set := map[string]bool{}
	for _, op := range ops {
		for _, q := range op.Query {
			set[q[0]] = true
		}
		for _, q := range op.RequiredQuery {
			set[q] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// parameters are the query parameters operations take that are not
// subresources.
func parameters(ops []operation) []string {
	subs := map[string]bool{}
	for _, k := range subresources(ops) {
		subs[k] = true
	}
	set := map[string]bool{}
	for _, op := range ops {
		for _, m := range op.Members {
			if !subs[m] {
				set[m] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(set))
}
