package admin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/kumo-cloud/kumo/internal/nodeserver"
)

// Node is a hypervisor node as the admin API shows it.
type Node struct {
	NodeId    string    `json:"NodeId"`
	Name      string    `json:"Name"`
	Zone      string    `json:"Zone"`
	State     string    `json:"State"` // ready | draining | stale
	Connected bool      `json:"Connected"`
	VCpus     int       `json:"VCpus"`
	MemoryMiB int64     `json:"MemoryMiB"`
	DiskGiB   int64     `json:"DiskGiB"`
	Address   string    `json:"Address,omitempty"`
	Version   string    `json:"Version,omitempty"`
	Instances int       `json:"Instances"`
	LastSeen  time.Time `json:"LastSeen,omitzero"`
	CreatedAt time.Time `json:"CreatedAt"`

	// Accel is the accelerator the node runs guests with (kvm, tcg) and
	// AccelReason what its start-up KVM probe found.
	Accel       string `json:"Accel,omitempty"`
	AccelReason string `json:"AccelReason,omitempty"`
}

// JoinToken is a new node join token.
type JoinToken struct {
	Token     string    `json:"Token"`
	ExpiresAt time.Time `json:"ExpiresAt"`
}

// tokenRequest asks for a token valid TTLSeconds (0: the default, 24h).
type tokenRequest struct {
	TTLSeconds int64 `json:"TTLSeconds"`
}

// nodeRoutes registers the node administration routes.
func (s *Server) nodeRoutes(mux *http.ServeMux) {
	mux.Handle("POST /admin/v1/nodes/tokens", s.auth(s.createNodeToken))
	mux.Handle("GET /admin/v1/nodes", s.auth(s.listNodes))
	mux.Handle("POST /admin/v1/nodes/{node}/drain", s.auth(s.drainNode))
	mux.Handle("DELETE /admin/v1/nodes/{node}", s.auth(s.removeNode))
}

func (s *Server) nodesReady(w http.ResponseWriter) bool {
	if s.Nodes == nil {
		writeError(w, http.StatusServiceUnavailable, "Unsupported", "this server does not serve nodes")
		return false
	}
	return true
}

func (s *Server) createNodeToken(w http.ResponseWriter, r *http.Request) {
	if !s.nodesReady(w) {
		return
	}
	var req tokenRequest
	if r.ContentLength != 0 {
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<12)).Decode(&req); err != nil || req.TTLSeconds < 0 {
			writeError(w, http.StatusBadRequest, "InvalidParameterValue", `body must be JSON like {"TTLSeconds":86400}`)
			return
		}
	}
	ttl := time.Duration(req.TTLSeconds) * time.Second
	if ttl == 0 {
		ttl = nodeserver.DefaultTokenTTL
	}
	tok, err := s.Nodes.CreateJoinToken(r.Context(), ttl)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, JoinToken{Token: tok, ExpiresAt: time.Now().UTC().Add(ttl).Truncate(time.Second)})
}

func (s *Server) listNodes(w http.ResponseWriter, r *http.Request) {
	if !s.nodesReady(w) {
		return
	}
	list, err := s.Nodes.ListNodes(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]Node, 0, len(list))
	for _, n := range list {
		out = append(out, Node{NodeId: n.ID, Name: n.Name, Zone: n.Zone, State: n.Status, Connected: n.Connected,
			VCpus: n.VCPUs, MemoryMiB: n.MemoryMiB, DiskGiB: n.DiskGiB, Address: n.Address, Version: n.Version,
			Accel: n.Accel, AccelReason: n.AccelReason,
			Instances: n.Instances, LastSeen: n.LastSeen, CreatedAt: n.CreatedAt})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) drainNode(w http.ResponseWriter, r *http.Request) {
	if !s.nodesReady(w) {
		return
	}
	if _, err := s.Nodes.Drain(r.Context(), r.PathValue("node")); err != nil {
		s.failNode(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) removeNode(w http.ResponseWriter, r *http.Request) {
	if !s.nodesReady(w) {
		return
	}
	if err := s.Nodes.Remove(r.Context(), r.PathValue("node"), r.URL.Query().Get("force") == "true"); err != nil {
		s.failNode(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) failNode(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, nodeserver.ErrNodeBusy) {
		writeError(w, http.StatusConflict, "NodeBusy", err.Error())
		return
	}
	s.fail(w, r, err)
}

// CreateNodeToken makes a join token for `kumo node --join-token`; ttl 0
// means the server's default (24h).
func (c *Client) CreateNodeToken(ctx context.Context, ttl time.Duration) (JoinToken, error) {
	var out JoinToken
	err := c.do(ctx, http.MethodPost, "/admin/v1/nodes/tokens", tokenRequest{TTLSeconds: int64(ttl / time.Second)}, &out)
	return out, err
}

// ListNodes lists every node.
func (c *Client) ListNodes(ctx context.Context) ([]Node, error) {
	var out []Node
	err := c.do(ctx, http.MethodGet, "/admin/v1/nodes", nil, &out)
	return out, err
}

// DrainNode stops placements on a node (name or id).
func (c *Client) DrainNode(ctx context.Context, node string) error {
	return c.do(ctx, http.MethodPost, "/admin/v1/nodes/"+url.PathEscape(node)+"/drain", nil, nil)
}

// RemoveNode deletes a node (name or id) and revokes its certificate;
// force removes it even while it hosts instances.
func (c *Client) RemoveNode(ctx context.Context, node string, force bool) error {
	p := "/admin/v1/nodes/" + url.PathEscape(node)
	if force {
		p += "?force=true"
	}
	return c.do(ctx, http.MethodDelete, p, nil, nil)
}
