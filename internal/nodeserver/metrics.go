package nodeserver

import "github.com/prometheus/client_golang/prometheus"

// Collector exports kumo_nodes_connected: nodes with an open stream.
func (s *Server) Collector() prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "kumo_nodes_connected",
		Help: "Nodes with an open Connect stream to this server.",
	}, func() float64 { return float64(s.ConnectedNodes()) })
}
