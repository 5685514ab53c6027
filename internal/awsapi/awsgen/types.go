package main

import (
	"fmt"
	"go/token"
	"slices"
	"strings"
)

// scalarTypes maps model scalar types to Go types.
func scalarType(modelType string) (string, bool) {
	switch modelType {
	case "string":
		return "string", true
	case "integer":
		return "int32", true
	case "long":
		return "int64", true
	case "boolean":
		return "bool", true
	case "double":
		return "float64", true
	case "float":
		return "float32", true
	case "timestamp":
		return "time.Time", true
	}
	return "", false
}

// goType is the Go type of a member (elem false: scalars and structures are
// pointers) or of a list element or map value (elem true: values).
func (p *plan) goType(shapeName string, elem bool) (string, error) {
	s := p.model.Shapes[shapeName]
	ptr := "*"
	if elem {
		ptr = ""
	}
	switch s.Type {
	case "structure":
		return ptr + p.typeName[shapeName], nil
	case "blob":
		return "[]byte", nil
	case "list":
		if t := p.model.Shapes[s.Member.Shape].Type; t == "list" || t == "map" {
			return "", fmt.Errorf("list %s of %s is not supported", shapeName, t)
		}
		e, err := p.goType(s.Member.Shape, true)
		return "[]" + e, err
	case "map":
		if p.model.Shapes[s.Key.Shape].Type != "string" {
			return "", fmt.Errorf("map %s: keys must be strings", shapeName)
		}
		if t := p.model.Shapes[s.Value.Shape].Type; t == "list" || t == "map" {
			return "", fmt.Errorf("map %s of %s is not supported", shapeName, t)
		}
		v, err := p.goType(s.Value.Shape, true)
		return "map[string]" + v, err
	}
	if t, ok := scalarType(s.Type); ok {
		return ptr + t, nil
	}
	return "", fmt.Errorf("shape %s has unsupported type %q", shapeName, s.Type)
}

// fieldName is the Go field of a member: the member name, exported.
func fieldName(member string) (string, error) {
	name := exported(member)
	if !token.IsIdentifier(name) {
		return "", fmt.Errorf("member %q is not a Go identifier", member)
	}
	return name, nil
}

// tag renders the awsapi struct tag of member mb of structure s; see the
// awsapi package comment for its options.
func (p *plan) tag(s *shape, mb member) string {
	target := p.model.Shapes[mb.Ref.Shape]
	loc := mb.Ref.LocationName
	if loc == "" {
		loc = target.LocationName
	}
	opts := []string{"in=" + p.inputName(mb, loc), "out=" + orDefault(loc, mb.Name)}
	switch target.Type {
	case "list":
		opts = append(opts, "member="+orDefault(target.Member.LocationName, "member"))
	case "map":
		opts = append(opts, "key="+orDefault(target.Key.LocationName, "key"),
			"value="+orDefault(target.Value.LocationName, "value"))
	}
	if (target.Type == "list" || target.Type == "map") && (target.Flattened || mb.Ref.Flattened) {
		opts = append(opts, "flat")
	}
	if slices.Contains(s.Required, mb.Name) {
		opts = append(opts, "required")
	}
	return `awsapi:"` + strings.Join(opts, ",") + `"`
}

// inputName is a member's request parameter name. EC2 uses queryName, else
// locationName with its first letter upper-cased, else the member name; the
// Query protocol uses locationName, else the member name.
func (p *plan) inputName(mb member, loc string) string {
	if !p.ec2 {
		return orDefault(loc, mb.Name)
	}
	if mb.Ref.QueryName != "" {
		return mb.Ref.QueryName
	}
	if loc != "" {
		return exported(loc)
	}
	return mb.Name
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// checkWireNames refuses a structure whose members would share a request
// parameter or a Go field.
func (p *plan) checkWireNames(shapeName string) error {
	s := p.model.Shapes[shapeName]
	fields, params := map[string]bool{}, map[string]bool{}
	for _, mb := range s.Members {
		f, err := fieldName(mb.Name)
		if err != nil {
			return fmt.Errorf("shape %s: %w", shapeName, err)
		}
		loc := orDefault(mb.Ref.LocationName, p.model.Shapes[mb.Ref.Shape].LocationName)
		in := p.inputName(mb, loc)
		if fields[f] || params[in] {
			return fmt.Errorf("shape %s: member %s collides with another member", shapeName, mb.Name)
		}
		fields[f], params[in] = true, true
	}
	return nil
}
