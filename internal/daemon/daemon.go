// Package daemon runs `rcptguard serve`: it builds the guard from the configuration, opens
// the listeners that the configuration enables, swaps the guard atomically on reload, and
// shuts the listeners down in two phases. It owns the process's lifecycle, not any
// protocol: each listener is a server of its own package.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/rcptguard/rcptguard/internal/config"
	"github.com/rcptguard/rcptguard/internal/content"
	"github.com/rcptguard/rcptguard/internal/engine"
	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/held"
	"github.com/rcptguard/rcptguard/internal/history"
	"github.com/rcptguard/rcptguard/internal/httpapi"
	"github.com/rcptguard/rcptguard/internal/intake"
	"github.com/rcptguard/rcptguard/internal/metrics"
	"github.com/rcptguard/rcptguard/internal/policyd"
	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/relay"
	"github.com/rcptguard/rcptguard/internal/session"
	"github.com/rcptguard/rcptguard/internal/setup"
	"github.com/rcptguard/rcptguard/internal/smtpout"
	"github.com/rcptguard/rcptguard/internal/spool"
	"github.com/rcptguard/rcptguard/internal/trust"
)

// Server is what every listener is: shaped like net/http.Server.
type Server interface {
	Serve(l net.Listener) error
	Shutdown(ctx context.Context) error
}

// Daemon is one running rcptguard.
type Daemon struct {
	// ConfigPath is the configuration file; "" runs the built-in defaults.
	ConfigPath string
	Logger     *slog.Logger
	// ShutdownTimeout bounds the graceful phase of Shutdown.
	ShutdownTimeout time.Duration
	// ReloadTimeout bounds each reload; 0: DefaultReloadTimeout.
	ReloadTimeout time.Duration
	// TrustCheckEvery is how often the trusted domains' version is checked (trust.go);
	// 0: DefaultTrustCheck.
	TrustCheckEvery time.Duration
	// HistoryCheckEvery is how often the history's generation is compared with the one
	// the engine was built with (learn.go); 0: every minute.
	HistoryCheckEvery time.Duration
	// SquatCheckEvery is how often the watch store is checked for a new squat --watch run
	// (squatfindings.go); 0: DefaultSquatCheck.
	SquatCheckEvery time.Duration

	Guard    guard.Current
	Registry *prometheus.Registry
	Metrics  *metrics.Metrics

	mu      sync.Mutex
	cfg     config.Config
	started *config.Config // the configuration serve started with (restartOnly); nil before
	// postfixSeen are the queue IDs of the messages the history learned from (finished).
	postfixSeen queueIDs
	listeners   []listener
	errc        chan error
	history     history.Store // nil when there is no data folder
	learn       *learning
	// historyGen is the history's generation the engine in use was built with (under
	// mu); -1 when it could not be read, so that the next check rebuilds.
	historyGen int64

	// The quarantine, when there is a data folder.
	quarantine quarantine.ReportingStore
	held       *held.Service
	webKey     []byte
	sessions   session.Store // the administrators' sessions, beside the quarantine
	policy     *policyd.Server
	relaySrv   *relay.Server       // nil without a relay; SetUpstream on reload
	intakeSrv  *intake.Server      // nil without an intake; SetReinject on reload
	content    *content.Classifier // nil with content rules off
	spool      *spool.Dir          // data_dir/spool: messages being received, past limits.spool_above_bytes

	// Organisation-wide trust (trust.go): the workflow, its background check, and the
	// trusted domains and their version that the engine in use was built with (under mu).
	trust        *trust.Service
	trustStore   quarantine.TrustStore // set once at start, never cleared (see newTrust)
	trustWatch   *trustWatch
	trustedNames []string
	trustVersion int64
	buildMu      sync.Mutex // one engine build at a time, so that the newest inputs win

	// DNS evidence (dns.go), under buildMu: what squat --watch found, and the resolver
	// of live evidence (nil when dns.evidence is off or before the first build).
	evidence guard.Evidence
	liveDNS  *liveDNS
	squat    *squatFindings // the check of the watch store; nil before Start or without a store

	reloading  chan struct{} // holds a token while a reload runs
	reloadReq  chan struct{} // a pending RequestReload
	stopReload chan struct{}
}

type listener struct {
	name string
	l    net.Listener
	srv  Server
}

// Load reads the configuration and builds the guard. It is called by Start and on every
// reload; a failed reload leaves the guard in use as it was.
func (d *Daemon) Load() error { return d.load(context.Background()) }

