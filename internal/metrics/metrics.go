// Package metrics defines rcptguard's Prometheus metrics, named
// rcptguard_<subsystem>_<name>_<unit|total>, on a registry the caller owns (no globals).
// Label values are created at zero, so that alerts fire on the first event.
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/rcptguard/rcptguard/internal/content"
	"github.com/rcptguard/rcptguard/internal/engine"
	"github.com/rcptguard/rcptguard/internal/guard"
)

// Adapters are the doors that ask the guard.
var Adapters = []string{"policy", "milter", "relay", "http"}

// Metrics are the counters and histograms of one rcptguard process.
type Metrics struct {
	// Decisions counts recipient decisions by adapter, verdict, technique (the strongest
	// finding's, "none" without one) and whether monitor mode let the mail pass.
	Decisions *prometheus.CounterVec
	// Latency is the time a decision took, by adapter.
	Latency *prometheus.HistogramVec
	// Connections is the number of open connections, by listener.
	Connections *prometheus.GaugeVec
	// Reloads counts configuration reloads by result (ok, error).
	Reloads *prometheus.CounterVec
	// Candidates is the number of candidate domains in the engine in use.
	Candidates prometheus.Gauge
	// Quarantine counts what happens to held messages, by event (QuarantineEvents).
	Quarantine *prometheus.CounterVec

	// Panics counts panics recovered in a connection's goroutine, by listener: the
	// connection is closed and the rest keeps serving.
	Panics *prometheus.CounterVec
	// Refused counts connections refused at accept, by listener and reason
	// (RefuseReasons).
	Refused *prometheus.CounterVec
	// AuthFailures counts failed SMTP AUTH attempts on the relay, by reason
	// (AuthFailureReasons).
	AuthFailures *prometheus.CounterVec
	// StoreErrors counts failed operations of a store, by store (Stores).
	StoreErrors *prometheus.CounterVec
	// IntakeHandovers counts the messages the quarantine intake took in, by whether the
	// policy service's hand-over was found (IntakeHandoverResults): "missing" means the
	// intake checked the recipients again with the guard in use.
	IntakeHandovers *prometheus.CounterVec
	// DNSLookups counts what became of the DNS lookups that live evidence (dns.evidence)
	// wanted, by result (guard.LookupResults): answered, cache_hit, timeout, failed,
	// budget_exhausted (not asked: the message's dns.budget was spent).
	DNSLookups *prometheus.CounterVec
	// Content counts the messages a door read for its content rules, by door
	// (ContentDoors) and category: one count for each category a message carries (the
	// built-in ones exported at zero, custom ones from the configuration as they are
	// met), and "skipped" for a message over the limits. Names only, never content.
	Content *prometheus.CounterVec
}

// ContentDoors are the values of the content counter's door label.
var ContentDoors = []string{"milter", "relay", "intake", "http"}

// IntakeHandoverResults are the values of the intake hand-over counter's result label.
var IntakeHandoverResults = []string{"found", "missing"}

// Listeners are the names of the daemon's listeners.
var Listeners = []string{"policy", "milter", "relay", "http", "web", "intake"}

// RefuseReasons are the values of the refused counter's reason label.
var RefuseReasons = []string{"max_connections", "max_connections_per_client"}

// AuthFailureReasons are the values of the AUTH failure counter's reason label: wrong
// credentials, or an attempt refused because the client or the user hit the limit.
var AuthFailureReasons = []string{"bad_credentials", "limited"}

// Stores are the values of the store errors counter's store label.
var Stores = []string{"quarantine", "history", "sessions"}

// QuarantineEvents are the values of the quarantine counter's event label.
var QuarantineEvents = []string{"held", "passed_confirmed", "released_as_addressed", "released_corrected",
	"discarded", "expired", "reinjected", "reinject_retry", "reinject_failed", "reinject_unknown", "notice_sent", "notice_retry",
	"notice_failed", "reminder_sent", "reminder_retry", "reminder_failed", "returned", "return_retry",
	"return_failed", "notice_deferred", "notice_unknown"}

