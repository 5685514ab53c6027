package awsapi

import (
	"context"
	"fmt"
	"net/url"
	"reflect"
)

// AuthorizeFunc decides whether the caller in ctx may run operation op with
// the decoded input in. A non-nil error (typically an *Error such as
// UnauthorizedOperation) refuses the request.
type AuthorizeFunc func(ctx context.Context, op string, in any) error

// Invoker runs requests against a service model. The zero value runs them
// without authorization checks.
type Invoker struct {
	// Authorize, when set, runs after the input is decoded and before the
	// DryRun check, so that a DryRun request reports whether the caller is
	// allowed, as EC2 does.
	Authorize AuthorizeFunc
}

// Invoke runs the request params against svc with a zero Invoker.
func Invoke(ctx context.Context, m *ServiceModel, svc any, params url.Values, requestID string) (body []byte, err error) {
	return Invoker{}.Invoke(ctx, m, svc, params, requestID)
}

// Invoke looks up params' Action in m, decodes the input, authorizes it,
// honours DryRun, calls the operation on svc (which implements the model's
// generated Service interface) and encodes its output. On failure the
// caller answers with EncodeError(m.Protocol, m.XMLNamespace, requestID,
// err); errors that are not *Error are internal and should be logged.
func (iv Invoker) Invoke(ctx context.Context, m *ServiceModel, svc any, params url.Values, requestID string) ([]byte, error) {
	op, err := lookup(m, params)
	if err != nil {
		return nil, err
	}
	in := op.NewInput()
	if err := Decode(m.Protocol, params, in); err != nil {
		return nil, fmt.Errorf("%s %s: %w", m.Name, op.Name, err)
	}
	if iv.Authorize != nil {
		if err := iv.Authorize(ctx, op.Name, in); err != nil {
			return nil, fmt.Errorf("%s %s: authorize: %w", m.Name, op.Name, err)
		}
	}
	if isDryRun(in) {
		return nil, ErrDryRun()
	}
	out, err := op.Call(ctx, svc, in)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", m.Name, op.Name, err)
	}
	body, err := EncodeResponse(m, op, requestID, out)
	if err != nil {
		return nil, fmt.Errorf("%s %s: encode response: %w", m.Name, op.Name, err)
	}
	return body, nil
}

// lookup finds the implemented operation named by params' Action.
func lookup(m *ServiceModel, params url.Values) (*Operation, error) {
	action := params.Get("Action")
	if action == "" {
		return nil, ErrMissingAction()
	}
	op := m.Operations[action]
	if op == nil {
		return nil, ErrInvalidAction(quote(action))
	}
	if !op.Implemented || op.NewInput == nil || op.Call == nil {
		return nil, ErrUnsupportedOperation(op.Name)
	}
	return op, nil
}

// isDryRun reports whether in, a pointer to an input struct, has a DryRun
// *bool field set to true.
func isDryRun(in any) bool {
	v := reflect.Indirect(reflect.ValueOf(in))
	if v.Kind() != reflect.Struct {
		return false
	}
	f := v.FieldByName("DryRun")
	if !f.IsValid() || f.Type() != reflect.TypeFor[*bool]() || f.IsNil() {
		return false
	}
	return f.Elem().Bool()
}
