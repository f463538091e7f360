package quarantine

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/testenv"
	"github.com/rcptguard/rcptguard/internal/verdict"
)

// TestPostgresStore runs the Store behaviour against a real PostgreSQL server: each
// subtest gets a database of its own.
func TestPostgresStore(t *testing.T) {
	testStore(t, func(t *testing.T, opts ...Option) Store {
		return openPostgres(t, testenv.StartPostgres(t), opts...)
	})
}

func openPostgres(t *testing.T, dsn string, opts ...Option) *Postgres {
	t.Helper()
	s, err := OpenPostgres(ctx, dsn, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestPostgresMigrations(t *testing.T) {
	dsn := testenv.StartPostgres(t)
	s := openPostgres(t, dsn)
	id := hold(t, s, sample(), "raw")
	var v int
	if err := s.pool.QueryRow(ctx, `SELECT version FROM schema_version`).Scan(&v); err != nil || v != len(postgresMigrations) {
		t.Fatalf("schema_version = %d, %v; want %d", v, err, len(postgresMigrations))
	}
	// Nodes starting at once all open the database, which is migrated once.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			s, err := OpenPostgres(ctx, dsn)
			if err != nil {
				t.Error(err)
				return
			}
			defer s.Close()
			if m, err := s.Get(ctx, id); err != nil || m.State != Held {
				t.Errorf("Get on a second handle: %+v, %v", m, err)
			}
		})
	}
	wg.Wait()
	// A database written by a newer rcptguard is refused.
	if _, err := s.pool.Exec(ctx, `UPDATE schema_version SET version = version + 1`); err != nil {
		t.Fatal(err)
	}
	if s2, err := OpenPostgres(ctx, dsn); !errors.Is(err, ErrNewerSchema) {
		if err == nil {
			s2.Close()
		}
		t.Fatalf("open of a newer schema = %v; want ErrNewerSchema", err)
	}
}

func TestPostgresBadDSN(t *testing.T) {
	_, err := OpenPostgres(ctx, "postgres://rcptguard:s3cret@127.0.0.1:notaport/q")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("OpenPostgres with a bad DSN = %v; want an error without the password", err)
	}
}

// The durability settings in force on the store's connections: synchronous_commit is on
// even where the server's default is off (as on the test server).
func TestPostgresSynchronousCommit(t *testing.T) {
	s := openPostgres(t, testenv.StartPostgres(t))
	var sc string
	if err := s.pool.QueryRow(ctx, `SELECT current_setting('synchronous_commit')`).Scan(&sc); err != nil || sc != "on" {
		t.Fatalf("synchronous_commit = %q, %v; want on", sc, err)
	}
}

