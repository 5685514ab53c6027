package instancestate

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/kumo-cloud/kumo/internal/awsapi"
)

func allActions() []Action {
	return []Action{Start(), Stop(false), Stop(true), Reboot(), Terminate()}
}

// attrVariants covers every combination of the attributes that matter.
func attrVariants() []Attributes {
	var out []Attributes
	for _, prot := range []bool{false, true} {
		for _, b := range []ShutdownBehavior{"", ShutdownStop, ShutdownTerminate} {
			for _, root := range []string{"", RootEBS, RootInstanceStore} {
				a := testAttrs()
				a.DisableAPITermination, a.ShutdownBehavior, a.RootDeviceType = prot, b, root
				out = append(out, a)
			}
		}
	}
	return out
}

func TestPropertyNothingLeavesTerminated(t *testing.T) {
	for _, a := range attrVariants() {
		for _, act := range allActions() {
			tr, err := Request(Terminated, act, a)
			if err == nil && (tr.Current != Terminated || tr.Changed()) {
				t.Errorf("%s left terminated: %+v", act.Kind, tr)
			}
		}
		for _, ev := range events() {
			if tr := Observe(Terminated, ev, a); tr.Current != Terminated || tr.Changed() {
				t.Errorf("%s left terminated: %+v", ev.Kind, tr)
			}
		}
	}
}

func knownCodes() map[string]bool {
	return map[string]bool{
		ErrCodeIncorrectInstanceState: true,
		ErrCodeOperationNotPermitted:  true,
		ErrCodeUnsupportedOperation:   true,
	}
}

func TestPropertyEveryErrorIsTyped(t *testing.T) {
	for _, a := range attrVariants() {
		for _, s := range States() {
			for _, act := range allActions() {
				tr, err := Request(s, act, a)
				if err == nil {
					if tr.Previous != s || !tr.Current.Valid() {
						t.Errorf("(%s,%s): bad transition %+v", s, act.Kind, tr)
					}
					continue
				}
				var ae *awsapi.Error
				if !errors.As(err, &ae) || !knownCodes()[ae.Code] || ae.Message == "" || ae.Status() != 400 {
					t.Errorf("(%s,%s): untyped or unknown error %v", s, act.Kind, err)
				}
				if tr != (Transition{}) {
					t.Errorf("(%s,%s): error with a transition %+v", s, act.Kind, tr)
				}
			}
			for _, attr := range []string{AttrInstanceType, AttrUserData, "disableApiTermination"} {
				err := CheckModify(s, attr, a)
				var ae *awsapi.Error
				if err != nil && (!errors.As(err, &ae) || ae.Code != ErrCodeIncorrectInstanceState) {
					t.Errorf("modify %s in %s: %v", attr, s, err)
				}
			}
		}
	}
}

// Random walks through requests and observations only ever reach states
// the state machine allows, and Previous always matches where they were.
func TestPropertyRandomWalks(t *testing.T) {
	allowed := map[State][]State{
		Pending:      {Pending, Running, Stopping, ShuttingDown},
		Running:      {Running, Stopping, ShuttingDown},
		Stopping:     {Stopping, Stopped, ShuttingDown},
		Stopped:      {Stopped, Pending, ShuttingDown},
		ShuttingDown: {ShuttingDown, Terminated},
		Terminated:   {Terminated},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	variants := attrVariants()
	for walk := 0; walk < 2000; walk++ {
		a := variants[rng.IntN(len(variants))]
		s := Pending
		for step := 0; step < 30; step++ {
			var tr Transition
			if rng.IntN(2) == 0 {
				var err error
				tr, err = Request(s, allActions()[rng.IntN(5)], a)
				if err != nil {
					continue
				}
			} else {
				tr = Observe(s, events()[rng.IntN(len(events()))], a)
			}
			if tr.Previous != s {
				t.Fatalf("previous %s, was in %s", tr.Previous, s)
			}
			ok := false
			for _, n := range allowed[s] {
				ok = ok || n == tr.Current
			}
			if !ok {
				t.Fatalf("illegal %s→%s", s, tr.Current)
			}
			s = tr.Current
		}
	}
}
