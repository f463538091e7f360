package daemon

import (
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/rcptguard/rcptguard/internal/config"
	"github.com/rcptguard/rcptguard/internal/milter"
	"github.com/rcptguard/rcptguard/internal/policyd"
	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/relay"
	"github.com/rcptguard/rcptguard/internal/smtpout"
	"github.com/rcptguard/rcptguard/internal/spool"
)

// openSpool opens data_dir/spool, where the relay, the intake and the milter keep a
// message past limits.spool_above_bytes while it comes in, and removes the files a
// crash left there; without a data folder, the system's temporary folder.
func openSpool(cfg config.Config) (*spool.Dir, error) {
	if cfg.DataDir == "" {
		return spool.Temp(), nil
	}
	sp, err := spool.Open(filepath.Join(cfg.DataDir, "spool"), cfg.Limits.SpoolAboveBytes)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	return sp, nil
}

type namedServer struct {
	name, addr string
	srv        Server
}

// adapters returns the mail-path listeners (policy service, milter, relay) for cfg, each
// asking the daemon's guard and counting its decisions in the daemon's metrics.
func (d *Daemon) adapters(cfg config.Config) ([]namedServer, error) {
	sp, err := openSpool(cfg)
	if err != nil {
		return nil, err
	}
	d.spool = sp
	cl := d.content
	m := &milter.Server{
		Content:         cl,
		ContentRules:    cfg.Content.Rules(),
		Spool:           sp,
		Guard:           &d.Guard,
		MaxMessageBytes: cfg.Quarantine.MaxMessageBytes,
		Logger:          d.Logger,
		Observe: func(ev milter.Event) {
			d.Metrics.ContentRead("milter", ev.Content, ev.ContentSkipped)
			for _, dec := range ev.Decisions {
				d.Metrics.Observe("milter", dec, ev.Duration/time.Duration(max(1, len(ev.Decisions))))
			}
		},
		Finished: d.finished,
	}
	p := &policyd.Server{
		Guard:  &d.Guard,
		Filter: PolicyFilter(cfg),
		Logger: d.Logger,
		Observe: func(ev policyd.Event) {
			if ev.HandoverFailed {
				d.Metrics.StoreErrors.WithLabelValues("quarantine").Inc()
			}
			if ev.Stage == "rcpt" {
				d.Metrics.Observe("policy", ev.Decision, ev.Duration)
			}
		},
		Finished: d.finished,
	}
	if hs, ok := d.quarantine.(quarantine.HandoverStore); ok && d.held != nil {
		m.Holder = d.held
		p.Handovers = hs
		if cl != nil {
			// The intake applies them to what the policy service hands it (quarantine.go).
			rules := m.ContentRules
			p.ContentRules = &rules
		}
	} else {
		p.Filter = "" // nothing would take the message
	}
	d.policy = p
	out := []namedServer{{"policy", cfg.Listen.Policy, p}, {"milter", cfg.Listen.Milter, m}}
	if cfg.Relay.Upstream.Address != "" {
		r, err := d.relay(cfg)
		if err != nil {
			return nil, err
		}
		r.Content, r.ContentRules = cl, m.ContentRules
		d.relaySrv = r
		out = append(out, namedServer{"relay", cfg.Listen.Relay, r})
	}
	return out, nil
}

// relay configures the SMTP relay from cfg.
func (d *Daemon) relay(cfg config.Config) (*relay.Server, error) {
	rc := cfg.Relay
	up, err := smtpout.Load("relay.upstream", cfg.UpstreamDestination(), "")
	if err != nil {
		return nil, err
	}
	r := &relay.Server{
		Guard:           &d.Guard,
		Upstream:        up,
		Hostname:        rc.Hostname,
		Logger:          d.Logger,
		MaxMessageBytes: rc.MaxMessageBytes,
		MaxRecipients:   rc.MaxRecipients,
		AllowedNetworks: rc.AllowedNetworks,
		Users:           rc.Users,
		AuthMaxFailures: rc.AuthMaxFailures,
		AuthWindow:      rc.AuthWindow,
		AuthFailed:      func(reason string) { d.Metrics.AuthFailures.WithLabelValues(reason).Inc() },
		Spool:           d.spool,
		Observe: func(ev relay.Event) {
			d.Metrics.ContentRead("relay", ev.Content, ev.ContentSkipped)
			for _, re := range ev.Recipients {
				tech := ""
				if len(re.Techniques) > 0 {
					tech = re.Techniques[0]
				}
				d.Metrics.Count("relay", re.Verdict, tech, re.Monitor, 0)
			}
		},
		Finished: d.finished,
	}
	if r.Hostname == "" {
		r.Hostname, _ = os.Hostname()
	}
	if d.held != nil {
		r.Holder = d.held
	}
	r.AuthAttempts = d.sharedAttempts()
	if rc.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(rc.TLSCert, rc.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("relay TLS certificate: %w", err)
		}
		r.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	return r, nil
}
