package daemon

import (
	"time"

	"github.com/rcptguard/rcptguard/internal/config"
	"github.com/rcptguard/rcptguard/internal/milter"
	"github.com/rcptguard/rcptguard/internal/policyd"
)

type namedServer struct {
	name, addr string
	srv        Server
}

// adapters returns the mail-path listeners (policy service, milter, relay) for cfg, each
// asking the daemon's guard and counting its decisions in the daemon's metrics.
func (d *Daemon) adapters(cfg config.Config) []namedServer {
	m := &milter.Server{
		Guard:  &d.Guard,
		Logger: d.Logger.With("adapter", "milter"),
		Observe: func(ev milter.Event) {
			for _, dec := range ev.Decisions {
				d.Metrics.Observe("milter", dec, ev.Duration/time.Duration(max(1, len(ev.Decisions))))
			}
		},
	}
	p := &policyd.Server{
		Guard:  &d.Guard,
		Logger: d.Logger.With("adapter", "policy"),
		Observe: func(ev policyd.Event) {
			if ev.Stage == "rcpt" {
				d.Metrics.Observe("policy", ev.Decision, ev.Duration)
			}
		},
	}
	return []namedServer{{"policy", cfg.Listen.Policy, p}, {"milter", cfg.Listen.Milter, m}}
}
