package daemon

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/history"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// waitSender waits until the daemon's history has count messages from sender to domain.
func waitSender(t *testing.T, d *Daemon, sender, domain string, count int64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, ok, err := d.history.Sender(context.Background(), sender, domain)
		if err != nil {
			t.Fatal(err)
		}
		if ok && st.Count == count {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s to %s: %+v (found %v); want %d messages recorded", sender, domain, st, ok, count)
		}
		time.Sleep(50 * time.Millisecond) // polling the store, the condition itself
	}
}

// waitGone waits until the daemon's history has nothing from sender to domain.
func waitGone(t *testing.T, d *Daemon, sender, domain string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, ok, err := d.history.Sender(context.Background(), sender, domain)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s to %s is still there: %+v", sender, domain, st)
		}
		time.Sleep(50 * time.Millisecond) // polling the store, the condition itself
	}
}

// TestFamiliarSenderPassesThroughThePolicyService: issue 9, end to end over the policy
// protocol. fabrikam.co next to fabrikam.com (100,000 messages) is held for everyone,
// except for alice, who wrote to it five times on two days before: her sixth message
// passes, and counts in her own history only; bob's is still held.
func TestFamiliarSenderPassesThroughThePolicyService(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	// Alice's earlier mail to fabrikam.co, released as addressed from the quarantine.
	h, err := history.OpenSQLite(filepath.Join(data, "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now().Add(-10 * 24 * time.Hour)
	if err := h.Record(context.Background(), []history.Observation{
		{Domain: "fabrikam.co", Sender: "alice@contoso.com", SenderOnly: true, At: before, Count: 3},
		{Domain: "fabrikam.co", Sender: "alice@contoso.com", SenderOnly: true, At: before.Add(72 * time.Hour), Count: 2},
		// Not written to for longer than learning.sender_forget_after (365d): pruned at start.
		{Domain: "adatum.co", Sender: "alice@contoso.com", SenderOnly: true, At: time.Now().AddDate(0, 0, -400), Count: 9},
	}); err != nil {
		t.Fatal(err)
	}
	h.Close()
	if err := os.WriteFile(filepath.Join(dir, "known.txt"), []byte("fabrikam.com 100000\nadatum.com 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := "known_file: known.txt\ndata_dir: data\nlearning:\n  sender_min: 5\n" +
		"listen:\n  policy: 127.0.0.1:0\n  milter: off\n  http: off\n  web: off\n  intake: off\n"
	path := filepath.Join(dir, "rcptguard.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	logs := &testenv.SyncBuffer{}
	d := &Daemon{ConfigPath: path, Logger: slog.New(slog.NewTextHandler(logs, nil))}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Shutdown(context.Background()) })
	p := testenv.DialPolicy(t, d.Addr("policy"))

	if r, e := p.Message("bob@contoso.com", "carol@fabrikam.co"); r != "DUNNO" || !strings.Contains(e, "Did you mean fabrikam.com?") {
		t.Fatalf("bob, who never wrote to fabrikam.co: RCPT %q, END-OF-MESSAGE %q; want it held (refused at the end)", r, e)
	}
	if r, e := p.Message("alice@contoso.com", "carol@fabrikam.co"); r != "DUNNO" || e != "DUNNO" {
		t.Fatalf("alice's sixth message to fabrikam.co: RCPT %q, END-OF-MESSAGE %q; want it to pass", r, e)
	}
	if r, e := p.Message("<>", "carol@fabrikam.co"); e == "DUNNO" {
		t.Fatalf("the null sender: RCPT %q, END-OF-MESSAGE %q; want it held", r, e)
	}
	if l := logs.String(); !strings.Contains(l, `msg="a flagged recipient passes: the sender writes to it" sender=alice@contoso.com recipient=carol@fabrikam.co messages=5`) {
		t.Errorf("the pass is not logged:\n%s", l)
	}
	waitGone(t, d, "alice@contoso.com", "adatum.co")
	// The sixth counts for alice, never for the organisation.
	waitSender(t, d, "alice@contoso.com", "fabrikam.co", 6)
	if st, ok, err := d.history.Domain(context.Background(), "fabrikam.co"); ok || err != nil {
		t.Errorf("fabrikam.co was learned for the organisation: %+v, %v", st, err)
	}
	// A warned recipient went out: it counts for its sender only.
	if r, _ := p.Message("bob@contoso.com", "dan@adatun.com"); !strings.HasPrefix(r, "PREPEND") {
		t.Fatalf("adatun.com next to adatum.com (1 message): %q, want a warning", r)
	}
	waitSender(t, d, "bob@contoso.com", "adatun.com", 1)
	if _, ok, _ := d.history.Domain(context.Background(), "adatun.com"); ok {
		t.Error("a warned domain was learned for the organisation")
	}
	// bob is still flagged after all this.
	if _, e := p.Message("bob@contoso.com", "carol@fabrikam.co"); e == "DUNNO" {
		t.Error("bob's second message to fabrikam.co passed")
	}
	// A history that went away never lets mail pass: alice is asked again, and it is
	// logged.
	if err := d.history.Close(); err != nil {
		t.Fatal(err)
	}
	if r, e := p.Message("alice@contoso.com", "carol@fabrikam.co"); e == "DUNNO" {
		t.Errorf("with the history closed, alice's message passed: RCPT %q, END-OF-MESSAGE %q", r, e)
	}
	if l := logs.String(); !strings.Contains(l, "the sender's own history cannot be read") {
		t.Errorf("the history's error is not logged:\n%s", l)
	}
}
