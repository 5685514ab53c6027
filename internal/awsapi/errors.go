package awsapi

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is an AWS API error: the code and message a client sees, and the
// HTTP status it is sent with. Handlers return it (or wrap it) to answer a
// request with a specific AWS error; any other error becomes InternalError.
type Error struct {
	Code       string
	Message    string
	HTTPStatus int
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Status is the HTTP status to send: HTTPStatus, or 400 when it is unset.
func (e *Error) Status() int {
	if e.HTTPStatus == 0 {
		return http.StatusBadRequest
	}
	return e.HTTPStatus
}

// NewError builds an Error whose message is format applied to args.
func NewError(code string, status int, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), HTTPStatus: status}
}

// ErrMissingAction answers a request that names no Action.
func ErrMissingAction() *Error {
	return NewError("MissingAction", http.StatusBadRequest,
		"The request must contain the parameter Action.")
}

// ErrMissingParameter answers a request that lacks the required parameter
// name (its full wire name, e.g. "IpPermissions.1.IpProtocol").
func ErrMissingParameter(name string) *Error {
	return NewError("MissingParameter", http.StatusBadRequest,
		"The request must contain the parameter %s", name)
}

// ErrInvalidParameterValue answers a request with a malformed or
// unacceptable value; the message should name the parameter and the value.
func ErrInvalidParameterValue(format string, args ...any) *Error {
	return NewError("InvalidParameterValue", http.StatusBadRequest, format, args...)
}

// ErrInvalidParameterCombination answers a request whose parameters are each
// valid but cannot be used together.
func ErrInvalidParameterCombination(format string, args ...any) *Error {
	return NewError("InvalidParameterCombination", http.StatusBadRequest, format, args...)
}

// ErrUnknownParameter answers a request carrying a parameter the operation
// does not define.
func ErrUnknownParameter(name string) *Error {
	return NewError("UnknownParameter", http.StatusBadRequest,
		"The parameter %s is not recognized", name)
}

// ErrInvalidAction answers a request whose Action the service does not have.
func ErrInvalidAction(action string) *Error {
	return NewError("InvalidAction", http.StatusBadRequest,
		"The action %s is not valid for this web service.", action)
}

// ErrUnsupportedOperation answers an action AWS has but Kumo does not
// implement yet.
func ErrUnsupportedOperation(action string) *Error {
	return NewError("UnsupportedOperation", http.StatusBadRequest,
		"The action %s is not supported by Kumo yet.", action)
}

// ErrDryRun answers a DryRun request that would have succeeded.
func ErrDryRun() *Error {
	return NewError("DryRunOperation", http.StatusPreconditionFailed,
		"Request would have succeeded, but DryRun flag is set.")
}

// ErrInternal answers a request that failed for a reason the client cannot
// fix. It deliberately carries no detail of the cause.
func ErrInternal() *Error {
	return NewError("InternalError", http.StatusInternalServerError,
		"An internal error has occurred.")
}

// AsError returns the *Error in err's chain, or InternalError when there is
// none, so that internal details never reach a client. It returns nil for a
// nil err.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) && e != nil {
		return e
	}
	return ErrInternal()
}