// Two handles on one database stand for two nodes.
func TestPostgresCrossNode(t *testing.T) {
	dsn := testenv.StartPostgres(t)
	a, b := openPostgres(t, dsn), openPostgres(t, dsn)
	nodes := []*Postgres{a, b}

	t.Run("Claims", func(t *testing.T) {
		const n = 60
		for i := range n {
			id := holdOne(t, nodes[i%2], sample())
			if err := nodes[(i+1)%2].Release(ctx, id, ReleasedAsAddressed, []string{"bob@examp1e.com"}, "s", "", ""); err != nil {
				t.Fatal(err)
			}
		}
		var mu sync.Mutex
		seen := map[string]int{}
		perNode := make([]int, len(nodes))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for w := range 8 {
			node := w % len(nodes)
			wg.Go(func() {
				<-start
				for {
					m, ok, err := nodes[node].NextDelivery(ctx, time.Now().Add(time.Hour))
					if err != nil {
						t.Error(err)
						return
					}
					if !ok {
						return
					}
					mu.Lock()
					seen[m.ID]++
					perNode[node]++
					mu.Unlock()
				}
			})
		}
		close(start)
		wg.Wait()
		if len(seen) != n {
			t.Fatalf("claimed %d messages, want %d", len(seen), n)
		}
		for id, k := range seen {
			if k != 1 {
				t.Fatalf("%s claimed %d times", id, k)
			}
		}
		t.Logf("claims per node: %v", perNode)
	})

	t.Run("Transition", func(t *testing.T) {
		for round := range 20 {
			id := holdOne(t, a, sample())
			errs := make([]error, 4)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range errs {
				wg.Go(func() {
					<-start
					n := nodes[i%2]
					if i < 2 {
						errs[i] = n.Transition(ctx, id, Held, Discarded, fmt.Sprintf("node%d", i), "", "")
					} else {
						errs[i] = n.Release(ctx, id, ReleasedCorrected, []string{"bob@example.com"}, fmt.Sprintf("node%d", i), "", "")
					}
				})
			}
			close(start)
			wg.Wait()
			wins := 0
			for _, err := range errs {
				var ce *ConflictError
				switch {
				case err == nil:
					wins++
				case errors.As(err, &ce) && errors.Is(err, ErrConflict) && ce.Expected == Held && ce.Current != Held:
				default:
					t.Errorf("round %d: %v", round, err)
				}
			}
			if wins != 1 {
				t.Fatalf("round %d: %d winners (%v); want exactly 1", round, wins, errs)
			}
			ev, err := b.Audit(ctx, id)
			if err != nil || len(ev) != 2 {
				t.Fatalf("round %d: audit %v, %v; want held and one transition", round, ev, err)
			}
			m, err := b.Get(ctx, id)
			if err != nil || m.State != ev[1].To || (m.State == ReleasedCorrected) != (m.Delivery == DeliveryPending) {
				t.Fatalf("round %d: message %v delivery %q after event to %v", round, m.State, m.Delivery, ev[1].To)
			}
		}
	})

	t.Run("Dedupe", func(t *testing.T) {
		for round := range 10 {
			m := sample()
			m.DedupeKey = fmt.Sprintf("race-%d", round)
			ids := make([]string, 6)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range ids {
				wg.Go(func() {
					<-start
					id, err := nodes[i%2].Hold(ctx, m, strings.NewReader("raw"))
					if err != nil {
						t.Error(err)
					}
					ids[i] = id
				})
			}
			close(start)
			wg.Wait()
			for _, id := range ids {
				if id != ids[0] {
					t.Fatalf("round %d: one submission held as %v", round, ids)
				}
			}
			l, err := a.List(ctx, Filter{Search: "Quarterly", Limit: MaxListLimit})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, x := range l {
				if x.DedupeKey == m.DedupeKey {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("round %d: %d messages with the key", round, n)
			}
		}
	})

	t.Run("DeliveryOutcome", func(t *testing.T) {
		// One node records the outcome of another's claim; a late second outcome
		// from the other node is refused.
		id := holdOne(t, a, sample())
		if err := a.Release(ctx, id, ReleasedAsAddressed, []string{"bob@examp1e.com"}, "s", "", ""); err != nil {
			t.Fatal(err)
		}
		m, ok, err := a.NextDelivery(ctx, time.Now().Add(time.Hour))
		for ok && err == nil && m.ID != id { // left over from Claims: none, but be sure
			m, ok, err = a.NextDelivery(ctx, time.Now().Add(time.Hour))
		}
		if !ok || err != nil {
			t.Fatalf("claim: %v %v", ok, err)
		}
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Go(func() { errs[i] = nodes[i].Delivered(ctx, id, fmt.Sprintf("250 node%d", i)) })
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("Delivered from both nodes: %v", errs)
		}
		for _, err := range errs {
			if err != nil && !errors.Is(err, ErrDeliveryState) {
				t.Fatalf("losing Delivered: %v", err)
			}
		}
	})
}

