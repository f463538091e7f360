package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/rcptguard/rcptguard/internal/config"
	"github.com/rcptguard/rcptguard/internal/notice"
	"github.com/rcptguard/rcptguard/internal/smtpout"
	"github.com/rcptguard/rcptguard/internal/squat"
	"github.com/rcptguard/rcptguard/internal/watch"
)

// squatWatch is `squat --watch`: it collects every result of the run (OnResult), looks up
// the known correspondents themselves, records it all in the watch store and puts what
// changed since the last run into the report; with --notify it mails the changes.
type squatWatch struct {
	cfg     config.Config
	notify  string // --notify ADDR; "" for none
	store   *watch.Store
	entries []watch.Entry
	since   time.Time      // the last run before this one; zero on the first
	changes []watch.Change // what record found
	run     watch.Run      // the run record made
	earlier []watch.Change // with --notify: earlier runs' changes whose mail failed
}

// openSquatWatch opens the watch store before the run, so that a store that cannot be
// opened fails at once rather than after minutes of DNS.
func openSquatWatch(ctx context.Context, cfg config.Config, notify string) (*squatWatch, error) {
	if notify != "" && cfg.NoticeDestination().Address == "" {
		return nil, fmt.Errorf("--notify: the config names no smarthost for notices (notice.smarthost)")
	}
	st, err := watch.OpenIn(ctx, cfg.Quarantine.Postgres, cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("--watch: %w", err)
	}
	st.Shared = cfg.DNS.Shared()
	return &squatWatch{cfg: cfg, notify: notify, store: st}, nil
}

// add is squat.Options.OnResult: one lookalike's result.
func (w *squatWatch) add(r squat.Result) {
	w.entries = append(w.entries, watch.Entry{Domain: r.Lookalike.Domain.ASCII, Of: r.Of.ASCII,
		Technique: r.Lookalike.Technique.String(), Kind: watch.Lookalike, Facts: r.Facts})
}

// record looks up the known correspondents among the targets (their own NS and MX, to see
// them change hands), records the run and sets rep.Changes.
func (w *squatWatch) record(ctx context.Context, targets []squat.Target, res squat.Resolver, rep *squat.Report, now time.Time) error {
	for _, t := range targets {
		if strings.HasPrefix(t.Why, "known") {
			w.entries = append(w.entries, watch.Entry{Domain: t.Domain.ASCII, Kind: watch.Known, Facts: res.Lookup(ctx, t.Domain.ASCII)})
		}
	}
	last, hadRun, err := w.store.LastRun(ctx)
	if err != nil {
		return fmt.Errorf("--watch: %w", err)
	}
	w.since = time.Time{}
	if hadRun {
		w.since = last.At
	}
	run, changes, err := w.store.RecordRun(ctx, now, w.entries, w.notify != "")
	if err != nil {
		return fmt.Errorf("--watch: recording the run: %w", err)
	}
	w.run = run
	if w.notify != "" {
		if w.earlier, err = w.store.OwedMail(ctx, run.ID); err != nil {
			return fmt.Errorf("--watch: %w", err)
		}
	}
	rep.Changes = &squat.Changes{Items: []squat.ChangeRow{}}
	if hadRun {
		at := last.At
		rep.Changes.Since = &at
	}
	for _, c := range changes {
		rep.Changes.Items = append(rep.Changes.Items, squat.ChangeRow{Domain: c.Domain, Of: c.Of, Watched: c.Watched.String(),
			Kind: c.Kind.String(), Owner: c.Owner, Text: watch.Line(c)})
	}
	w.changes = changes
	return nil
}

// mail sends the recorded changes to the --notify address, if there are any, with those of
// earlier runs whose mail failed. It runs after the report is written: a mail that fails
// still leaves the changes in the report, and in the store as owing a mail, so that the
// next --notify run sends them.
func (w *squatWatch) mail(ctx context.Context, now time.Time) error {
	if w.notify == "" || len(w.changes)+len(w.earlier) == 0 {
		return nil
	}
	hostname := w.cfg.Notice.Hostname
	if hostname == "" {
		hostname, _ = os.Hostname()
	}
	d, err := smtpout.Load("notice.smarthost", w.cfg.NoticeDestination(), hostname)
	if err != nil {
		return fmt.Errorf("--notify: %w", err)
	}
	mail := notice.WatchReport{To: w.notify, From: w.cfg.Notice.From, Org: w.cfg.Notice.Org, Since: w.since,
		Changes: w.changes, Earlier: w.earlier}
	if err := (&notice.Sender{Smarthost: d}).SendWatch(ctx, mail, now); err != nil {
		return fmt.Errorf("--notify: mailing the changes to %s: %w", w.notify, err)
	}
	if err := w.store.MailSent(ctx, w.run.ID); err != nil {
		return fmt.Errorf("--notify: the changes were mailed to %s, but recording it failed (the next run mails them again): %w", w.notify, err)
	}
	return nil
}

// watchKeepDays is how long --watch keeps its runs by default (--keep-days): a year of
// daily runs, and a month to spare.
const watchKeepDays = 400

// maxKeepDays bounds --keep-days: a hundred years.
const maxKeepDays = 36500

// prune deletes the runs older than keepDays days, and the domains not answered for
// since (watch.Store.Prune); keepDays 0 keeps everything. It runs last: a failure loses
// nothing of this run.
func (w *squatWatch) prune(ctx context.Context, now time.Time, keepDays int) error {
	if keepDays == 0 {
		return nil
	}
	if _, err := w.store.Prune(ctx, now.AddDate(0, 0, -keepDays)); err != nil {
		return fmt.Errorf("--keep-days: this run is recorded, but deleting what is older than %d days failed: %w", keepDays, err)
	}
	return nil
}

func (w *squatWatch) close() { w.store.Close() }
