package watch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/providers"
)

// FileName is the SQLite watch store's file name in rcptguard's data folder.
const FileName = "watch.db"

// dataDirMode is the mode the data folder is created with, as `rcptguard serve` creates
// it (daemon.DataDirMode): held mail and the history are in it too.
const dataDirMode = 0o700

// backend is one database's queries; Store holds the logic both share.
type backend interface {
	// update runs fn in one write transaction that excludes every other update of the
	// same data, by this process or another.
	update(ctx context.Context, fn func(w writer) error) error
	// rows returns every row of watch_domains.
	rows(ctx context.Context) ([]dbRow, error)
	// row returns one domain's row.
	row(ctx context.Context, domain string) (dbRow, bool, error)
	// lastOwnerChange returns the domain's latest change with owner set, and its run's time.
	lastOwnerChange(ctx context.Context, domain string) (changeRow, int64, bool, error)
	lastRun(ctx context.Context) (Run, bool, error)
	// owedMail returns the changes of the runs before run that owe a mail, with their runs'
	// times, oldest first.
	owedMail(ctx context.Context, run int64) ([]changeRow, []int64, error)
	// mailSent marks the runs up to run as owing no mail.
	mailSent(ctx context.Context, run int64) error
	close() error
}

// writer is what a run writes, inside update's transaction.
type writer interface {
	rows(ctx context.Context) ([]dbRow, error)
	put(ctx context.Context, rows []dbRow) error
	addRun(ctx context.Context, r Run) (int64, error)
	addChanges(ctx context.Context, run int64, cs []changeRow) error
	// prune deletes what Prune says, before cutoff (Unix microseconds).
	prune(ctx context.Context, cutoff int64) (Pruned, error)
}

// Store is the watch's memory. It is safe for concurrent use, and several processes may
// use the same data: their runs are recorded one after the other.
type Store struct {
	b backend
	// OwnerMin is how many lookalikes in the store an MX host must receive mail for, for
	// a known correspondent's move to it to count as changing hands; 0 means 1.
	OwnerMin int
	// Shared are the shared mail hosts (providers.Shared; the zero value: the built-in
	// list): Google Workspace, Microsoft 365, mail gateways. Such a host is never a farm,
	// and a known correspondent's move to one is a change of provider, not of hands.
	Shared providers.Shared
}

// Open opens the watch store in the PostgreSQL database at dsn when dsn is not "" (the
// quarantine's, quarantine.postgres), else in the SQLite file at path; either is created
// or brought up to date. A database written by a newer rcptguard is refused
// (ErrNewerSchema).
func Open(ctx context.Context, dsn, path string) (*Store, error) {
	if dsn != "" {
		return OpenPostgres(ctx, dsn)
	}
	return OpenSQLite(path)
}

// OpenIn opens the store as `rcptguard squat --watch` does: in the PostgreSQL database at
// dsn when it is not "", else FileName in the data folder dir, created (0700) when missing.
func OpenIn(ctx context.Context, dsn, dir string) (*Store, error) {
	if dsn != "" {
		return OpenPostgres(ctx, dsn)
	}
	if dir == "" {
		return nil, errors.New("watch: no data folder")
	}
	if err := os.MkdirAll(dir, dataDirMode); err != nil {
		return nil, fmt.Errorf("watch: data folder: %w", err)
	}
	return OpenSQLite(filepath.Join(dir, FileName))
}

// Close closes the database.
func (s *Store) Close() error { return s.b.close() }

// Record stores a run's results and returns what changed since the previous facts of each
// domain, in domain order. It is atomic: either the whole run is stored (facts, the run,
// its changes) or nothing is. An entry whose lookup failed (dnsq.Unknown) keeps the
// domain's previous facts and is no change; a domain answered for the first time is the
// baseline and no change either. An invalid entry fails the run (ErrInvalid).
func (s *Store) Record(ctx context.Context, at time.Time, entries []Entry) ([]Change, error) {
	_, changes, err := s.RecordRun(ctx, at, entries, false)
	return changes, err
}