// load is Load that swaps nothing in once ctx is done.
func (d *Daemon) load(ctx context.Context) error {
	cfg, err := d.readConfig()
	if err != nil {
		return err
	}
	// Read first: a password or CA file that cannot be read fails the reload as a whole.
	var st held.Settings
	if d.held != nil && d.started != nil {
		if st, err = d.heldSettings(cfg); err != nil {
			return err
		}
	}
	var up smtpout.Destination
	if d.relaySrv != nil && cfg.Relay.Upstream.Address != "" {
		if up, err = smtpout.Load("relay.upstream", cfg.UpstreamDestination(), ""); err != nil {
			return err
		}
	}
	if err := d.use(ctx, cfg); err != nil {
		return err
	}
	if d.held != nil && d.started != nil {
		d.held.Apply(st) // notices, re-injection, timings: at once
		if d.intakeSrv != nil && st.Reinject.Address != "" {
			d.intakeSrv.SetReinject(st.Reinject)
		}
	}
	if up.Address != "" {
		if err := d.relaySrv.SetUpstream(up); err != nil {
			d.Logger.Error("reload: the new relay.upstream is refused; the one in use stays", "err", err)
		}
	}
	if d.started != nil {
		if keys := restartOnly(*d.started, cfg); len(keys) > 0 {
			d.Logger.Warn("these settings changed but take effect only after a restart; the running ones stay", "settings", strings.Join(keys, ", "))
		}
	}
	return nil
}

func (d *Daemon) readConfig() (config.Config, error) {
	if d.ConfigPath == "" {
		return config.Default(), nil
	}
	return config.Load(d.ConfigPath)
}

// refresh rebuilds the guard with the configuration in use (not re-read: that is what
// SIGHUP is for) and the history as it is now.
func (d *Daemon) refresh() error {
	d.mu.Lock()
	cfg := d.cfg
	d.mu.Unlock()
	return d.use(context.Background(), cfg)
}

// use builds the guard for cfg, with the history's known domains, and swaps it in.
func (d *Daemon) use(ctx context.Context, cfg config.Config) error {
	in, err := setup.Inputs(cfg, setup.Extra{})
	if err != nil {
		return err
	}
	return d.useInputs(ctx, cfg, in)
}

// useInputs builds the guard for cfg from its engine inputs in (the configuration's and
// known_file's, read by setup.Inputs), the history's known domains and the domains the
// administrators trusted (allowed), and swaps it in.
func (d *Daemon) useInputs(ctx context.Context, cfg config.Config, in engine.Inputs) error {
	d.buildMu.Lock()
	defer d.buildMu.Unlock()
	gen := int64(-1)
	if d.history != nil {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		// The generation before the set: a change in between rebuilds once more.
		if g, err := d.history.Generation(ctx); err == nil {
			gen = g
		}
		known, err := d.history.Known(ctx)
		cancel()
		if err != nil {
			return fmt.Errorf("history: %w", err)
		}
		in.Known = append(in.Known, known...)
	}
	trusted, version := d.addTrusted(ctx, &in)
	eng, err := engine.New(in)
	if err != nil {
		return err
	}
	g, err := d.withDNS(d.withSenders(guard.New(eng, cfg.Policy).WithTrusted(trusted), cfg), cfg)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("not swapped in: %w", err) // a reload that took too long
	}
	d.mu.Lock()
	d.cfg = cfg
	d.trustedNames, d.trustVersion = trusted, version
	d.historyGen = gen
	d.mu.Unlock()
	d.Guard.Store(g)
	if d.Metrics != nil {
		d.Metrics.SetEngine(g.Engine())
	}
	return nil
}

