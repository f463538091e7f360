package daemon

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/rcptguard/rcptguard/internal/config"
	"github.com/rcptguard/rcptguard/internal/held"
	"github.com/rcptguard/rcptguard/internal/intake"
	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/ratelimit"
	"github.com/rcptguard/rcptguard/internal/session"
	"github.com/rcptguard/rcptguard/internal/token"
	"github.com/rcptguard/rcptguard/internal/web"
)

// openQuarantine opens the quarantine in the data folder and builds the held-message
// workflow from cfg; it does not start it.
func (d *Daemon) openQuarantine(cfg config.Config) error {
	// Read before anything is created (validate checked them already: this fails only
	// if a password or CA file changed since).
	settings, err := held.SettingsFrom(cfg)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.DataDir, DataDirMode); err != nil {
		return fmt.Errorf("data folder: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	store, err := quarantine.Open(ctx, cfg.Quarantine.Postgres, filepath.Join(cfg.DataDir, quarantine.FileName),
		quarantine.WithMaxSize(cfg.Quarantine.MaxMessageBytes))
	if err != nil {
		return err
	}
	keyFile := cfg.Notice.KeyFile
	if keyFile == "" {
		keyFile = filepath.Join(cfg.DataDir, "token.key")
	}
	key, err := token.LoadOrCreateKey(keyFile)
	if err != nil {
		store.Close()
		return fmt.Errorf("link signing key: %w", err)
	}
	signer, err := token.NewSigner(key)
	if err != nil {
		store.Close()
		return err
	}
	// The administrators' sessions: beside the quarantine (its PostgreSQL database, so
	// that every node agrees, or a SQLite file in the data folder).
	sessions, err := session.Open(ctx, cfg.Quarantine.Postgres, filepath.Join(cfg.DataDir, session.FileName))
	if err != nil {
		store.Close()
		return fmt.Errorf("admin sessions: %w", err)
	}
	d.sessions = sessions
	svc := &held.Service{
		Store: store, Signer: signer, Settings: settings, Logger: d.Logger.With("part", "quarantine"),
		Shared:     cfg.Quarantine.Postgres != "",
		Count:      func(event string) { d.Metrics.Quarantine.WithLabelValues(event).Inc() },
		StoreError: func() { d.Metrics.StoreErrors.WithLabelValues("quarantine").Inc() },
		Learn: func(sender string, rcpts []string) {
			for _, r := range rcpts {
				d.learn.observe(sender, r)
			}
		},
	}
	d.quarantine, d.held, d.webKey = store, svc, macKey(key, "rcptguard admin session v1")
	where := "postgres"
	if sq, ok := store.(*quarantine.SQLite); ok {
		where = sq.Path()
	}
	d.Logger.Info("quarantine", "store", where, "reinject", svc.Settings.Reinject.Address, "notices", cfg.NoticeSmarthost(),
		"validation_url", svc.Settings.BaseURL)
	return nil
}

