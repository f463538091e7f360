package history

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/engine"
)

// Store keeps the history. Implementations are safe for concurrent use.
type Store interface {
	// Record adds a batch of observations atomically: all of them or none. An invalid
	// observation (see Observation) fails the whole batch with an error wrapping
	// ErrInvalid. Counts saturate at math.MaxInt64.
	Record(ctx context.Context, obs []Observation) error
	// Known returns every recipient domain with its message count.
	Known(ctx context.Context) ([]engine.KnownDomain, error)
	// Domain returns what is known about one recipient domain; ok is false when it was
	// never recorded. name may be in any form address.ParseDomain accepts.
	Domain(ctx context.Context, name string) (s Stat, ok bool, err error)
	// Sender returns what is known about one sender's own mail to one recipient domain; ok
	// is false when that sender never wrote to it. sender is an address in any form
	// NormalSender accepts, name a domain in any form address.ParseDomain accepts.
	Sender(ctx context.Context, sender, name string) (s SenderStat, ok bool, err error)
	// PruneSenders bounds the per-sender history: it deletes the rows last seen before
	// before, then, while more than maxRows are left (0: no cap), the least recently seen.
	// It returns how many rows it deleted.
	PruneSenders(ctx context.Context, before time.Time, maxRows int) (int64, error)
	// Generation is a number that changes whenever the organisation's history (what
	// Known returns) changes, through this handle or any other on the same data (another
	// node, history import). It is one small read: a daemon polls it to rebuild its guard
	// only when there is something new.
	Generation(ctx context.Context) (int64, error)
	// Health reports whether the store takes a write now.
	Health(ctx context.Context) error
	Close() error
}

// Observation is mail that went to one recipient domain.
type Observation struct {
	// Domain is the recipient domain, normalised ASCII (address.Domain.ASCII).
	Domain string
	// SenderDomain is the sender's domain in the same form; empty when unknown (or for
	// the null sender).
	SenderDomain string
	// Sender is the sender's address in the form NormalSender gives; empty when unknown
	// (or for the null sender). When set, the mail counts in that sender's own history.
	Sender string
	// SenderOnly: the mail counts in the sender's own history only, not in the
	// organisation's (Domain and SenderDomain are then not counted). Sender must be set.
	SenderOnly bool
	// At is when the mail went; it must be set.
	At time.Time
	// Count is the number of messages; 0 means 1. It must not be negative.
	Count int64
}

// Stat is what the store knows about one recipient domain.
type Stat struct {
	Domain              string
	Count               int64
	FirstSeen, LastSeen time.Time // UTC, to the microsecond
	Senders             int       // distinct sender domains that wrote to it
}

// ErrInvalid is wrapped by the error for an observation that cannot be recorded.
var ErrInvalid = errors.New("invalid observation")

// tally is what a batch adds to one row.
type tally struct {
	count       int64
	first, last int64 // Unix microseconds
}

func (t *tally) add(count, at int64) {
	if t.count == 0 {
		*t = tally{count: count, first: at, last: at}
		return
	}
	t.count = satAdd(t.count, count)
	t.first, t.last = min(t.first, at), max(t.last, at)
}

// pair is a (recipient domain, sender domain) key, or a (recipient domain, sender
// address) key.
type pair struct{ domain, sender string }

func comparePairs(x, y pair) int {
	return cmp.Or(cmp.Compare(x.domain, y.domain), cmp.Compare(x.sender, y.sender))
}

// addTo adds one observation to the row key of rows, remembering new keys in order.
func addTo(rows map[pair]*tally, keys *[]pair, key pair, n, at int64) {
	t := rows[key]
	if t == nil {
		t = new(tally)
		rows[key] = t
		*keys = append(*keys, key)
	}
	t.add(n, at)
}

// batch is a list of observations summed per row, with the keys sorted: writers that lock
// rows (PostgreSQL) then lock them in one order and cannot deadlock each other.
type batch struct {
	domains    map[string]*tally
	domainKeys []string
	senders    map[pair]*tally
	senderKeys []pair
	// own are the senders' own histories: (recipient domain, sender address).
	own     map[pair]*tally
	ownKeys []pair
}

// summarise validates obs and sums them per recipient domain and per (recipient, sender)
// pair: a batch of a thousand observations of a few domains costs a few row updates.
func summarise(obs []Observation) (*batch, error) {
	b := &batch{domains: map[string]*tally{}, senders: map[pair]*tally{}, own: map[pair]*tally{}}
	valid := map[string]bool{}
	for i, o := range obs {
		if err := checkName(valid, o.Domain, false); err != nil {
			return nil, fmt.Errorf("%w %d: recipient domain: %w", ErrInvalid, i, err)
		}
		if err := checkName(valid, o.SenderDomain, true); err != nil {
			return nil, fmt.Errorf("%w %d: sender domain: %w", ErrInvalid, i, err)
		}
		if err := checkSender(valid, o.Sender); err != nil {
			return nil, fmt.Errorf("%w %d: sender: %w", ErrInvalid, i, err)
		}
		if o.SenderOnly && o.Sender == "" {
			return nil, fmt.Errorf("%w %d: %s: counts for the sender only, but there is no sender", ErrInvalid, i, o.Domain)
		}
		if o.At.IsZero() {
			return nil, fmt.Errorf("%w %d: %s: no time", ErrInvalid, i, o.Domain)
		}
		if o.Count < 0 {
			return nil, fmt.Errorf("%w %d: %s: negative count %d", ErrInvalid, i, o.Domain, o.Count)
		}
		n, at := max(o.Count, 1), o.At.UnixMicro()
		if o.Sender != "" {
			addTo(b.own, &b.ownKeys, pair{o.Domain, o.Sender}, n, at)
		}
		if o.SenderOnly {
			continue
		}
		t := b.domains[o.Domain]
		if t == nil {
			t = new(tally)
			b.domains[o.Domain] = t
			b.domainKeys = append(b.domainKeys, o.Domain)
		}
		t.add(n, at)
		if o.SenderDomain != "" {
			addTo(b.senders, &b.senderKeys, pair{o.Domain, o.SenderDomain}, n, at)
		}
	}
	slices.Sort(b.domainKeys)
	slices.SortFunc(b.senderKeys, comparePairs)
	slices.SortFunc(b.ownKeys, comparePairs)
	return b, nil
}

// checkName accepts a domain only in the normalised ASCII form address.ParseDomain gives,
// so that one domain is always one row. valid caches the answers for a batch.
func checkName(valid map[string]bool, name string, emptyOK bool) error {
	if name == "" {
		if emptyOK {
			return nil
		}
		return errors.New("empty")
	}
	if valid[name] {
		return nil
	}
	d, err := address.ParseDomain(name)
	if err != nil {
		return err
	}
	if d.ASCII != name {
		return fmt.Errorf("%q is not in normalised form (%q)", name, d.ASCII)
	}
	valid[name] = true
	return nil
}

// satAdd adds two non-negative counts, saturating at math.MaxInt64.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// domainRows is what both databases' result sets (database/sql and pgx) offer.
type domainRows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// knownFrom reads rows of (domain, count) into known domains; a name that is no domain
// any more, or a negative count, is passed over.
func knownFrom(rows domainRows) ([]engine.KnownDomain, error) {
	var out []engine.KnownDomain
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			return nil, fmt.Errorf("history: known domains: %w", err)
		}
		d, err := address.ParseDomain(name)
		if err != nil || n < 0 {
			continue
		}
		out = append(out, engine.KnownDomain{Domain: d, Count: n})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history: known domains: %w", err)
	}
	return out, nil
}
