package daemon

import (
	"net/http"

	"github.com/rcptguard/rcptguard/internal/intake"
	"github.com/rcptguard/rcptguard/internal/milter"
	"github.com/rcptguard/rcptguard/internal/panics"
	"github.com/rcptguard/rcptguard/internal/policyd"
	"github.com/rcptguard/rcptguard/internal/relay"
)

// recoverPanics makes srv, the server of listener name, count the panics it recovers
// in rcptguard_panics_total{listener}; HTTP servers get a handler that recovers them.
// No input on any listener can stop the daemon or another listener.
func (d *Daemon) recoverPanics(name string, srv Server) {
	count := d.Metrics.Panics.WithLabelValues(name).Inc
	switch s := srv.(type) {
	case *policyd.Server:
		s.Panicked = count
	case *milter.Server:
		s.Panicked = count
	case *relay.Server:
		s.Panicked = count
	case *intake.Server:
		s.Panicked = count
	case *http.Server:
		s.Handler = panics.Handler(d.Logger, name, count, s.Handler)
	}
}
