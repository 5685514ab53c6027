// Package awsapi is the wire runtime shared by Kumo's AWS-compatible APIs:
// it decodes EC2-protocol and Query-protocol requests into the structs that
// awsgen generates from AWS's models, calls the service, and encodes the
// XML response or error exactly as AWS does.
//
// Generated structs describe their wire form in struct tags of the form
//
//	awsapi:"in=GroupDescription,out=groupDescription,required"
//
// whose comma-separated options are:
//
//	in=NAME      request parameter name (already resolved for the protocol)
//	out=NAME     response element name
//	member=NAME  list item name: Query requests use Name.NAME.N, responses
//	             wrap items in <NAME> (EC2 requests always use Name.N)
//	key=NAME     map entry key name (Name.entry.N.NAME)
//	value=NAME   map entry value name (Name.entry.N.NAME)
//	flat         flattened list or map: Name.N, items not wrapped
//	required     the model requires the member whenever its parent is present
//
// The member's AWS type is given by its Go type: *string (string and enum),
// *int32 (integer), *int64 (long), *bool, *float64 (double), *float32
// (float), *time.Time (timestamp), []byte (blob), *Struct, []Elem for lists
// (elements are values: []string, []Struct, ...) and map[string]Elem.
package awsapi

import (
	"context"
	"fmt"
)

// Protocol is the AWS wire protocol a service speaks.
type Protocol int

const (
	// ProtocolEC2 is EC2's query dialect: flattened lists, <Response><Errors>.
	ProtocolEC2 Protocol = iota + 1
	// ProtocolQuery is the Query protocol of IAM and STS: Name.member.N lists,
	// results wrapped in <OpResult>, <ErrorResponse> errors.
	ProtocolQuery
)

func (p Protocol) String() string {
	switch p {
	case ProtocolEC2:
		return "ec2"
	case ProtocolQuery:
		return "query"
	default:
		return fmt.Sprintf("Protocol(%d)", int(p))
	}
}

// Operation is one action of a service model.
type Operation struct {
	Name string
	// Implemented is false for actions AWS has and Kumo does not; Invoke
	// answers them with UnsupportedOperation.
	Implemented bool
	// NewInput returns a pointer to a new, empty generated input struct.
	// It is nil when the operation is not implemented.
	NewInput func() any
	// Call invokes the operation on svc, which must implement the generated
	// Service interface, with in as returned by NewInput.
	Call func(ctx context.Context, svc any, in any) (any, error)
	// HasOutput is false when the model defines no output shape: EC2 then
	// answers <return>true</return> and Query omits the result element.
	HasOutput bool
	// ResultWrapper is the Query protocol's result element, e.g.
	// "CreateUserResult".
	ResultWrapper string
}

// ServiceModel describes a service: its identity on the wire and every
// operation of its AWS model, implemented or not.
type ServiceModel struct {
	Name         string // e.g. "ec2"
	APIVersion   string // e.g. "2016-11-15"
	XMLNamespace string // e.g. "http://ec2.amazonaws.com/doc/2016-11-15/"
	Protocol     Protocol
	Operations   map[string]*Operation
}

// NewInput returns a new *T as an any; generated models use NewInput[T] as
// an Operation's NewInput.
func NewInput[T any]() any { return new(T) }

// Bind adapts a method expression of a generated Service interface, such as
// ec2api.Service.CreateVpc, to an Operation's Call.
func Bind[S, I, O any](method func(S, context.Context, *I) (*O, error)) func(context.Context, any, any) (any, error) {
	return func(ctx context.Context, svc any, in any) (any, error) {
		s, ok := svc.(S)
		if !ok {
			return nil, fmt.Errorf("awsapi: service %T does not implement %T", svc, (*S)(nil))
		}
		input, ok := in.(*I)
		if !ok {
			return nil, fmt.Errorf("awsapi: input %T is not %T", in, (*I)(nil))
		}
		out, err := method(s, ctx, input)
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = new(O)
		}
		return out, nil
	}
}
