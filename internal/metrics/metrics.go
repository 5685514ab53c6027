// Package metrics defines Kumo's Prometheus metrics: API requests by
// service, action and code, their latency, and the database pool's use, so
// a connection leak is visible long before it stops the controller.
package metrics

import (
	"database/sql"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Unknown is the label value of anything a caller named that the server
// does not know (an action, a service): metric labels come only from
// fixed sets, never from client input.
const Unknown = "unknown"

// MaxRequestSeries bounds the distinct (service, action, code) label sets
// of the request metrics, whatever callers pass: a guard behind the
// callers' own normalisation, so a bug there cannot grow memory and
// /metrics without bound. Later sets are counted under Unknown.
const MaxRequestSeries = 4096

// Registry holds every metric of one server process.
type Registry struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec

	mu     sync.Mutex
	series map[[3]string]bool // label sets seen, at most MaxRequestSeries
}

// New makes a registry with Go runtime and process collectors.
func New() *Registry {
	r := &Registry{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kumo_api_requests_total",
			Help: "API requests by service, action and result code (OK for success).",
		}, []string{"service", "action", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kumo_api_request_duration_seconds",
			Help:    "API request latency by service and action.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"service", "action"}),
	}
	r.reg.MustRegister(r.requests, r.latency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// ObserveRequest records one API request. service, action and code must
// come from fixed sets (a model's operations, an error table); callers
// map anything else to Unknown.
func (r *Registry) ObserveRequest(service, action, code string, d time.Duration) {
	if action == "" {
		action = Unknown
	}
	if !r.admit(service, action, code) {
		service, action, code = Unknown, Unknown, Unknown
	}
	r.requests.WithLabelValues(service, action, code).Inc()
	r.latency.WithLabelValues(service, action).Observe(d.Seconds())
}

// admit reports whether a label set may have its own series.
func (r *Registry) admit(service, action, code string) bool {
	key := [3]string{service, action, code}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.series[key] {
		return true
	}
	if len(r.series) >= MaxRequestSeries {
		return false
	}
	if r.series == nil {
		r.series = map[[3]string]bool{}
	}
	r.series[key] = true
	return true
}

// WatchDB exports a database pool's statistics.
func (r *Registry) WatchDB(stats func() sql.DBStats) {
	r.reg.MustRegister(&dbCollector{stats: stats})
}

// Handler serves the metrics in Prometheus text format.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{})
}

// Gatherer exposes the registry to tests.
func (r *Registry) Gatherer() prometheus.Gatherer { return r.reg }

var (
	dbOpen     = prometheus.NewDesc("kumo_db_connections_open", "Open database connections.", nil, nil)
	dbInUse    = prometheus.NewDesc("kumo_db_connections_in_use", "Database connections in use.", nil, nil)
	dbIdle     = prometheus.NewDesc("kumo_db_connections_idle", "Idle database connections.", nil, nil)
	dbMaxOpen  = prometheus.NewDesc("kumo_db_connections_max_open", "The pool's bound.", nil, nil)
	dbWaits    = prometheus.NewDesc("kumo_db_wait_total", "Times a caller waited for a connection.", nil, nil)
	dbWaitTime = prometheus.NewDesc("kumo_db_wait_seconds_total", "Time spent waiting for a connection.", nil, nil)
)

type dbCollector struct {
	stats func() sql.DBStats
}

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{dbOpen, dbInUse, dbIdle, dbMaxOpen, dbWaits, dbWaitTime} {
		ch <- d
	}
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	ch <- prometheus.MustNewConstMetric(dbOpen, prometheus.GaugeValue, float64(s.OpenConnections))
	ch <- prometheus.MustNewConstMetric(dbInUse, prometheus.GaugeValue, float64(s.InUse))
	ch <- prometheus.MustNewConstMetric(dbIdle, prometheus.GaugeValue, float64(s.Idle))
	ch <- prometheus.MustNewConstMetric(dbMaxOpen, prometheus.GaugeValue, float64(s.MaxOpenConnections))
	ch <- prometheus.MustNewConstMetric(dbWaits, prometheus.CounterValue, float64(s.WaitCount))
	ch <- prometheus.MustNewConstMetric(dbWaitTime, prometheus.CounterValue, s.WaitDuration.Seconds())
}