// RecordRun is Record, returning the run too. With owesMail (squat --notify) a run that
// found changes owes them a mail: OwedMail lists them at later runs until MailSent says
// one went out, so that a mail that failed is not lost.
func (s *Store) RecordRun(ctx context.Context, at time.Time, entries []Entry, owesMail bool) (Run, []Change, error) {
	if at.IsZero() {
		return Run{}, nil, fmt.Errorf("watch: record: %w: no time", ErrInvalid)
	}
	es, err := normalise(entries)
	if err != nil {
		return Run{}, nil, fmt.Errorf("watch: record: %w", err)
	}
	at = at.UTC().Truncate(time.Microsecond)
	var changes []Change
	var run Run
	err = s.b.update(ctx, func(w writer) error {
		rows, err := w.rows(ctx)
		if err != nil {
			return err
		}
		prev := make(map[string]Seen, len(rows))
		for _, r := range rows {
			seen, err := fromRow(r)
			if err != nil {
				return err
			}
			prev[seen.Domain] = seen
		}
		p := makePlan(prev, es, at, s.OwnerMin, s.Shared)
		out := make([]dbRow, len(p.rows))
		for i, r := range p.rows {
			out[i] = toRow(r)
		}
		if err := w.put(ctx, out); err != nil {
			return err
		}
		run = Run{At: at, Domains: len(es), Unknown: p.unknown, Changes: len(p.changes), MailOwed: owesMail && len(p.changes) > 0}
		id, err := w.addRun(ctx, run)
		if err != nil {
			return err
		}
		run.ID = id
		cs := make([]changeRow, len(p.changes))
		for i, c := range p.changes {
			cs[i] = toChangeRow(c)
		}
		if err := w.addChanges(ctx, id, cs); err != nil {
			return err
		}
		changes = p.changes
		return nil
	})
	if err != nil {
		return Run{}, nil, fmt.Errorf("watch: record a run of %d domains: %w", len(es), err)
	}
	return run, changes, nil
}