// Times and values come back as from SQLite: microseconds, UTC.
func TestPostgresSameAsSQLite(t *testing.T) {
	c := newClock()
	pg := openPostgres(t, testenv.StartPostgres(t), WithClock(c.Now))
	lite := openSQLite(t, t.TempDir()+"/q.db", WithClock(c.Now))
	for _, s := range []Store{pg, lite} {
		m := sample()
		m.ID = "x"
		m.Received = time.Date(2026, 3, 1, 9, 30, 0, 999999999, time.FixedZone("CET", 3600))
		m.Recipients = append(m.Recipients, Recipient{Address: "dave@example.com", Verdict: verdict.Warn,
			Intended: []string{}, Situation: "provider"})
		m.Notice = NoticePending
		id := hold(t, s, m, "raw")
		if err := s.Release(ctx, id, ReleasedCorrected, []string{"bob@example.com"}, "a", "b", "c"); err != nil {
			t.Fatal(err)
		}
		if err := s.SetReminder(ctx, id, c.Now().Add(time.Nanosecond*1500)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.NextDelivery(ctx, c.Now()); err != nil {
			t.Fatal(err)
		}
		if err := s.DeliveryFailed(ctx, id, "451 later", c.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	lp, err := pg.List(ctx, Filter{})
	if err != nil || len(lp) != 1 {
		t.Fatal(lp, err)
	}
	ll, err := lite.List(ctx, Filter{})
	if err != nil || len(ll) != 1 {
		t.Fatal(ll, err)
	}
	lp[0].ID, ll[0].ID = "", ""
	if !reflect.DeepEqual(lp[0], ll[0]) {
		t.Errorf("PostgreSQL:\n%+v\nSQLite:\n%+v", lp[0], ll[0])
	}
	if lp[0].Received.Location() != time.UTC || lp[0].Received.Nanosecond() != 999999000 {
		t.Errorf("Received %v", lp[0].Received)
	}
}

// TestPostgresStats is TestStatsSurvivePurge, TestStatsEmptyStore,
// TestStatsTopDomainsLimit and TestRecentEventsNewestFirst on PostgreSQL.
func TestPostgresStats(t *testing.T) {
	open := func(t *testing.T, opts ...Option) ReportingStore {
		return openPostgres(t, testenv.StartPostgres(t), opts...)
	}
	t.Run("SurvivePurge", func(t *testing.T) { testStatsSurvivePurge(t, open) })
	t.Run("EmptyStore", func(t *testing.T) { testStatsEmptyStore(t, open) })
	t.Run("TopDomainsLimit", func(t *testing.T) { testStatsTopDomainsLimit(t, open) })
	t.Run("RecentEvents", func(t *testing.T) { testRecentEventsNewestFirst(t, open) })
}

// Search and the sender filter ignore ASCII case only, as in SQLite, whatever the
// database's locale.
func TestPostgresListASCIICase(t *testing.T) {
	pg := openPostgres(t, testenv.StartPostgres(t))
	lite := openSQLite(t, t.TempDir()+"/q.db")
	for _, s := range []Store{pg, lite} {
		m := sample()
		m.Sender, m.Subject = "Ärger@Example.org", "ÉTÉ Report"
		hold(t, s, m, "raw")
	}
	for _, f := range []Filter{
		{Search: "été"}, {Search: "ÉTÉ"}, {Search: "éTÉ report"}, {Search: "ÉTÉ REPORT"},
		{Sender: "ärger@example.org"}, {Sender: "Ärger@EXAMPLE.ORG"}, {Search: "ärger"}, {Search: "ÄRGER@"},
	} {
		lp, err := pg.List(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		ll, err := lite.List(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(lp) != len(ll) {
			t.Errorf("List(%+v): PostgreSQL %d, SQLite %d messages", f, len(lp), len(ll))
		}
	}
}

// The admin pages read statistics from either store.
var _ interface {
	Stats(ctx context.Context, since time.Time) (Stats, error)
	RecentEvents(ctx context.Context, limit, offset int) ([]Event, error)
} = (*Postgres)(nil)
