package daemon

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/config"
	"github.com/rcptguard/rcptguard/internal/engine"
	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/trust"
)

// DefaultTrustCheck is how often a node compares the version of the trusted domains in
// the quarantine (quarantine.TrustStore.TrustVersion: one count on a small table) with
// the one its engine was built with, and rebuilds the engine when they differ: a domain
// trusted from the CLI or on another node takes effect here within that time.
const DefaultTrustCheck = 15 * time.Second

// trustWatch is the background check of the trusted domains.
type trustWatch struct {
	kick chan struct{} // a change made on this node: rebuild now
	stop chan struct{}
	once sync.Once // closes stop
	done chan struct{}
}

// newTrust builds the trust workflow on the quarantine, and keeps the store for the
// engine builds: unlike d.quarantine, trustStore is never cleared, so that a build that
// runs while the daemon stops (the learning loop's) reads a closed store and fails,
// rather than racing with the shutdown.
func (d *Daemon) newTrust(cfg config.Config) *trust.Service {
	d.trustStore = d.quarantine
	return &trust.Service{Store: d.quarantine, ProposeAfter: cfg.Learning.ProposeAfter,
		Decide:  func(dom address.Domain) guard.Decision { return d.Guard.Load().Decide(dom) },
		Changed: d.trustChanged}
}

// startTrust starts the background check of the trusted domains.
func (d *Daemon) startTrust() {
	if d.trust == nil {
		return
	}
	every := d.TrustCheckEvery
	if every <= 0 {
		every = DefaultTrustCheck
	}
	w := &trustWatch{kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	d.trustWatch = w
	go d.watchTrust(w, every)
}

// trustChanged has the check rebuild the engine at once, after a change on this node.
func (d *Daemon) trustChanged() {
	if w := d.trustWatch; w != nil {
		select {
		case w.kick <- struct{}{}:
		default: // a rebuild is pending already: it will read the newest set
		}
	}
}

func (d *Daemon) watchTrust(w *trustWatch, every time.Duration) {
	defer close(w.done)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-w.kick:
		case <-tick.C:
			if !d.trustMoved() {
				continue
			}
		}
		if err := d.refresh(); err != nil {
			d.Logger.Error("trusted domains: rebuilding the engine failed; the one in use stays", "err", err)
		} else {
			d.mu.Lock()
			n := len(d.trustedNames)
			d.mu.Unlock()
			d.Logger.Info("trusted domains: engine rebuilt", "trusted", n)
		}
	}
}

// trustMoved reports whether the trusted domains changed since the engine in use was
// built. A store that cannot be read says no (and is logged): the engine stays.
func (d *Daemon) trustMoved() bool {
	if err := d.quarantineUsable(); err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := d.trustStore.TrustVersion(ctx)
	if err != nil {
		d.Logger.Warn("trusted domains: version check failed", "err", err)
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return v != d.trustVersion
}

// quarantineUsable is quarantine.Checker's check, for work that is not a hold.
func (d *Daemon) quarantineUsable() error {
	if c, ok := d.trustStore.(quarantine.Checker); ok {
		return c.Usable()
	}
	return nil
}

// stopTrust ends the check; a rebuild under way finishes first. trustWatch stays set: a
// page still finishing during the shutdown may kick it, which then does nothing.
func (d *Daemon) stopTrust() {
	if w := d.trustWatch; w != nil {
		w.once.Do(func() { close(w.stop) })
		<-w.done
	}
}

// addTrusted adds the trusted domains to in's allow inputs and returns their names and
// the version they were read at. When they cannot be read (the database is down), the
// set the engine in use was built with stays, and the error is logged: mail never waits
// for it.
func (d *Daemon) addTrusted(ctx context.Context, in *engine.Inputs) (names []string, version int64) {
	d.mu.Lock()
	names, version = d.trustedNames, d.trustVersion
	d.mu.Unlock()
	if d.trustStore != nil {
		if v, l, err := d.readTrusted(ctx); err != nil {
			d.Logger.Error("trusted domains could not be read; the last known ones stay", "err", err, "trusted", len(names))
		} else {
			names, version = l, v
		}
	}
	in.Allow = slices.Clip(in.Allow)
	for _, n := range names {
		if dom, err := address.ParseDomain(n); err == nil {
			in.Allow = append(in.Allow, dom)
		}
	}
	return names, version
}

// readTrusted reads the version, then the trusted domains: a change in between makes
// the next check rebuild once more, never miss one.
func (d *Daemon) readTrusted(ctx context.Context) (int64, []string, error) {
	if err := d.quarantineUsable(); err != nil {
		return 0, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := d.trustStore.TrustVersion(ctx)
	if err != nil {
		return 0, nil, err
	}
	l, err := d.trustStore.TrustedDomains(ctx)
	if err != nil {
		return 0, nil, err
	}
	names := make([]string, 0, len(l))
	for _, t := range l {
		names = append(names, t.Domain)
	}
	return v, names, nil
}
