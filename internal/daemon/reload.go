package daemon

import (
	"context"
	"fmt"
	"time"
)

// DefaultReloadTimeout bounds one reload: reading the configuration and the
// known-correspondents file, and building the engine.
const DefaultReloadTimeout = 2 * time.Minute

// Reload re-reads the configuration and swaps the guard; connections are not touched.
// Listener addresses are read at start only. One reload runs at a time. A reload that
// does not finish within ReloadTimeout (a file on a hung network mount) is given up: it
// returns an error, the configuration in use stays, and what the late reload built is
// never swapped in.
func (d *Daemon) Reload() error {
	timeout := d.ReloadTimeout
	if timeout <= 0 {
		timeout = DefaultReloadTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		select {
		case d.reloading <- struct{}{}:
		case <-ctx.Done():
			done <- fmt.Errorf("an earlier reload is still running after %s", timeout)
			return
		}
		defer func() { <-d.reloading }()
		done <- d.load(ctx)
	}()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		err = fmt.Errorf("reload did not finish within %s", timeout)
	}
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

// RequestReload asks for a reload and returns at once (for SIGHUP). Requests that come
// while a reload is under way coalesce into one more reload after it.
func (d *Daemon) RequestReload() {
	select {
	case d.reloadReq <- struct{}{}:
	default: // one is pending already: it will read the newest configuration
	}
}

// reloadLoop runs the requested reloads one after another until stop is closed.
func (d *Daemon) reloadLoop(stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case <-d.reloadReq:
			d.Reload()
		}
	}
}
