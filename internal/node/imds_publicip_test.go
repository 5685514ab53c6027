package node

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kumo-cloud/kumo/internal/imds"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
)

// The elastic IP in an instance's desired state is its metadata public-ipv4.
func TestIMDSServesTheElasticIP(t *testing.T) {
	spec := nodeapi.InstanceSpec{ID: "i-00000000000000001", Region: "kumo-1", AvailabilityZone: "kumo-1a",
		Network: nodeapi.NetworkInterface{InterfaceID: "eni-00000000000000001", MAC: "02:00:00:00:00:01", PrivateIP: "10.0.1.10",
			SubnetCIDR: "10.0.1.0/24", VPCCIDR: "10.0.0.0/16", PublicIP: "192.0.2.7"}}
	srv := &imds.Server{TokenKey: make([]byte, 32), Lookup: func(*http.Request) (*imds.Instance, error) { return imdsInstance(spec), nil }}
	for path, want := range map[string]string{
		"/latest/meta-data/public-ipv4":                                            "192.0.2.7",
		"/latest/meta-data/network/interfaces/macs/02:00:00:00:00:01/public-ipv4s": "192.0.2.7",
	} {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "http://169.254.169.254"+path, nil))
		body, _ := io.ReadAll(w.Result().Body)
		if w.Code != http.StatusOK || string(body) != want {
			t.Errorf("%s: %d %q, want %q", path, w.Code, body, want)
		}
	}
}
