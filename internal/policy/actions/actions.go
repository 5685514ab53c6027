// Package actions is Kumo's authorization table: for every EC2, S3, IAM
// and STS action Kumo authorizes, the resource types (and their ARN
// templates) it authorizes against and the condition keys it supports,
// as AWS's Service Authorization Reference gives them. The table is data
// (authz.tsv, embedded); Load parses it.
package actions

import (
	"bufio"
	_ "embed"
	"fmt"
	"slices"
	"strings"
)

//go:embed authz.tsv
var table string

// ResourceType is a resource type of a service: its ARN template, with
// ${Partition}, ${Region}, ${Account} and an id variable, and the
// condition keys a request on such a resource carries.
type ResourceType struct {
	Service       string
	Name          string // "instance"
	ARN           string // "arn:${Partition}:ec2:${Region}:${Account}:instance/${InstanceId}"
	ConditionKeys []string
}

// ARNFor expands the template: vars maps variable names (Partition,
// Region, Account, InstanceId ...) to values. Partition defaults to
// "aws"; a variable with no value expands to "".
func (r *ResourceType) ARNFor(vars map[string]string) string {
	var b strings.Builder
	s := r.ARN
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		name := s[i+2 : i+j]
		v, ok := vars[name]
		if !ok && name == "Partition" {
			v = "aws"
		}
		b.WriteString(v)
		s = s[i+j+1:]
	}
}

// ResourceRef is one resource type an action authorizes against.
type ResourceRef struct {
	Type     *ResourceType
	Required bool // marked * in the reference: the request always names one
}

// Action is one IAM action.
type Action struct {
	Name          string // "ec2:RunInstances"
	Access        string // List, Read, Write, Tagging, Permissions management
	Resources     []ResourceRef
	ConditionKeys []string // the action's own keys, beyond its resources'
}

// ConditionKeysFor returns every key a request for the action on a resource
// of the named type can carry (the action's and the resource type's);
// typeName "" gives the action's own.
func (a *Action) ConditionKeysFor(typeName string) []string {
	keys := slices.Clone(a.ConditionKeys)
	for _, r := range a.Resources {
		if r.Type.Name == typeName {
			keys = append(keys, r.Type.ConditionKeys...)
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// Resource returns the action's resource type of that name.
func (a *Action) Resource(typeName string) (ResourceRef, bool) {
	for _, r := range a.Resources {
		if r.Type.Name == typeName {
			return r, true
		}
	}
	return ResourceRef{}, false
}

// Table is the loaded authorization table.
type Table struct {
	resources  map[string]*ResourceType // "ec2/instance"
	actions    map[string]*Action       // lower-case name
	operations map[string][]string      // "s3/listobjectsv2" -> action names
	order      []string                 // action names as listed
}

// Load parses the embedded table.
func Load() (*Table, error) { return Parse(table) }

// Parse parses a table in authz.tsv's format.
func Parse(text string) (*Table, error) {
	t := &Table{resources: map[string]*ResourceType{}, actions: map[string]*Action{}, operations: map[string][]string{}}
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := t.parseLine(strings.Split(line, "\t")); err != nil {
			return nil, fmt.Errorf("authorization table line %d: %w", n, err)
		}
	}
	return t, sc.Err()
}

func (t *Table) parseLine(f []string) error {
	switch {
	case f[0] == "resource" && len(f) == 5:
		key := f[1] + "/" + f[2]
		if t.resources[key] != nil {
			return fmt.Errorf("resource type %s listed twice", key)
		}
		t.resources[key] = &ResourceType{Service: f[1], Name: f[2], ARN: f[3], ConditionKeys: list(f[4])}
	case f[0] == "action" && len(f) == 5:
		return t.addAction(f[1], f[2], list(f[3]), list(f[4]))
	case f[0] == "operation" && len(f) == 4:
		t.operations[f[1]+"/"+strings.ToLower(f[2])] = list(f[3])
	default:
		return fmt.Errorf("unknown record %q", strings.Join(f, "\t"))
	}
	return nil
}

func (t *Table) addAction(name, access string, resources, keys []string) error {
	service, _, ok := strings.Cut(name, ":")
	if !ok {
		return fmt.Errorf("action %q has no service prefix", name)
	}
	if t.actions[strings.ToLower(name)] != nil {
		return fmt.Errorf("action %s listed twice", name)
	}
	a := &Action{Name: name, Access: access, ConditionKeys: keys}
	for _, r := range resources {
		typeName, required := strings.CutSuffix(r, "*")
		rt := t.resources[service+"/"+typeName]
		if rt == nil {
			return fmt.Errorf("action %s: unknown resource type %s", name, r)
		}
		a.Resources = append(a.Resources, ResourceRef{Type: rt, Required: required})
	}
	t.actions[strings.ToLower(name)] = a
	t.order = append(t.order, name)
	return nil
}

func list(s string) []string {
	if s == "-" || s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// Action returns the named action ("ec2:RunInstances"; any case).
func (t *Table) Action(name string) (*Action, bool) {
	a, ok := t.actions[strings.ToLower(name)]
	return a, ok
}

// Actions lists every action in the table's order.
func (t *Table) Actions() []*Action {
	out := make([]*Action, 0, len(t.order))
	for _, n := range t.order {
		out = append(out, t.actions[strings.ToLower(n)])
	}
	return out
}

// ForOperation returns the actions an API operation of a service
// ("ec2", "s3", "iam", "sts") is authorized by: those the table maps it
// to (S3, where operations and actions differ: ListObjectsV2 is
// s3:ListBucket, CopyObject is s3:PutObject on the target and
// s3:GetObject on the source), or else the action of the same name.
// It returns nil when the table has no entry.
func (t *Table) ForOperation(service, operation string) []*Action {
	names, ok := t.operations[service+"/"+strings.ToLower(operation)]
	if !ok {
		names = []string{service + ":" + operation}
	}
	var out []*Action
	for _, n := range names {
		a, ok := t.Action(n)
		if !ok {
			return nil
		}
		out = append(out, a)
	}
	return out
}

// ResourceType returns a service's resource type.
func (t *Table) ResourceType(service, name string) (*ResourceType, bool) {
	r, ok := t.resources[service+"/"+name]
	return r, ok
}