// New registers the metrics on reg.
func New(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	m := &Metrics{
		Decisions: f.NewCounterVec(prometheus.CounterOpts{
			Name: "rcptguard_guard_decisions_total",
			Help: "Recipient decisions by adapter, verdict, technique and monitor mode.",
		}, []string{"adapter", "verdict", "technique", "monitor"}),
		Latency: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "rcptguard_guard_decision_duration_seconds",
			Help:    "Time taken by one decision, by adapter.",
			Buckets: []float64{1e-6, 5e-6, 2e-5, 1e-4, 5e-4, 2e-3, 1e-2, 5e-2},
		}, []string{"adapter"}),
		Connections: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "rcptguard_listener_connections",
			Help: "Open connections by listener.",
		}, []string{"listener"}),
		Reloads: f.NewCounterVec(prometheus.CounterOpts{
			Name: "rcptguard_config_reloads_total",
			Help: "Configuration reloads by result.",
		}, []string{"result"}),
		Candidates: f.NewGauge(prometheus.GaugeOpts{
			Name: "rcptguard_engine_candidates",
			Help: "Candidate domains (protected, own, providers, known) in the engine in use.",
		}),
		Quarantine: f.NewCounterVec(prometheus.CounterOpts{
			Name: "rcptguard_quarantine_events_total",
			Help: "What happened to held messages, by event.",
		}, []string{"event"}),
		Panics: f.NewCounterVec(prometheus.CounterOpts{
			Name: "rcptguard_panics_total",
			Help: "Panics recovered in a connection's goroutine, by listener; the connection was closed.",
		}, []string{"listener"}),
		Refused: f.NewCounterVec(prometheus.CounterOpts{
			Name: "rcptguard_listener_refused_total",
			Help: "Connections refused at accept, by listener and reason.",
		}, []string{"listener", "reason"}),
		AuthFailures: f.NewCounterVec(prometheus.CounterOpts{
			Name: "rcptguard_relay_auth_failures_total",
			Help: "Failed SMTP AUTH attempts on the relay, by reason.",
		}, []string{"reason"}),
		StoreErrors: f.NewCounterVec(prometheus.CounterOpts{
			Name: "rcptguard_store_errors_total",
			Help: "Failed store operations, by store.",
		}, []string{"store"}),
		IntakeHandovers: f.NewCounterVec(prometheus.CounterOpts{
			Name: "rcptguard_intake_handovers_total",
			Help: "Messages the quarantine intake took in, by whether the policy service's hand-over was found.",
		}, []string{"result"}),
		DNSLookups: f.NewCounterVec(prometheus.CounterOpts{
			Name: "rcptguard_dns_evidence_lookups_total",
			Help: "DNS lookups wanted by live evidence, by result (answered, cache_hit, timeout, failed, budget_exhausted).",
		}, []string{"result"}),
		Content: f.NewCounterVec(prometheus.CounterOpts{
			Name: "rcptguard_content_messages_total",
			Help: "Messages read for content rules, by door and by category carried (skipped: over the limits).",
		}, []string{"door", "category"}),
	}
	for _, door := range ContentDoors {
		for _, c := range []content.Category{content.Credentials, content.Personal, content.Medical, content.Markings, content.Travel, content.Bulk} {
			m.Content.WithLabelValues(door, string(c))
		}
		m.Content.WithLabelValues(door, "skipped")
	}
	for _, r := range guard.LookupResults {
		m.DNSLookups.WithLabelValues(r.String())
	}
	for _, r := range IntakeHandoverResults {
		m.IntakeHandovers.WithLabelValues(r)
	}
	for _, l := range Listeners {
		m.Panics.WithLabelValues(l)
		for _, r := range RefuseReasons {
			m.Refused.WithLabelValues(l, r)
		}
	}
	for _, r := range AuthFailureReasons {
		m.AuthFailures.WithLabelValues(r)
	}
	for _, s := range Stores {
		m.StoreErrors.WithLabelValues(s)
	}
	for _, e := range QuarantineEvents {
		m.Quarantine.WithLabelValues(e)
	}
	for _, a := range Adapters {
		m.Latency.WithLabelValues(a)
		m.Connections.WithLabelValues(a)
		for v := guard.Allow; v <= guard.Invalid; v++ {
			m.Decisions.WithLabelValues(a, v.String(), "none", "false")
		}
	}
	m.Reloads.WithLabelValues("ok")
	m.Reloads.WithLabelValues("error")
	return m
}

// ContentRead counts what one message a door read for its content rules carried.
func (m *Metrics) ContentRead(door string, categories []string, skipped bool) {
	for _, c := range categories {
		m.Content.WithLabelValues(door, c).Inc()
	}
	if skipped {
		m.Content.WithLabelValues(door, "skipped").Inc()
	}
}

// Observe counts one recipient decision.
func (m *Metrics) Observe(adapter string, d guard.Decision, took time.Duration) {
	tech := "none"
	if len(d.Findings) > 0 {
		tech = d.Findings[0].Technique.String()
	}
	m.Count(adapter, d.Verdict, tech, d.Monitor, took)
}

// Count counts one recipient decision given by its parts; technique is "none" (or "")
// without a finding.
func (m *Metrics) Count(adapter string, v guard.Verdict, technique string, monitor bool, took time.Duration) {
	if technique == "" {
		technique = "none"
	}
	mon := "false"
	if monitor {
		mon = "true"
	}
	m.Decisions.WithLabelValues(adapter, v.String(), technique, mon).Inc()
	m.Latency.WithLabelValues(adapter).Observe(took.Seconds())
}

// DNSLookup counts one lookup that live evidence wanted (guard.LiveRule.OnLookup).
func (m *Metrics) DNSLookup(r guard.LookupResult) { m.DNSLookups.WithLabelValues(r.String()).Inc() }

// SetEngine records the size of the engine in use.
func (m *Metrics) SetEngine(e *engine.Engine) { m.Candidates.Set(float64(e.Size())) }
