package daemon

import (
	"context"
	"errors"
	"fmt"
	"syscall"

	"github.com/rcptguard/rcptguard/internal/config"
	"github.com/rcptguard/rcptguard/internal/history"
	"github.com/rcptguard/rcptguard/internal/quarantine"
)

// health is what /healthz asks: each store takes a real write (a tiny transaction, after
// the SQLite files' check), and data_dir has at least limits.min_free_bytes free. A
// failed store write is counted in rcptguard_store_errors_total{store}. Every problem is
// in the error, one per line, so the 503's body says why.
func (d *Daemon) health(cfg config.Config, q quarantine.ReportingStore, h history.Store) func(context.Context) error {
	return func(ctx context.Context) error {
		var errs []error
		if q != nil {
			if err := q.Health(ctx); err != nil {
				d.Metrics.StoreErrors.WithLabelValues("quarantine").Inc()
				errs = append(errs, err)
			}
		}
		if h != nil {
			if err := h.Health(ctx); err != nil {
				d.Metrics.StoreErrors.WithLabelValues("history").Inc()
				errs = append(errs, err)
			}
		}
		if cfg.DataDir != "" && cfg.Limits.MinFreeBytes > 0 {
			if free, err := freeBytes(cfg.DataDir); err != nil {
				errs = append(errs, fmt.Errorf("data_dir %s: %w", cfg.DataDir, err))
			} else if free < uint64(cfg.Limits.MinFreeBytes) {
				errs = append(errs, fmt.Errorf("data_dir %s has %d MiB free, less than limits.min_free_bytes (%d MiB)",
					cfg.DataDir, free>>20, cfg.Limits.MinFreeBytes>>20))
			}
		}
		return errors.Join(errs...)
	}
}

// freeBytes is the space in dir's file system that rcptguard's user may still fill.
func freeBytes(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil
}
