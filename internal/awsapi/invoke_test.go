package awsapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

type tService interface {
	CreateGroup(ctx context.Context, in *tEC2Input) (*tEC2Output, error)
}

type tServiceFunc func(ctx context.Context, in *tEC2Input) (*tEC2Output, error)

func (f tServiceFunc) CreateGroup(ctx context.Context, in *tEC2Input) (*tEC2Output, error) {
	return f(ctx, in)
}

func invokeModel() *ServiceModel {
	m := ec2Model()
	m.Operations = map[string]*Operation{
		"CreateGroup": {Name: "CreateGroup", Implemented: true, HasOutput: true,
			NewInput: NewInput[tEC2Input], Call: Bind(tService.CreateGroup)},
		"DescribeInstances": {Name: "DescribeInstances"},
	}
	return m
}

func TestInvoke(t *testing.T) {
	var got *tEC2Input
	svc := tServiceFunc(func(_ context.Context, in *tEC2Input) (*tEC2Output, error) {
		got = in
		return &tEC2Output{Next: ptr("n")}, nil
	})
	body, err := Invoke(context.Background(), invokeModel(), svc, mustParse(t, "Action=CreateGroup&GroupName=g&DryRun=false"), "rid")
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	if got == nil || *got.GroupName != "g" {
		t.Errorf("handler got %+v", got)
	}
	if !strings.HasSuffix(string(body), `<requestId>rid</requestId><nextToken>n</nextToken></CreateGroupResponse>`) {
		t.Errorf("body = %s", body)
	}
}

func TestInvokeNilOutput(t *testing.T) {
	svc := tServiceFunc(func(context.Context, *tEC2Input) (*tEC2Output, error) { return nil, nil })
	body, err := Invoke(context.Background(), invokeModel(), svc, mustParse(t, "Action=CreateGroup&GroupName=g"), "rid")
	if err != nil || !strings.HasSuffix(string(body), `<requestId>rid</requestId></CreateGroupResponse>`) {
		t.Errorf("Invoke = %s, %v", body, err)
	}
}

func TestInvokeErrors(t *testing.T) {
	handlerErr := NewError("InvalidGroup.Duplicate", http.StatusBadRequest, "The security group 'g' already exists")
	tests := []struct {
		name, query, code string
		status            int
		msg               string
	}{
		{"missing action", "GroupName=g", "MissingAction", 400, "The request must contain the parameter Action."},
		{"unknown action", "Action=Frobnicate", "InvalidAction", 400, "The action Frobnicate is not valid for this web service."},
		{"unimplemented action", "Action=DescribeInstances", "UnsupportedOperation", 400, "The action DescribeInstances is not supported by Kumo yet."},
		{"bad input", "Action=CreateGroup", "MissingParameter", 400, "The request must contain the parameter GroupName"},
		{"dry run", "Action=CreateGroup&GroupName=g&DryRun=true", "DryRunOperation", 412, "Request would have succeeded, but DryRun flag is set."},
		{"handler error", "Action=CreateGroup&GroupName=dup", "InvalidGroup.Duplicate", 400, "The security group 'g' already exists"},
		{"internal error", "Action=CreateGroup&GroupName=boom", "InternalError", 500, "An internal error has occurred."},
	}
	svc := tServiceFunc(func(_ context.Context, in *tEC2Input) (*tEC2Output, error) {
		switch *in.GroupName {
		case "dup":
			return nil, handlerErr
		case "boom":
			return nil, errors.New("disk on fire")
		}
		t.Errorf("handler called for %q", *in.GroupName)
		return &tEC2Output{}, nil
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, err := Invoke(context.Background(), invokeModel(), svc, mustParse(t, tt.query), "rid")
			if err == nil {
				t.Fatalf("Invoke succeeded: %s", body)
			}
			e := AsError(err)
			if e.Code != tt.code || e.Status() != tt.status || e.Message != tt.msg {
				t.Errorf("error = %d %s %q, want %d %s %q", e.Status(), e.Code, e.Message, tt.status, tt.code, tt.msg)
			}
		})
	}
}

func TestInvokeAuthorizeRunsBeforeDryRun(t *testing.T) {
	denied := NewError("UnauthorizedOperation", http.StatusForbidden, "You are not authorized to perform this operation.")
	var seenOp string
	iv := Invoker{Authorize: func(_ context.Context, op string, in any) error {
		seenOp = op
		if *in.(*tEC2Input).GroupName == "forbidden" {
			return denied
		}
		return nil
	}}
	svc := tServiceFunc(func(context.Context, *tEC2Input) (*tEC2Output, error) {
		t.Error("handler called")
		return nil, nil
	})
	_, err := iv.Invoke(context.Background(), invokeModel(), svc, mustParse(t, "Action=CreateGroup&GroupName=forbidden&DryRun=true"), "r")
	if !errors.Is(err, denied) || seenOp != "CreateGroup" {
		t.Errorf("denied DryRun: err = %v, op = %q", err, seenOp)
	}
	_, err = iv.Invoke(context.Background(), invokeModel(), svc, mustParse(t, "Action=CreateGroup&GroupName=ok&DryRun=true"), "r")
	if AsError(err).Code != "DryRunOperation" {
		t.Errorf("allowed DryRun: err = %v", err)
	}
}

func TestBindRejectsWrongService(t *testing.T) {
	call := Bind(tService.CreateGroup)
	if _, err := call(context.Background(), "not a service", &tEC2Input{}); err == nil {
		t.Error("Bind accepted a service of the wrong type")
	}
	svc := tServiceFunc(func(context.Context, *tEC2Input) (*tEC2Output, error) { return nil, nil })
	if _, err := call(context.Background(), svc, &tQueryInput{}); err == nil {
		t.Error("Bind accepted an input of the wrong type")
	}
}

func TestProtocolString(t *testing.T) {
	for p, want := range map[Protocol]string{ProtocolEC2: "ec2", ProtocolQuery: "query", 9: "Protocol(9)"} {
		if p.String() != want {
			t.Errorf("%d.String() = %q, want %q", int(p), p.String(), want)
		}
	}
}
