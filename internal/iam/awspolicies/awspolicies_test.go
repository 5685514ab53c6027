package awspolicies

import (
	"encoding/json"
	"testing"
)

func TestEveryPolicyHasAValidDocument(t *testing.T) {
	all := All()
	if len(all) != 8 {
		t.Fatalf("%d policies, want 8", len(all))
	}
	for _, p := range all {
		var doc struct {
			Version   string
			Statement []map[string]any
		}
		if err := json.Unmarshal([]byte(p.Document), &doc); err != nil || doc.Version != "2012-10-17" || len(doc.Statement) == 0 {
			t.Errorf("%s: document %v / %+v", p.Name, err, doc)
		}
		got, ok := Get(p.ARN())
		if !ok || got.ID != p.ID || p.ARN() != ARNPrefix+p.Name {
			t.Errorf("Get(%s) = %+v %v", p.ARN(), got, ok)
		}
	}
	if _, ok := Get("arn:aws:iam::aws:policy/NoSuchPolicy"); ok {
		t.Error("Get found a policy that does not exist")
	}
}