// Start loads the configuration and opens the enabled listeners. It returns once they
// all listen; Wait reports the first listener that fails. When it fails, whatever it had
// opened is closed again.
func (d *Daemon) Start() (err error) {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
		d.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	if d.Metrics == nil {
		d.Metrics = metrics.New(d.Registry)
	}
	d.reloading, d.reloadReq, d.stopReload = make(chan struct{}, 1), make(chan struct{}, 1), make(chan struct{})
	cfg, err := d.readConfig()
	if err != nil {
		return err
	}
	in, err := validate(cfg) // before anything is created
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			d.closeAll()
			d.closeQuarantine(context.Background())
			d.closeHistory()
		}
	}()
	if cfg.DataDir != "" {
		store, err := openHistory(cfg.Quarantine.Postgres, cfg.DataDir)
		if err != nil {
			return err
		}
		d.history = store
		if cfg.Quarantine.Postgres != "" {
			d.Logger.Info("history", "store", "postgres")
		} else {
			d.Logger.Info("history", "path", filepath.Join(cfg.DataDir, "history.db"))
		}
	}
	// The quarantine before the engine: it holds the trusted domains the engine allows.
	if cfg.DataDir != "" {
		if err := d.openQuarantine(cfg); err != nil {
			return fmt.Errorf("quarantine: %w", err)
		}
		d.trust = d.newTrust(cfg)
	}
	if err := d.useInputs(context.Background(), cfg, in); err != nil {
		return err
	}
	d.started = &cfg
	if d.history != nil {
		d.learn = d.startLearning(d.history)
	}
	if cfg.DataDir != "" {
		d.warnExposed(cfg.DataDir)
	}
	d.errc = make(chan error, 8)
	// Content rules (docs/content.md) are read at start: a reload does not change them.
	// One classifier serves every door: the HTTP API (a message in a check request), the
	// milter, the relay and the intake.
	if d.content, err = cfg.Content.Classifier(); err != nil {
		return fmt.Errorf("content: %w", err)
	}
	api := &httpapi.API{Guard: &d.Guard, Metrics: d.Metrics, Registry: d.Registry, Logger: d.Logger,
		Content: d.content, ContentRules: cfg.Content.Rules(), MaxMessageBytes: cfg.Content.MaxMessage}
	api.Ready = d.health(cfg, d.quarantine, d.history)
	servers := []namedServer{
		{"http", cfg.Listen.HTTP, &http.Server{Handler: api.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}},
	}
	adapters, err := d.adapters(cfg)
	if err != nil {
		return err
	}
	servers = append(servers, adapters...)
	servers = append(servers, d.quarantineServers(cfg)...)
	for _, s := range servers {
		if s.addr == "" || s.srv == nil {
			continue
		}
		d.recoverPanics(s.name, s.srv)
		l, err := net.Listen("tcp", s.addr)
		if err != nil {
			return fmt.Errorf("listen %s on %s: %w", s.name, s.addr, err)
		}
		l = d.limitListener(s.name, l, cfg.Limits)
		l = countingListener{Listener: l, open: d.Metrics.Connections.WithLabelValues(s.name)}
		d.listeners = append(d.listeners, listener{s.name, l, s.srv})
	}
	if a := d.Addr("intake"); a != "" && d.policy != nil && d.policy.Filter != "" {
		d.policy.Filter = filterFor(a) // the port the intake really got (it may be configured as 0)
	}
	if d.held != nil {
		d.useWebAddr(cfg, &d.held.Settings) // read in openQuarantine; the port is known now
		if err := d.held.Start(); err != nil {
			return fmt.Errorf("quarantine: %w", err)
		}
	}
	go d.reloadLoop(d.stopReload)
	d.startTrust()
	d.startSquatFindings(cfg)
	for _, ln := range d.listeners {
		d.Logger.Info("listening", "listener", ln.name, "addr", ln.l.Addr().String())
		go func(ln listener) {
			if err := ln.srv.Serve(ln.l); err != nil && !isClosed(err) {
				d.errc <- fmt.Errorf("%s: %w", ln.name, err)
			}
		}(ln)
	}
	return nil
}

// Addr is the address a listener listens on, "" when it is off.
func (d *Daemon) Addr(name string) string {
	for _, ln := range d.listeners {
		if ln.name == name {
			return ln.l.Addr().String()
		}
	}
	return ""
}

// Errors delivers the failure of a listener.
func (d *Daemon) Errors() <-chan error { return d.errc }

// Shutdown stops every listener in two phases: each refuses new work with a temporary
// error and finishes what is in flight; what is still open when ctx ends is closed.
func (d *Daemon) Shutdown(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make([]error, len(d.listeners))
	for i, ln := range d.listeners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = ln.srv.Shutdown(ctx)
		}()
	}
	wg.Wait()
	if d.stopReload != nil {
		close(d.stopReload)
		d.stopReload = nil
	}
	d.stopTrust()
	d.stopSquatFindings()
	errs = append(errs, d.closeQuarantine(ctx), d.closeHistory())
	d.Logger.Info("stopped")
	return errors.Join(errs...)
}

// closeHistory stops learning, writing what is queued, and closes the store.
func (d *Daemon) closeHistory() error {
	var err error
	if d.learn != nil {
		err = d.learn.stop()
		d.learn = nil
	} else if d.history != nil {
		err = d.history.Close()
	}
	d.history = nil
	return err
}

func (d *Daemon) closeAll() {
	for _, ln := range d.listeners {
		ln.l.Close()
	}
	d.listeners = nil
}

func isClosed(err error) bool {
	return errors.Is(err, http.ErrServerClosed) || errors.Is(err, net.ErrClosed) || errors.Is(err, errServerClosed) ||
		errors.Is(err, intake.ErrServerClosed)
}

var errServerClosed = errors.New("server closed")
