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
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/rcptguard/rcptguard/internal/config"
	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/httpapi"
	"github.com/rcptguard/rcptguard/internal/metrics"
	"github.com/rcptguard/rcptguard/internal/setup"
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

	Guard    guard.Current
	Registry *prometheus.Registry
	Metrics  *metrics.Metrics

	mu        sync.Mutex
	cfg       config.Config
	listeners []listener
	errc      chan error
}

type listener struct {
	name string
	l    net.Listener
	srv  Server
}

// Load reads the configuration and builds the guard. It is called before Start and on
// every reload; a failed reload leaves the guard in use as it was.
func (d *Daemon) Load() error {
	cfg := config.Default()
	if d.ConfigPath != "" {
		var err error
		if cfg, err = config.Load(d.ConfigPath); err != nil {
			return err
		}
	}
	g, err := setup.Guard(cfg, setup.Extra{})
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.cfg = cfg
	d.mu.Unlock()
	d.Guard.Store(g)
	if d.Metrics != nil {
		d.Metrics.SetEngine(g.Engine())
	}
	return nil
}

// Reload re-reads the configuration and swaps the guard; connections are not touched.
// Listener addresses are read at start only.
func (d *Daemon) Reload() error {
	err := d.Load()
	result := "ok"
	if err != nil {
		result = "error"
		d.Logger.Error("reload refused; the previous configuration stays in use", "err", err)
	} else {
		d.Logger.Info("configuration reloaded", "candidates", d.Guard.Load().Engine().Size())
	}
	if d.Metrics != nil {
		d.Metrics.Reloads.WithLabelValues(result).Inc()
	}
	return err
}

// Start loads the configuration and opens the enabled listeners. It returns once they
// all listen; Wait reports the first listener that fails.
func (d *Daemon) Start() error {
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
	if err := d.Load(); err != nil {
		return err
	}
	d.errc = make(chan error, 8)
	cfg := d.cfg
	api := &httpapi.API{Guard: &d.Guard, Metrics: d.Metrics, Registry: d.Registry, Logger: d.Logger}
	servers := []namedServer{
		{"http", cfg.Listen.HTTP, &http.Server{Handler: api.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}},
	}
	adapters, err := d.adapters(cfg)
	if err != nil {
		return err
	}
	servers = append(servers, adapters...)
	for _, s := range servers {
		if s.addr == "" || s.srv == nil {
			continue
		}
		l, err := net.Listen("tcp", s.addr)
		if err != nil {
			d.closeAll()
			return fmt.Errorf("listen %s on %s: %w", s.name, s.addr, err)
		}
		d.listeners = append(d.listeners, listener{s.name, l, s.srv})
	}
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
	d.Logger.Info("stopped")
	return errors.Join(errs...)
}

func (d *Daemon) closeAll() {
	for _, ln := range d.listeners {
		ln.l.Close()
	}
	d.listeners = nil
}

func isClosed(err error) bool {
	return errors.Is(err, http.ErrServerClosed) || errors.Is(err, net.ErrClosed) || errors.Is(err, errServerClosed)
}

var errServerClosed = errors.New("server closed")
