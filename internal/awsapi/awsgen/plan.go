package main

import (
	"cmp"
	"fmt"
	"go/token"
	"slices"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// reservedNames are the identifiers every generated package declares.
func reservedNames() []string {
	return []string{"APIVersion", "XMLNamespace", "Service", "Model", "ImplementedOperations", "AllOperations"}
}

// plan is what to generate: the implemented operations and the shapes they
// reach, with the Go names chosen for them.
type plan struct {
	model       *apiModel
	ec2         bool
	implemented []string          // sorted operation names
	structs     []string          // reachable structure shapes, by Go name
	enums       []string          // reachable enum shapes, by Go name
	typeName    map[string]string // structure shape → Go type name
	inputType   map[string]string // implemented operation → Go input type
	outputType  map[string]string // implemented operation → Go output type
	synthetic   []syntheticType   // empty inputs/outputs the model has no shape for
}

// syntheticType is an empty struct standing in for a missing input or output.
type syntheticType struct {
	Name, Op, Role string
}

func newPlan(m *apiModel, ops []string) (*plan, error) {
	p := &plan{model: m, typeName: map[string]string{}, inputType: map[string]string{}, outputType: map[string]string{}}
	switch m.Metadata.Protocol {
	case "ec2":
		p.ec2 = true
	case "query":
	default:
		return nil, fmt.Errorf("protocol %q is not supported (want ec2 or query)", m.Metadata.Protocol)
	}
	for _, op := range ops {
		if _, ok := m.Operations[op]; !ok {
			return nil, fmt.Errorf("operation %s is not in the model", op)
		}
	}
	p.implemented = slices.Sorted(slices.Values(ops))
	p.implemented = slices.Compact(p.implemented)
	if err := p.collectShapes(); err != nil {
		return nil, err
	}
	if err := p.assignNames(); err != nil {
		return nil, err
	}
	return p, nil
}

// collectShapes finds the structures and enums reachable from the inputs
// and outputs of the implemented operations.
func (p *plan) collectShapes() error {
	seen := map[string]bool{}
	var visit func(name string) error
	visit = func(name string) error {
		if seen[name] {
			return nil
		}
		seen[name] = true
		s := p.model.Shapes[name]
		switch {
		case s.Type == "structure":
			p.structs = append(p.structs, name)
			for _, mb := range s.Members {
				if err := visit(mb.Ref.Shape); err != nil {
					return err
				}
			}
		case s.Type == "list":
			return visit(s.Member.Shape)
		case s.Type == "map":
			if err := visit(s.Key.Shape); err != nil {
				return err
			}
			return visit(s.Value.Shape)
		case len(s.Enum) > 0:
			p.enums = append(p.enums, name)
		}
		return nil
	}
	for _, name := range p.implemented {
		op := p.model.Operations[name]
		for _, ref := range []*shapeRef{op.Input, op.Output} {
			if ref == nil {
				continue
			}
			if p.model.Shapes[ref.Shape].Type != "structure" {
				return fmt.Errorf("operation %s: shape %s is not a structure", name, ref.Shape)
			}
			if err := visit(ref.Shape); err != nil {
				return err
			}
		}
	}
	return nil
}

// assignNames picks Go names: reserved names first, then the empty
// inputs/outputs, then structures in shape-name order, a numeric suffix
// resolving any collision.
func (p *plan) assignNames() error {
	taken := map[string]bool{}
	for _, n := range reservedNames() {
		taken[n] = true
	}
	for _, op := range p.implemented {
		o := p.model.Operations[op]
		p.inputType[op] = p.ioName(taken, op, "Input", o.Input)
		p.outputType[op] = p.ioName(taken, op, "Output", o.Output)
	}
	slices.Sort(p.structs)
	for _, shapeName := range p.structs {
		name, err := uniqueName(taken, exported(shapeName))
		if err != nil {
			return fmt.Errorf("shape %s: %w", shapeName, err)
		}
		p.typeName[shapeName] = name
	}
	for _, op := range p.implemented {
		o := p.model.Operations[op]
		if o.Input != nil {
			p.inputType[op] = p.typeName[o.Input.Shape]
		}
		if o.Output != nil {
			p.outputType[op] = p.typeName[o.Output.Shape]
		}
	}
	slices.SortFunc(p.structs, func(a, b string) int { return cmp.Compare(p.typeName[a], p.typeName[b]) })
	return p.reserveEnumNames(taken)
}

// ioName reserves <Op>Input / <Op>Output when the model has no shape for it.
func (p *plan) ioName(taken map[string]bool, op, role string, ref *shapeRef) string {
	if ref != nil {
		return ""
	}
	name := op + role
	taken[name] = true
	p.synthetic = append(p.synthetic, syntheticType{Name: name, Op: op, Role: role})
	return name
}

// reserveEnumNames claims <Enum>Values and Valid<Enum>, which must be free.
func (p *plan) reserveEnumNames(taken map[string]bool) error {
	slices.SortFunc(p.enums, func(a, b string) int { return cmp.Compare(exported(a), exported(b)) })
	for i, e := range p.enums {
		if i > 0 && exported(p.enums[i-1]) == exported(e) {
			return fmt.Errorf("enum shapes %s and %s have the same Go name", p.enums[i-1], e)
		}
		for _, n := range []string{exported(e) + "Values", "Valid" + exported(e)} {
			if taken[n] {
				return fmt.Errorf("enum %s: identifier %s is already used", e, n)
			}
			taken[n] = true
		}
	}
	return nil
}

// uniqueName returns base, or base2, base3, … when base is taken.
func uniqueName(taken map[string]bool, base string) (string, error) {
	if !token.IsIdentifier(base) || !token.IsExported(base) {
		return "", fmt.Errorf("%q is not an exported Go identifier", base)
	}
	name := base
	for i := 2; taken[name]; i++ {
		name = base + strconv.Itoa(i)
	}
	taken[name] = true
	return name, nil
}

// exported upper-cases the first letter of a model name.
func exported(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[size:]
}
