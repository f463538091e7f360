package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/verdict"
)

// qfixture is a quarantine database in a temporary data_dir, with a config naming it.
type qfixture struct {
	cfg, db string
	store   *quarantine.SQLite

	mu  sync.Mutex
	now time.Time // the fixture store's clock: zero is the real time
}

func newQFixture(t *testing.T) *qfixture {
	t.Helper()
	dir := t.TempDir()
	f := &qfixture{cfg: filepath.Join(dir, "rcptguard.yaml"), db: filepath.Join(dir, "data", "quarantine.db")}
	if err := os.WriteFile(f.cfg, []byte("protect: [army.mil, .mil]\ndata_dir: data\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(f.db), 0o750); err != nil {
		t.Fatal(err)
	}
	s, err := quarantine.OpenSQLite(f.db, quarantine.WithClock(f.clock))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	f.store = s
	t.Setenv("USER", "tester")
	return f
}

func (f *qfixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.now.IsZero() {
		return time.Now()
	}
	return f.now
}

func (f *qfixture) setClock(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = t
}

// hold holds a message from sender to the recipients ("addr" or "addr>intended" for a
// flagged one) with the raw content.
func (f *qfixture) hold(t *testing.T, received time.Time, sender, subject, raw string, rcpts ...string) string {
	t.Helper()
	m := quarantine.Message{Received: received, Adapter: "milter", Sender: sender, ClientAddr: "192.0.2.10",
		Subject: subject, ExpiresAt: received.Add(14 * 24 * time.Hour)}
	for _, r := range rcpts {
		addr, intended, flagged := strings.Cut(r, ">")
		rc := quarantine.Recipient{Address: addr, Verdict: verdict.Allow}
		if flagged {
			rc = quarantine.Recipient{Address: addr, Verdict: verdict.Hold, Techniques: []string{"tld-swap"},
				Reason: "looks like " + intended}
			if intended != "" {
				rc.Intended = []string{intended}
			}
		}
		m.Recipients = append(m.Recipients, rc)
	}
	id, err := f.store.Hold(context.Background(), m, strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (f *qfixture) get(t *testing.T, id string) quarantine.Message {
	t.Helper()
	m, err := f.store.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// q runs `rcptguard quarantine SUB --config CFG ARGS...`.
func (f *qfixture) q(t *testing.T, sub string, args ...string) result {
	t.Helper()
	return run(t, nil, append([]string{"quarantine", sub, "--config", f.cfg}, args...)...)
}

// rawArmy is a message whose bytes a text round trip would change: CRLF, a bare LF, a
// NUL, invalid UTF-8 and no final line break.
const rawArmy = "From: alice@contoso.com\r\nTo: bob@army.ml\r\nSubject: Orders\r\n\r\nline one\nbin \x00\xff\xfe\r\nno final newline"

var received0 = time.Date(2026, 11, 20, 8, 15, 42, 0, time.UTC)

// seed holds army (flagged bob@army.ml, intended army.mil, and an allowed recipient), navy
// (flagged eve@navy.ml) and airforce, which the fixture then discards.
func seed(t *testing.T, f *qfixture) (army, navy, airforce string) {
	army = f.hold(t, received0, "alice@contoso.com", "Orders", rawArmy, "bob@army.ml>army.mil", "carol@fabrikam.com")
	navy = f.hold(t, received0.Add(time.Hour), "dave@contoso.com", "Budget", "Subject: Budget\r\n\r\nx\r\n", "eve@navy.ml>navy.mil")
	airforce = f.hold(t, received0.Add(2*time.Hour), "frank@contoso.com", "Flights", "Subject: Flights\r\n\r\ny\r\n", "gus@af.ml>af.mil")
	if err := f.store.Transition(context.Background(), airforce, quarantine.Held, quarantine.Discarded, "admin:root", "192.0.2.1", "discarded"); err != nil {
		t.Fatal(err)
	}
	return army, navy, airforce
}

// listed reports which of ids appear in out.
func listed(out string, ids ...string) []bool {
	got := make([]bool, len(ids))
	for i, id := range ids {
		got[i] = strings.Contains(out, id)
	}
	return got
}

func TestQuarantineListFilters(t *testing.T) {
	f := newQFixture(t)
	army, navy, airforce := seed(t, f)
	for _, tt := range []struct {
		args []string
		want []bool // army, navy, airforce listed
	}{
		{nil, []bool{true, true, false}},
		{[]string{"--state", "held"}, []bool{true, true, false}},
		{[]string{"--state", "discarded"}, []bool{false, false, true}},
		{[]string{"--state", "all"}, []bool{true, true, true}},
		{[]string{"--search", "NAVY"}, []bool{false, true, false}},
		{[]string{"--search", "orders"}, []bool{true, false, false}}, // the subject
		{[]string{"--state", "all", "--search", "frank@"}, []bool{false, false, true}},
		{[]string{"--search", "nothing-like-this"}, []bool{false, false, false}},
		{[]string{"--limit", "1"}, []bool{false, true, false}}, // newest first
	} {
		r := f.q(t, "list", tt.args...)
		if r.code != ExitOK {
			t.Fatalf("list %v: %+v", tt.args, r)
		}
		if got := listed(r.stdout, army, navy, airforce); !slices.Equal(got, tt.want) {
			t.Errorf("list %v: listed %v, want %v:\n%s", tt.args, got, tt.want, r.stdout)
		}
	}
	r := f.q(t, "list")
	for _, want := range []string{"ID", "RECEIVED (UTC)", "2026-11-20 08:15", "alice@contoso.com",
		"bob@army.ml -> army.mil", "eve@navy.ml -> navy.mil", "held", "2026-12-04 08:15"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("list: no %q in\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "carol@fabrikam.com") {
		t.Errorf("list shows an allowed recipient as flagged:\n%s", r.stdout)
	}
	if n := len(lines(r.stdout)); n != 3 {
		t.Errorf("list: %d lines, want a header and 2 rows:\n%s", n, r.stdout)
	}
	if r := f.q(t, "list", "--search", "nothing-like-this"); !strings.Contains(r.stdout, "no messages") {
		t.Errorf("empty list: %+v", r)
	}
	for _, bad := range [][]string{{"--state", "sent"}, {"--limit", "0"}, {"--limit", "5000"}, {"extra"}, {"--nope"}} {
		if r := f.q(t, "list", bad...); r.code != ExitUsage || r.stderr == "" {
			t.Errorf("list %v: %+v, want exit 2 with a message", bad, r)
		}
	}
}

func TestQuarantineListJSON(t *testing.T) {
	f := newQFixture(t)
	army, navy, _ := seed(t, f)
	r := f.q(t, "list", "--json")
	if r.code != ExitOK {
		t.Fatalf("%+v", r)
	}
	ls := lines(r.stdout)
	if len(ls) != 2 {
		t.Fatalf("%d lines, want 2:\n%s", len(ls), r.stdout)
	}
	keys := []string{"id", "received", "adapter", "sender", "auth_user", "client_addr", "queue_id", "subject", "size",
		"state", "expires_at", "recipients", "release_to", "delivery", "attempts", "last_error", "next_attempt",
		"delivered_at", "delivery_reply", "notice", "notice_error", "reminder_sent"}
	var ids []string
	for _, l := range ls {
		var raw map[string]any
		if err := json.Unmarshal([]byte(l), &raw); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		for _, k := range keys {
			if _, ok := raw[k]; !ok {
				t.Errorf("no %q in %s", k, l)
			}
		}
		if len(raw) != len(keys) {
			t.Errorf("%d fields, want %d: %s", len(raw), len(keys), l)
		}
		var m messageJSON
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		if m.State != "held" || m.Delivery != "none" {
			t.Errorf("state %q delivery %q: %s", m.State, m.Delivery, l)
		}
		ids = append(ids, m.ID)
		if m.ID == army {
			if m.Received != "2026-11-20T08:15:42Z" || m.Sender != "alice@contoso.com" || m.Size != int64(len(rawArmy)) ||
				len(m.Recipients) != 2 || !m.Recipients[0].Flagged || m.Recipients[1].Flagged ||
				!slices.Equal(m.Recipients[0].Intended, []string{"army.mil"}) ||
				!slices.Equal(m.Recipients[0].Techniques, []string{"tld-swap"}) || m.ExpiresAt == nil {
				t.Errorf("army: %s", l)
			}
		}
	}
	if !slices.Equal(ids, []string{navy, army}) {
		t.Errorf("ids %v, want %v (newest first)", ids, []string{navy, army})
	}
}

func TestQuarantineShow(t *testing.T) {
	f := newQFixture(t)
	army, _, airforce := seed(t, f)

	r := f.q(t, "show", army)
	if r.code != ExitOK {
		t.Fatalf("%+v", r)
	}
	for _, want := range []string{"ID:          " + army, "State:       held", "alice@contoso.com", "Orders",
		"bob@army.ml  hold  intended army.mil  techniques tld-swap", "looks like army.mil", "carol@fabrikam.com  allow",
		"Delivery:    none", "Notice:      none", "none -> held  by milter from 192.0.2.10"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("show: no %q in\n%s", want, r.stdout)
		}
	}
	if r := f.q(t, "show", airforce); !strings.Contains(r.stdout, "held -> discarded  by admin:root from 192.0.2.1  discarded") {
		t.Errorf("show of a discarded message lacks its event:\n%s", r.stdout)
	}

	// --raw: the bytes exactly, whether the flag comes before or after the ID.
	for _, args := range [][]string{{"--raw", army}, {army, "--raw"}} {
		r := f.q(t, "show", args...)
		if r.code != ExitOK || r.stdout != rawArmy || r.stderr != "" {
			t.Errorf("show %v: code %d, stdout %q, stderr %q; want %q", args, r.code, r.stdout, r.stderr, rawArmy)
		}
	}

	r = f.q(t, "show", "--json", airforce)
	var v struct {
		ID     string      `json:"id"`
		State  string      `json:"state"`
		Events []eventJSON `json:"events"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || len(lines(r.stdout)) != 1 {
		t.Fatalf("show --json: %v: %q", err, r.stdout)
	}
	if v.ID != airforce || v.State != "discarded" || len(v.Events) != 2 ||
		v.Events[1] != (eventJSON{At: v.Events[1].At, From: "held", To: "discarded", Actor: "admin:root", Remote: "192.0.2.1", Note: "discarded"}) {
		t.Errorf("show --json: %+v", v)
	}

	if r := f.q(t, "show", "NoSuchMessageIDxxxxxxx"); r.code != ExitFlagged || !strings.Contains(r.stderr, "no message NoSuchMessageIDxxxxxxx") {
		t.Errorf("unknown ID: %+v", r)
	}
	if r := f.q(t, "show", "--raw", "NoSuchMessageIDxxxxxxx"); r.code != ExitFlagged || r.stdout != "" {
		t.Errorf("unknown ID, raw: %+v", r)
	}
	for _, bad := range [][]string{nil, {army, army}, {"--raw", "--json", army}} {
		if r := f.q(t, "show", bad...); r.code != ExitUsage || r.stderr == "" {
			t.Errorf("show %v: %+v, want exit 2", bad, r)
		}
	}
}

func TestQuarantineReleaseCorrected(t *testing.T) {
	f := newQFixture(t)
	army, _, _ := seed(t, f)
	r := f.q(t, "release", "--correct", army)
	if r.code != ExitOK {
		t.Fatalf("%+v", r)
	}
	for _, want := range []string{"released-corrected by cli:tester", "bob@army.ml -> bob@army.mil",
		"Release to: bob@army.mil, carol@fabrikam.com", "rcptguard serve` re-injects it within seconds"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("release: no %q in\n%s", want, r.stdout)
		}
	}
	m := f.get(t, army)
	if m.State != quarantine.ReleasedCorrected || !slices.Equal(m.ReleaseTo, []string{"bob@army.mil", "carol@fabrikam.com"}) ||
		m.Delivery != quarantine.DeliveryPending {
		t.Errorf("after release: state %v, release to %v, delivery %q", m.State, m.ReleaseTo, m.Delivery)
	}
	evs, err := f.store.Audit(context.Background(), army)
	if err != nil {
		t.Fatal(err)
	}
	if last := evs[len(evs)-1]; last.Actor != "cli:tester" || last.Remote != "cli" || last.To != quarantine.ReleasedCorrected {
		t.Errorf("audit: %+v", last)
	}

	// A second choice about the same message changes nothing.
	for _, args := range [][]string{{army}, {"--correct", army}} {
		r := f.q(t, "release", args...)
		if r.code != ExitFlagged || !strings.Contains(r.stderr, "already handled: it is released-corrected") || r.stdout != "" {
			t.Errorf("second release %v: %+v", args, r)
		}
	}
	if r := f.q(t, "discard", army); r.code != ExitFlagged || !strings.Contains(r.stderr, "already handled") {
		t.Errorf("discard after release: %+v", r)
	}
	if m := f.get(t, army); m.State != quarantine.ReleasedCorrected {
		t.Errorf("state changed to %v", m.State)
	}
	if r := f.q(t, "release", "NoSuchMessageIDxxxxxxx"); r.code != ExitFlagged || !strings.Contains(r.stderr, "no message") {
		t.Errorf("unknown ID: %+v", r)
	}
	if r := f.q(t, "release", "--correct"); r.code != ExitUsage {
		t.Errorf("no ID: %+v", r)
	}
}

func TestQuarantineReleaseAsAddressedAndDiscard(t *testing.T) {
	f := newQFixture(t)
	army, navy, _ := seed(t, f)
	noSuggestion := f.hold(t, received0, "hal@contoso.com", "Hi", "x", "ivy@weird.ml>")

	if r := f.q(t, "release", noSuggestion, "--correct"); r.code != ExitFlagged || !strings.Contains(r.stderr, "no suggested domain") {
		t.Errorf("correct without suggestion: %+v", r)
	}
	if m := f.get(t, noSuggestion); m.State != quarantine.Held {
		t.Errorf("state %v after a refused correction", m.State)
	}

	r := f.q(t, "release", army)
	if r.code != ExitOK || !strings.Contains(r.stdout, "released-as-addressed by cli:tester") ||
		!strings.Contains(r.stdout, "Release to: bob@army.ml, carol@fabrikam.com") {
		t.Errorf("release: %+v", r)
	}
	if m := f.get(t, army); m.State != quarantine.ReleasedAsAddressed || !slices.Equal(m.ReleaseTo, []string{"bob@army.ml", "carol@fabrikam.com"}) {
		t.Errorf("after release: %v %v", m.State, m.ReleaseTo)
	}

	r = f.q(t, "discard", navy)
	if r.code != ExitOK || !strings.Contains(r.stdout, "discarded by cli:tester") || strings.Contains(r.stdout, "re-injects") {
		t.Errorf("discard: %+v", r)
	}
	if m := f.get(t, navy); m.State != quarantine.Discarded || m.Delivery != quarantine.DeliveryNone {
		t.Errorf("after discard: %v %q", m.State, m.Delivery)
	}
	if r := f.q(t, "discard", navy); r.code != ExitFlagged || !strings.Contains(r.stderr, "already handled: it is discarded") {
		t.Errorf("second discard: %+v", r)
	}
	if r := f.q(t, "list"); !slices.Equal(listed(r.stdout, army, navy, noSuggestion), []bool{false, false, true}) {
		t.Errorf("list after the choices:\n%s", r.stdout)
	}
}

func TestQuarantineRetry(t *testing.T) {
	f := newQFixture(t)
	army, navy, airforce := seed(t, f)
	ctx := context.Background()

	for _, id := range []string{navy, airforce} { // held; discarded: nothing to retry
		r := f.q(t, "retry", id)
		if r.code != ExitFlagged || !strings.Contains(r.stderr, "cannot be retried: its delivery is none") {
			t.Errorf("retry %s: %+v", id, r)
		}
	}
	if r := f.q(t, "retry", "NoSuchMessageIDxxxxxxx"); r.code != ExitFlagged || !strings.Contains(r.stderr, "no message") {
		t.Errorf("retry unknown: %+v", r)
	}

	// Released, then refused for good by the re-injection.
	if err := f.store.Release(ctx, army, quarantine.ReleasedAsAddressed, []string{"bob@army.ml"}, "alice@contoso.com", "", ""); err != nil {
		t.Fatal(err)
	}
	if r := f.q(t, "retry", army); r.code != ExitFlagged || !strings.Contains(r.stderr, "its delivery is pending") {
		t.Errorf("retry of a pending delivery: %+v", r)
	}
	if _, ok, err := f.store.NextDelivery(ctx, time.Now()); !ok || err != nil {
		t.Fatalf("claim: %v %v", ok, err)
	}
	if err := f.store.DeliveryFailed(ctx, army, "550 5.1.1 no such user", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if r := f.q(t, "list", "--state", "released-as-addressed"); !strings.Contains(r.stdout, "failed: 550 5.1.1 no such user") {
		t.Errorf("list does not show the failure:\n%s", r.stdout)
	}
	r := f.q(t, "retry", army)
	if r.code != ExitOK || !strings.Contains(r.stdout, "delivery pending again") {
		t.Fatalf("retry: %+v", r)
	}
	if m := f.get(t, army); m.Delivery != quarantine.DeliveryPending {
		t.Errorf("delivery %q after retry", m.Delivery)
	}
	evs, _ := f.store.Audit(ctx, army)
	if last := evs[len(evs)-1]; last.Actor != "cli:tester" || last.Note != "re-injection retried" {
		t.Errorf("audit: %+v", last)
	}
}

func TestQuarantinePurge(t *testing.T) {
	f := newQFixture(t)
	ctx := context.Background()
	longAgo := time.Now().Add(-40 * 24 * time.Hour)
	f.setClock(longAgo)
	oldHeld := f.hold(t, longAgo, "a@contoso.com", "old held", "x", "b@army.ml>army.mil")
	oldDiscarded := f.hold(t, longAgo, "c@contoso.com", "old discarded", "x", "d@army.ml>army.mil")
	if err := f.store.Transition(ctx, oldDiscarded, quarantine.Held, quarantine.Discarded, "admin:root", "", ""); err != nil {
		t.Fatal(err)
	}
	f.setClock(time.Time{})
	recent := f.hold(t, time.Now(), "e@contoso.com", "recent", "x", "f@army.ml>army.mil")
	if r := f.q(t, "discard", recent); r.code != ExitOK {
		t.Fatal(r)
	}

	// Without --older-than, quarantine.purge_after of the config (30d by default).
	long := filepath.Join(filepath.Dir(f.cfg), "long.yaml")
	if err := os.WriteFile(long, []byte("data_dir: data\nquarantine:\n  purge_after: 50d\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := run(t, nil, "quarantine", "purge", "-c", long); r.code != ExitOK || !strings.HasPrefix(r.stdout, "purged 0 messages") {
		t.Fatalf("purge after 50d: %+v", r)
	}
	r := f.q(t, "purge")
	if r.code != ExitOK || !strings.HasPrefix(r.stdout, "purged 1 messages") {
		t.Fatalf("purge after the default 30d: %+v", r)
	}
	if _, err := f.store.Get(ctx, oldDiscarded); !errors.Is(err, quarantine.ErrNotFound) {
		t.Errorf("old discarded message still there: %v", err)
	}
	f.get(t, oldHeld)
	f.get(t, recent)

	if r := f.q(t, "purge", "--older-than", "30d"); !strings.HasPrefix(r.stdout, "purged 0 messages") {
		t.Errorf("second purge: %+v", r)
	}
	time.Sleep(2 * time.Millisecond)
	if r := f.q(t, "purge", "--older-than", "0s"); !strings.HasPrefix(r.stdout, "purged 1 messages") {
		t.Errorf("purge 0s: %+v", r)
	}
	if _, err := f.store.Get(ctx, recent); !errors.Is(err, quarantine.ErrNotFound) {
		t.Errorf("recent discarded message still there: %v", err)
	}
	if m := f.get(t, oldHeld); m.State != quarantine.Held {
		t.Errorf("held message %v", m.State)
	}
	for _, bad := range []string{"-1d", "soon", "30x"} {
		if r := f.q(t, "purge", "--older-than", bad); r.code != ExitUsage || !strings.Contains(r.stderr, "--older-than") {
			t.Errorf("purge --older-than %s: %+v", bad, r)
		}
	}
}

func TestQuarantineDatabaseAndUsage(t *testing.T) {
	f := newQFixture(t)
	army, _, _ := seed(t, f)

	// --db instead of a config, and -c as short for --config.
	r := run(t, nil, "quarantine", "list", "--db", f.db)
	if r.code != ExitOK || !strings.Contains(r.stdout, army) {
		t.Errorf("--db: %+v", r)
	}
	r = run(t, nil, "quarantine", "show", "-c", f.cfg, "--raw", army)
	if r.code != ExitOK || r.stdout != rawArmy {
		t.Errorf("-c: %+v", r)
	}
	// A missing database is an error, not an empty quarantine, and is not created.
	missing := filepath.Join(t.TempDir(), "quarantine.db")
	r = run(t, nil, "quarantine", "list", "--db", missing)
	if r.code != ExitUsage || !strings.Contains(r.stderr, "no quarantine database at "+missing) {
		t.Errorf("missing db: %+v", r)
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the missing database was created: %v", err)
	}
	if r := run(t, nil, "quarantine", "list", "--config", filepath.Join(t.TempDir(), "none.yaml")); r.code != ExitUsage {
		t.Errorf("missing config: %+v", r)
	}

	if r := run(t, nil, "quarantine"); r.code != ExitUsage || !strings.Contains(r.stderr, "rcptguard quarantine list") {
		t.Errorf("no subcommand: %+v", r)
	}
	if r := run(t, nil, "quarantine", "frobnicate"); r.code != ExitUsage || !strings.Contains(r.stderr, `unknown quarantine command "frobnicate"`) {
		t.Errorf("unknown subcommand: %+v", r)
	}
	if r := run(t, nil, "quarantine", "--help"); r.code != ExitOK || !strings.Contains(r.stdout, "rcptguard quarantine purge") {
		t.Errorf("help: %+v", r)
	}
	if r := run(t, nil, "quarantine", "list", "--help"); r.code != ExitOK || !strings.Contains(r.stderr, "-state") {
		t.Errorf("list --help: %+v", r)
	}
	if r := run(t, nil, "help"); !strings.Contains(r.stdout, "rcptguard quarantine list|show|release|discard|retry|purge") {
		t.Errorf("top-level usage lacks quarantine:\n%s", r.stdout)
	}
	for _, tt := range []struct {
		in   string
		want time.Duration
	}{{"30d", 30 * 24 * time.Hour}, {"1.5d", 36 * time.Hour}, {"12h", 12 * time.Hour}, {"0", 0}} {
		if d, err := parseAge(tt.in); err != nil || d != tt.want {
			t.Errorf("parseAge(%q) = %v, %v; want %v", tt.in, d, err, tt.want)
		}
	}
}

// TestQuarantineListEscapesHostileText: a sender or subject with control characters
// cannot forge table rows.
func TestQuarantineListEscapesHostileText(t *testing.T) {
	f := newQFixture(t)
	id := f.hold(t, received0, "evil\n@contoso.com", "x", "x", "bob\tx@army.ml>army.mil")
	r := f.q(t, "list")
	if n := len(lines(r.stdout)); n != 2 || !strings.Contains(r.stdout, `evil\n@contoso.com`) || !strings.Contains(r.stdout, `bob\tx@army.ml`) {
		t.Errorf("%d lines:\n%s", n, r.stdout)
	}
	if r := f.q(t, "show", id); bytes.ContainsRune([]byte(r.stdout), '\t') {
		t.Errorf("show prints a raw tab:\n%s", r.stdout)
	}
}
