package daemon

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/rcptguard/rcptguard/internal/config"
	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/providers"
	"github.com/rcptguard/rcptguard/internal/watch"
)

// The guard acts on what `rcptguard squat --watch` found (docs/dns.md): the lookalikes
// registered and able to receive mail, the catch-all farms, the known correspondents that
// may have changed hands. squat runs apart (cron, a systemd timer) and records each run in
// the watch store (watch.db in the data folder, or the quarantine's PostgreSQL); the daemon
// reads the store's standing findings at start and again whenever a new run is recorded.

// DefaultSquatCheck is how often the daemon looks for a new squat --watch run.
const DefaultSquatCheck = time.Minute

// squatFarmMin is how many lookalikes a mail host must serve to be a farm for the guard:
// squat's own default (--farm-min).
const squatFarmMin = 3

// squatFindings is the background check of the watch store.
type squatFindings struct {
	dsn, dir string
	store    *watch.Store // nil until the store exists (squat makes watch.db)
	lastRun  int64        // the run whose findings the guard has; 0: none
	shared   []string     // the dns.shared_mail_hosts those findings were read with
	stop     chan struct{}
	done     chan struct{}
}

// startSquatFindings reads the findings once, then checks for new runs every
// SquatCheckEvery until Shutdown.
func (d *Daemon) startSquatFindings(cfg config.Config) {
	if cfg.DataDir == "" && cfg.Quarantine.Postgres == "" {
		return
	}
	f := &squatFindings{dsn: cfg.Quarantine.Postgres, dir: cfg.DataDir, stop: make(chan struct{}), done: make(chan struct{})}
	d.squat = f
	d.checkSquat(f)
	every := d.SquatCheckEvery
	if every <= 0 {
		every = DefaultSquatCheck
	}
	go func() {
		defer close(f.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-f.stop:
				return
			case <-tick.C:
				d.checkSquat(f)
			}
		}
	}()
}

// checkSquat gives the guard the findings of the newest run if it has not got them, or
// read them again when dns.shared_mail_hosts changed (a reload). A store that cannot be
// read is logged; the findings in use stay.
func (d *Daemon) checkSquat(f *squatFindings) {
	d.mu.Lock()
	shared := d.cfg.DNS.SharedMailHosts
	d.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if f.store == nil {
		st, err := openWatch(ctx, f.dsn, f.dir)
		if err != nil {
			d.Logger.Warn("squat findings: the watch store cannot be opened", "err", err)
			return
		}
		if f.store = st; st == nil {
			return // no squat --watch run yet
		}
	}
	run, ok, err := f.store.LastRun(ctx)
	if err != nil {
		d.Logger.Warn("squat findings: the watch store cannot be read; the findings in use stay", "err", err)
		return
	}
	if !ok || run.ID == f.lastRun && slices.Equal(shared, f.shared) {
		return
	}
	f.store.Shared = providers.NewShared(shared)
	st, err := f.store.Standing(ctx, squatFarmMin)
	if err != nil {
		d.Logger.Warn("squat findings: the watch store cannot be read; the findings in use stay", "err", err)
		return
	}
	d.SetEvidence(evidenceOf(st))
	f.lastRun, f.shared = run.ID, shared
	d.Logger.Info("squat findings", "run", run.At.Format(time.RFC3339), "receiving_lookalikes", len(st.Receiving),
		"farms", len(st.Farms), "changed_hands", len(st.ChangedHands))
}

// openWatch opens the watch store where squat --watch writes it: PostgreSQL when dsn is
// set, else watch.db in dir when it is there (nil, nil when squat has not made it yet: the
// daemon never creates it).
func openWatch(ctx context.Context, dsn, dir string) (*watch.Store, error) {
	if dsn != "" {
		return watch.OpenPostgres(ctx, dsn)
	}
	path := filepath.Join(dir, watch.FileName)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return watch.OpenSQLite(path)
}

// evidenceOf turns the store's standing findings into the guard's evidence.
func evidenceOf(st watch.Standing) guard.Evidence {
	var ev guard.Evidence
	for _, s := range st.Receiving {
		ev.AddRegistered(s.Domain, s.Facts.MailHosts())
	}
	for _, f := range st.Farms {
		ev.AddFarm(f.Host, f.Lookalikes)
	}
	for _, c := range st.ChangedHands {
		ev.AddChangedOwner(c.Domain, guard.Change{MovedTo: c.After.MX, CameBack: c.Kind == watch.CameBack, At: c.At})
	}
	return ev
}

// stopSquatFindings ends the check and closes the store.
func (d *Daemon) stopSquatFindings() {
	f := d.squat
	if f == nil {
		return
	}
	close(f.stop)
	<-f.done
	if f.store != nil {
		f.store.Close()
	}
	d.squat = nil
}
