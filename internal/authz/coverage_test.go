package authz

import (
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/kumo-cloud/kumo/internal/awsapi"
	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/awsapi/iamapi"
	"github.com/kumo-cloud/kumo/internal/awsapi/stsapi"
	"github.com/kumo-cloud/kumo/internal/policy/actions"
)

func table(t *testing.T) *actions.Table {
	t.Helper()
	tb, err := actions.Load()
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// TestEveryImplementedOperationIsAuthorized fails when an implemented
// EC2, IAM or STS operation has no actions, or when an EC2 action's
// resource type has no rule for finding its ids in a request.
func TestEveryImplementedOperationIsAuthorized(t *testing.T) {
	tb := table(t)
	for _, m := range []*awsapi.ServiceModel{ec2api.Model(), iamapi.Model(), stsapi.Model()} {
		for name, op := range m.Operations {
			if !op.Implemented || unauthorized[m.Name+"/"+name] || delegated[m.Name+"/"+name] {
				continue
			}
			acts := tb.ForOperation(m.Name, name)
			if acts == nil {
				t.Errorf("%s:%s has no actions in the authorization table", m.Name, name)
				continue
			}
			if m.Name != "ec2" {
				continue
			}
			for _, a := range acts {
				for _, r := range a.Resources {
					if _, ok := ec2Params[r.Type.Name]; !ok {
						t.Errorf("%s: resource type %s has no entry in ec2Params", a.Name, r.Type.Name)
					}
				}
			}
		}
	}
}

// TestEveryEC2IDParameterIsMapped fails when an implemented EC2
// operation takes an "...Id" parameter that is neither mapped to a
// resource type (ec2Params) nor listed as naming none (notResourceIDs):
// a new operation must say how its resources are found.
func TestEveryEC2IDParameterIsMapped(t *testing.T) {
	mapped := map[string]bool{}
	for _, names := range ec2Params {
		for _, n := range names {
			mapped[n] = true
		}
	}
	m := ec2api.Model()
	var missing []string
	for name, op := range m.Operations {
		if !op.Implemented {
			continue
		}
		for _, p := range idParams(reflect.TypeOf(op.NewInput()).Elem(), map[reflect.Type]bool{}) {
			if !mapped[p] && notResourceIDs[p] == "" {
				missing = append(missing, name+"."+p)
			}
		}
	}
	sort.Strings(missing)
	for _, p := range missing {
		t.Errorf("EC2 parameter %s: add it to ec2Params (resource type) or notResourceIDs (why not)", p)
	}
}

// idParams lists the query names ending in "Id" in an input shape.
func idParams(typ reflect.Type, seen map[reflect.Type]bool) []string {
	for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
		typ = typ.Elem()
	}
	if typ.Kind() != reflect.Struct || seen[typ] {
		return nil
	}
	seen[typ] = true
	var out []string
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		in := tagValue(f.Tag.Get("awsapi"), "in")
		if strings.HasSuffix(in, "Id") {
			out = append(out, in)
		}
		out = append(out, idParams(f.Type, seen)...)
	}
	return out
}

func tagValue(tag, key string) string {
	for _, part := range strings.Split(tag, ",") {
		if v, ok := strings.CutPrefix(part, key+"="); ok {
			return v
		}
	}
	return ""
}
