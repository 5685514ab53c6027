package ec2

import "testing"

// TestDefaultCredits: EC2's defaults per family (a t2 catalogue entry is
// possible through --instance-types).
func TestDefaultCredits(t *testing.T) {
	for _, c := range []struct {
		t    InstanceType
		want string
	}{
		{InstanceType{Name: "t2.micro", Burstable: true}, creditsStandard},
		{InstanceType{Name: "t3.micro", Burstable: true}, creditsUnlimited},
		{InstanceType{Name: "t3a.small", Burstable: true}, creditsUnlimited},
		{InstanceType{Name: "t4g.nano", Burstable: true}, creditsUnlimited},
		{InstanceType{Name: "m5.large"}, creditsStandard},
	} {
		if got := defaultCredits(c.t); got != c.want {
			t.Errorf("%s: %s, want %s", c.t.Name, got, c.want)
		}
	}
}
