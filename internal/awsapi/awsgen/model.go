package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
)

// apiModel is the part of an AWS api-2.json model that awsgen uses.
type apiModel struct {
	Metadata   metadata             `json:"metadata"`
	Operations map[string]operation `json:"operations"`
	Shapes     map[string]*shape    `json:"shapes"`
}

type metadata struct {
	APIVersion     string `json:"apiVersion"`
	EndpointPrefix string `json:"endpointPrefix"`
	Protocol       string `json:"protocol"`
	XMLNamespace   string `json:"xmlNamespace"`
}

type operation struct {
	Name   string    `json:"name"`
	Input  *shapeRef `json:"input"`
	Output *shapeRef `json:"output"`
}

// shapeRef points at a shape from an operation, a structure member, or a
// list/map's member/key/value, with the wire names given at that point.
type shapeRef struct {
	Shape         string `json:"shape"`
	LocationName  string `json:"locationName"`
	QueryName     string `json:"queryName"`
	Flattened     bool   `json:"flattened"`
	ResultWrapper string `json:"resultWrapper"`
}

type shape struct {
	Type         string    `json:"type"`
	Required     []string  `json:"required"`
	Members      members   `json:"members"`
	Member       *shapeRef `json:"member"`
	Key          *shapeRef `json:"key"`
	Value        *shapeRef `json:"value"`
	Enum         []string  `json:"enum"`
	Flattened    bool      `json:"flattened"`
	LocationName string    `json:"locationName"`
}

// member is a structure member; members keeps the model's order, which is
// the order fields are declared and encoded in.
type member struct {
	Name string
	Ref  shapeRef
}

type members []member

func (ms *members) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil { // {
		return fmt.Errorf("members: %w", err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("members: %w", err)
		}
		name, ok := tok.(string)
		if !ok {
			return fmt.Errorf("members: unexpected %v", tok)
		}
		var ref shapeRef
		if err := dec.Decode(&ref); err != nil {
			return fmt.Errorf("member %s: %w", name, err)
		}
		*ms = append(*ms, member{Name: name, Ref: ref})
	}
	return nil
}

// loadModel reads and checks an api-2.json file.
func loadModel(path string) (*apiModel, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read model: %w", err)
	}
	var m apiModel
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("parse model %s: %w", path, err)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("model %s: %w", path, err)
	}
	return &m, nil
}

// check verifies that every reference names a shape, so that the generator
// can index Shapes freely.
func (m *apiModel) check() error {
	for name, op := range m.Operations {
		for _, ref := range []*shapeRef{op.Input, op.Output} {
			if ref != nil && m.Shapes[ref.Shape] == nil {
				return fmt.Errorf("operation %s: unknown shape %q", name, ref.Shape)
			}
		}
	}
	for name, s := range m.Shapes {
		refs := []*shapeRef{s.Member, s.Key, s.Value}
		for i := range s.Members {
			refs = append(refs, &s.Members[i].Ref)
		}
		for _, ref := range refs {
			if ref != nil && m.Shapes[ref.Shape] == nil {
				return fmt.Errorf("shape %s: unknown shape %q", name, ref.Shape)
			}
		}
	}
	return nil
}
