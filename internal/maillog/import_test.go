package maillog

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/engine"
	"github.com/rcptguard/rcptguard/internal/history"
	"github.com/rcptguard/rcptguard/internal/providers"
)

// newLearner is a learner on a SQLite store in a temporary folder, with army.mil and
// the .mil namespace protected.
func newLearner(t *testing.T) (*history.Learner, *history.SQLite) {
	t.Helper()
	store, err := history.OpenSQLite(filepath.Join(t.TempDir(), "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	army, err := address.ParseDomain("army.mil")
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(engine.Inputs{
		Protected: []address.Domain{army}, ProtectedNamespaces: []string{"mil"}, Providers: providers.Domains(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return &history.Learner{Store: store, Check: e.Check}, store
}

func count(t *testing.T, s history.Store, domain string) (int64, int) {
	t.Helper()
	st, ok, err := s.Domain(context.Background(), domain)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return 0, 0
	}
	return st.Count, st.Senders
}

func TestImportSample(t *testing.T) {
	learner, store := newLearner(t)
	st, err := Import(context.Background(), strings.NewReader(sample(t)), utc2026, learner)
	if err != nil {
		t.Fatal(err)
	}
	// Sent by smtp: fabrikam.com x4, army.mil, army.ml, slow.example, northwind.example.
	// Not offered: the lmtp and local deliveries.
	want := ImportStats{
		Stats:   Stats{Lines: 42, Deliveries: 10, Deferred: 1, Bounced: 1, Skipped: 4},
		Learned: 7, Refused: 1, Ignored: 2,
	}
	if st != want {
		t.Errorf("stats = %+v\nwant %+v", st, want)
	}
	for domain, want := range map[string][2]int64{
		"fabrikam.com": {4, 1}, "army.mil": {1, 1}, "slow.example": {1, 1}, "northwind.example": {1, 0},
		"army.ml": {0, 0}, "gmial.com": {0, 0}, "contoso.com": {0, 0}, "mx1.contoso.com": {0, 0},
	} {
		if n, senders := count(t, store, domain); n != want[0] || int64(senders) != want[1] {
			t.Errorf("%s: %d messages from %d sender domains; want %d from %d", domain, n, senders, want[0], want[1])
		}
	}
	st2, _, _ := store.Domain(context.Background(), "fabrikam.com")
	if !st2.FirstSeen.Equal(at(10, 45, 51)) || !st2.LastSeen.Equal(at(11, 31, 1)) {
		t.Errorf("fabrikam.com seen %v .. %v", st2.FirstSeen, st2.LastSeen)
	}
}

func TestImportBatches(t *testing.T) {
	learner, store := newLearner(t)
	var b strings.Builder
	const n = 2*ImportBatch + 17
	for i := range n {
		to := "x@fabrikam.com"
		if i%10 == 0 {
			to = "x@army.ml"
		}
		fmt.Fprintf(&b, "Nov 27 10:00:00 mx1 postfix/smtp[1]: A%08X: to=<%s>, relay=r, status=sent (ok)\n", i, to)
	}
	calls := 0
	counting := &history.Learner{Store: countingStore{store, &calls}, Check: learner.Check}
	st, err := Import(context.Background(), strings.NewReader(b.String()), utc2026, counting)
	if err != nil {
		t.Fatal(err)
	}
	if st.Learned != n-n/10-1 || st.Refused != n/10+1 || calls != 3 {
		t.Errorf("learned %d, refused %d in %d Record calls", st.Learned, st.Refused, calls)
	}
	if got, _ := count(t, store, "fabrikam.com"); got != int64(st.Learned) {
		t.Errorf("fabrikam.com: %d stored, %d learned", got, st.Learned)
	}
}

type countingStore struct {
	history.Store
	calls *int
}

func (c countingStore) Record(ctx context.Context, obs []history.Observation) error {
	*c.calls++
	return c.Store.Record(ctx, obs)
}

func TestImportStopsWhenCancelled(t *testing.T) {
	learner, store := newLearner(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Import(ctx, strings.NewReader(sample(t)), utc2026, learner)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
	if n, _ := count(t, store, "fabrikam.com"); n != 0 {
		t.Errorf("a cancelled import learned %d", n)
	}
}

func TestImportReportsStoreErrors(t *testing.T) {
	learner, store := newLearner(t)
	store.Close()
	if _, err := Import(context.Background(), strings.NewReader(sample(t)), utc2026, learner); err == nil {
		t.Error("no error from a closed store")
	}
}
