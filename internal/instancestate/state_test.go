package instancestate

import (
	"testing"
	"time"
)

func TestCodes(t *testing.T) {
	want := map[State]int{Pending: 0, Running: 16, ShuttingDown: 32, Terminated: 48, Stopping: 64, Stopped: 80}
	for s, c := range want {
		if s.Code() != c {
			t.Errorf("%s code %d, want %d", s, s.Code(), c)
		}
		for _, high := range []int{0, 256, 0x1200, 0xff00} {
			if got, ok := FromCode(high | c); !ok || got != s {
				t.Errorf("FromCode(%d) = %s %v, want %s", high|c, got, ok, s)
			}
		}
		if p, ok := Parse(string(s)); !ok || p != s {
			t.Errorf("Parse(%s)", s)
		}
	}
	if _, ok := FromCode(17); ok {
		t.Error("FromCode(17) accepted")
	}
	if _, ok := Parse("hibernated"); ok {
		t.Error("Parse accepted an unknown name")
	}
	if State("x").Valid() || !Terminated.Final() || Stopped.Final() {
		t.Error("Valid/Final")
	}
}

func TestVisible(t *testing.T) {
	at := time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC)
	if !Visible(Terminated, at, at.Add(59*time.Minute)) || Visible(Terminated, at, at.Add(time.Hour)) {
		t.Error("terminated instances stay visible exactly one hour")
	}
	if !Visible(Stopped, at, at.Add(1000*time.Hour)) {
		t.Error("a stopped instance stays visible")
	}
}

func TestCheckModify(t *testing.T) {
	msg := "The instance 'i-0123456789abcdef0' is not in the 'stopped' state."
	for _, s := range States() {
		for _, attr := range []string{AttrInstanceType, AttrUserData, AttrKernel, AttrRamdisk} {
			err := CheckModify(s, attr, testAttrs())
			if s == Stopped {
				if err != nil {
					t.Errorf("%s while stopped: %v", attr, err)
				}
				continue
			}
			checkErr(t, err, ErrCodeIncorrectInstanceState, msg)
		}
		for _, attr := range []string{"disableApiTermination", "instanceInitiatedShutdownBehavior", "sourceDestCheck"} {
			if err := CheckModify(s, attr, testAttrs()); err != nil {
				t.Errorf("%s in %s: %v", attr, s, err)
			}
		}
	}
}

func TestDefaultClock(t *testing.T) {
	a := Attributes{InstanceID: testID}
	before := time.Now().Add(-time.Second)
	if a.now().Before(before) {
		t.Error("nil Clock is not time.Now")
	}
}