// whileUsable answers 503 instead of h while the quarantine says it cannot be used
// (quarantine.SQLite.Usable: an unwritable -shm file, which the driver's next access
// would turn into SIGBUS).
func (d *Daemon) whileUsable(h http.Handler) http.Handler {
	u, ok := d.quarantine.(quarantine.Checker)
	if !ok {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := u.Usable(); err != nil {
			d.Metrics.StoreErrors.WithLabelValues("quarantine").Inc()
			d.Logger.Error("web page refused: the quarantine cannot be used", "err", err)
			http.Error(w, "Held mail cannot be reached right now; please try again later.", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// sharedAttempts is where the nodes sharing a PostgreSQL database count the failed
// sign-ins and AUTH attempts (the session store there), nil on a single node (each limiter
// counts in memory).
func (d *Daemon) sharedAttempts() ratelimit.Attempts {
	if a, ok := d.sessions.(*session.Postgres); ok {
		return a
	}
	return nil
}

// macKey derives a key for one purpose from the signing key.
func macKey(key []byte, purpose string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// heldSettings are the held-message settings of cfg, with the validation pages' address
// as the web listener really got it when notice.base_url is not set (it may be configured
// with port 0).
func (d *Daemon) heldSettings(cfg config.Config) (held.Settings, error) {
	st, err := held.SettingsFrom(cfg)
	if err != nil {
		return st, err
	}
	d.useWebAddr(cfg, &st)
	return st, nil
}

// useWebAddr sets st's validation address to the web listener's real address (it may be
// configured with port 0) when notice.base_url does not set it.
func (d *Daemon) useWebAddr(cfg config.Config, st *held.Settings) {
	if a := d.Addr("web"); a != "" && cfg.Notice.BaseURL == "" {
		st.BaseURL = "http://" + a
	}
}

// quarantineServers are the web pages (validation and administrators) and the intake
// the policy service's FILTER hands held messages to.
func (d *Daemon) quarantineServers(cfg config.Config) []namedServer {
	if d.held == nil {
		return nil
	}
	v := &web.Validation{Store: d.quarantine, Signer: d.held.Signer, Decider: d.held, Logger: d.Logger.With("part", "web"),
		ExpiryReturns: d.held.ExpiryReturns}
	a := &web.Admin{Store: d.quarantine, Stats: d.quarantine, Decider: d.held, Users: cfg.Admin.Users, Key: d.webKey,
		SecureCookies: cfg.Admin.SecureCookies, Logger: d.Logger.With("part", "admin"),
		SessionIdle: cfg.Admin.SessionIdle, SessionMax: cfg.Admin.SessionMax,
		UsersNow: func() map[string]string { // admin.users as the last reload left it
			d.mu.Lock()
			defer d.mu.Unlock()
			return d.cfg.Admin.Users
		}}
	if d.sessions != nil {
		a.Sessions = d.sessions
	}
	a.Attempts = d.sharedAttempts()
	if d.trust != nil {
		a.Trust = d.trust
	}
	if d.Metrics != nil {
		a.StoreError = func() { d.Metrics.StoreErrors.WithLabelValues("sessions").Inc() }
	}
	mux := http.NewServeMux()
	mux.Handle("/v/", v.Handler())
	mux.Handle("/admin/", a.Handler())
	mux.Handle("/{$}", http.RedirectHandler("/admin/", http.StatusSeeOther))
	out := []namedServer{{"web", cfg.Listen.Web, &http.Server{Handler: d.whileUsable(mux), ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}}}
	if cfg.Listen.Intake != "" && cfg.ReinjectAddr() == "" {
		d.Logger.Warn("no quarantine intake: it needs quarantine.reinject (or relay.upstream) to hand back what it does not hold; " +
			"the policy service refuses held messages instead of filtering them")
	}
	if hs, ok := d.quarantine.(quarantine.HandoverStore); ok && cfg.Listen.Intake != "" && cfg.ReinjectAddr() != "" {
		in := &intake.Server{
			Handovers: hs, Holder: d.held, Guard: &d.Guard, Reinject: d.held.Settings.Reinject,
			Hostname: d.held.Settings.Hostname, Logger: d.Logger, MaxMessageBytes: cfg.Quarantine.MaxMessageBytes, Spool: d.spool,
			Observe:  d.observeIntake,
			Finished: d.finished,
		}
		if d.content != nil {
			in.Content, in.ContentRules = d.content, cfg.Content.Rules()
		}
		d.intakeSrv = in
		out = append(out, namedServer{"intake", cfg.Listen.Intake, in})
	}
	return out
}

// observeIntake counts what the intake took in: whether the policy service's hand-over
// was there, and the decisions it had to ask the guard for.
func (d *Daemon) observeIntake(ev intake.Event) {
	result := "found"
	if !ev.Handover {
		result = "missing"
	}
	d.Metrics.IntakeHandovers.WithLabelValues(result).Inc()
	d.Metrics.ContentRead("intake", ev.Content, ev.ContentSkipped)
	for _, dec := range ev.Checked {
		d.Metrics.Observe("intake", dec, 0)
	}
}

// PolicyFilter is the FILTER action the policy service answers for a held message: the
// intake listener as an smtp destination, or "" when there is no intake.
func PolicyFilter(cfg config.Config) string {
	if cfg.Listen.Intake == "" || cfg.ReinjectAddr() == "" {
		return ""
	}
	return filterFor(cfg.Listen.Intake)
}

func filterFor(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	return "smtp:[" + host + "]:" + port
}

// closeQuarantine stops the background work (a re-injection under way finishes) and
// closes the store.
func (d *Daemon) closeQuarantine(ctx context.Context) error {
	if d.held == nil {
		return nil
	}
	err := d.held.Stop(ctx)
	if cerr := d.quarantine.Close(); err == nil {
		err = cerr
	}
	if d.sessions != nil {
		if cerr := d.sessions.Close(); err == nil {
			err = cerr
		}
		d.sessions = nil
	}
	d.held, d.quarantine = nil, nil
	return err
}