// OwedMail returns the changes of the runs before run that owe a mail (RecordRun with
// owesMail, no MailSent since), oldest first, each with its run's time in At.
func (s *Store) OwedMail(ctx context.Context, run int64) ([]Change, error) {
	rows, ats, err := s.b.owedMail(ctx, run)
	if err != nil {
		return nil, fmt.Errorf("watch: changes owing a mail: %w", err)
	}
	out := make([]Change, 0, len(rows))
	for i, r := range rows {
		c, err := fromChangeRow(r, ats[i])
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// MailSent records that the changes of run and of every run before it were mailed.
func (s *Store) MailSent(ctx context.Context, run int64) error {
	if err := s.b.mailSent(ctx, run); err != nil {
		return fmt.Errorf("watch: mail sent: %w", err)
	}
	return nil
}

// Seen returns what the store keeps about one domain; ok is false when no run named it.
func (s *Store) Seen(ctx context.Context, domain string) (Seen, bool, error) {
	d, err := address.ParseDomain(domain)
	if err != nil {
		return Seen{}, false, fmt.Errorf("watch: %w", err)
	}
	r, ok, err := s.b.row(ctx, d.ASCII)
	if err != nil || !ok {
		return Seen{}, false, err
	}
	seen, err := fromRow(r)
	if err != nil {
		return Seen{}, false, err
	}
	return seen, true, nil
}

// ChangedOwner returns the change that suggests the known correspondent domain changed
// hands (its MX moved to a host serving lookalikes, or it came back after being gone),
// as long as it stands: the domain is still watched as known and still receives its mail
// where it did after that change. ok is false otherwise.
func (s *Store) ChangedOwner(ctx context.Context, domain string) (Change, bool, error) {
	seen, ok, err := s.Seen(ctx, domain)
	if err != nil || !ok || seen.Kind != Known {
		return Change{}, false, err
	}
	r, at, ok, err := s.b.lastOwnerChange(ctx, seen.Domain)
	if err != nil {
		return Change{}, false, fmt.Errorf("watch: %s: %w", seen.Domain, err)
	}
	if !ok {
		return Change{}, false, nil
	}
	c, err := fromChangeRow(r, at)
	if err != nil {
		return Change{}, false, err
	}
	if seen.Facts.Status != c.After.Status || !sameSet(seen.Facts.MailHosts(), c.After.MX) {
		return Change{}, false, nil // it moved again since
	}
	if c.Kind == MXMoved {
		// Recorded before its hosts were known to be shared (an older rcptguard, or a
		// shared host added to dns.shared_mail_hosts since): a change of provider.
		c.FarmHosts = slices.DeleteFunc(c.FarmHosts, s.Shared.Has)
		if len(c.FarmHosts) == 0 {
			return Change{}, false, nil
		}
	}
	return c, true, nil
}

// Standing is what the store holds that the guard acts on (guard.Evidence): what stands
// after the last run.
type Standing struct {
	Receiving    []Seen   // lookalikes registered and able to receive mail at their last answer
	Farms        []Farm   // mail hosts serving at least the farm minimum of them
	ChangedHands []Change // known correspondents whose change of hands stands (ChangedOwner)
}

// Standing reads the store's standing findings, with farms of at least farmMin lookalikes.
func (s *Store) Standing(ctx context.Context, farmMin int) (Standing, error) {
	rows, err := s.b.rows(ctx)
	if err != nil {
		return Standing{}, fmt.Errorf("watch: %w", err)
	}
	receiving, err := receivingOf(rows)
	if err != nil {
		return Standing{}, err
	}
	st := Standing{Farms: farmsOf(receiving, farmMin, s.Shared)}
	for _, seen := range receiving {
		st.Receiving = append(st.Receiving, seen)
	}
	slices.SortFunc(st.Receiving, func(a, b Seen) int { return cmp.Compare(a.Domain, b.Domain) })
	for _, r := range rows {
		if r.kind != Known.String() {
			continue
		}
		c, ok, err := s.ChangedOwner(ctx, r.domain)
		if err != nil {
			return Standing{}, err
		}
		if ok {
			st.ChangedHands = append(st.ChangedHands, c)
		}
	}
	slices.SortFunc(st.ChangedHands, func(a, b Change) int { return cmp.Compare(a.Domain, b.Domain) })
	return st, nil
}

// receivingOf are the lookalike rows that could receive mail at their last answer.
func receivingOf(rows []dbRow) (map[string]Seen, error) {
	all := make(map[string]Seen, len(rows))
	for _, r := range rows {
		if r.kind != Lookalike.String() || !r.canReceive {
			continue
		}
		seen, err := fromRow(r)
		if err != nil {
			return nil, err
		}
		all[seen.Domain] = seen
	}
	return all, nil
}

// farmsOf are the hosts serving at least min of the receiving lookalikes, most first;
// never a shared mail host (farmCounts).
func farmsOf(receiving map[string]Seen, min int, shared providers.Shared) []Farm {
	var out []Farm
	for h, n := range farmCounts(receiving, shared) {
		if n >= max(min, 1) {
			out = append(out, Farm{Host: h, Lookalikes: n})
		}
	}
	slices.SortFunc(out, func(a, b Farm) int {
		return cmp.Or(cmp.Compare(b.Lookalikes, a.Lookalikes), cmp.Compare(a.Host, b.Host))
	})
	return out
}

// Pruned counts what Prune deleted.
type Pruned struct {
	Runs, Changes, Domains int64
}

// Prune deletes what the watch no longer needs from before cutoff, in one transaction:
//   - the rows of domains neither answered for nor first seen since (no longer watched, or
//     never answered since); a domain watched again starts a new baseline;
//   - the runs recorded before it, with their changes.
//
// It keeps the last run, the runs that still owe their mail (OwedMail), and the run of
// each watched domain's latest change of hands, which ChangedOwner reads while it stands.
func (s *Store) Prune(ctx context.Context, cutoff time.Time) (Pruned, error) {
	if cutoff.IsZero() {
		return Pruned{}, fmt.Errorf("watch: prune: %w: no time", ErrInvalid)
	}
	var p Pruned
	err := s.b.update(ctx, func(w writer) error {
		var err error
		p, err = w.prune(ctx, micros(cutoff.UTC()))
		return err
	})
	if err != nil {
		return Pruned{}, fmt.Errorf("watch: prune: %w", err)
	}
	return p, nil
}

// LastRun returns the latest recorded run; ok is false before the first.
func (s *Store) LastRun(ctx context.Context) (Run, bool, error) {
	r, ok, err := s.b.lastRun(ctx)
	if err != nil {
		return Run{}, false, fmt.Errorf("watch: last run: %w", err)
	}
	return r, ok, nil
}
