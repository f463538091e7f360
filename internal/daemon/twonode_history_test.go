package daemon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// sharedNodes is two running daemons, each with its own configuration file, data folder and
// listeners, sharing one real PostgreSQL database (quarantine.postgres) and one link key,
// as docs/quarantine.md says to run several nodes; the relay's upstream and the
// re-injection go to one SMTP sink.
type sharedNodes struct {
	a, b *Daemon
	sink *testenv.Sink
	dsn  string
}

// startSharedNodes starts them; extra goes into the relay section (indented) or after
// it (a top-level key), and each node checks the history's generation every 25 ms.
func startSharedNodes(t *testing.T, extra string) *sharedNodes {
	t.Helper()
	dsn := testenv.StartPostgres(t)
	sink := testenv.StartSink(t)
	hash, err := bcrypt.GenerateFromPassword([]byte("admin password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(t.TempDir(), "token.key")
	cfg := "protect: [army.mil, .mil]\nown_domains: [contoso.com]\ndata_dir: data\n" +
		"listen:\n  policy: off\n  milter: off\n  http: 127.0.0.1:0\n  web: 127.0.0.1:0\n  intake: off\n  relay: 127.0.0.1:0\n" +
		"relay:\n  upstream: " + sink.Addr() + "\n" + extra +
		"notice:\n  from: rcptguard@contoso.com\n  key_file: " + key + "\n" +
		"admin:\n  users:\n    root: \"" + string(hash) + "\"\n" +
		"quarantine:\n  postgres: \"" + dsn + "\"\n"
	start := func() *Daemon {
		path := filepath.Join(t.TempDir(), "rcptguard.yaml") // its own folder: its own data_dir
		if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		d := &Daemon{ConfigPath: path, HistoryCheckEvery: 25 * time.Millisecond}
		if err := d.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Shutdown(context.Background()) })
		return d
	}
	n := &sharedNodes{a: start(), b: start(), sink: sink, dsn: dsn}
	if n.a.Addr("web") == n.b.Addr("web") {
		t.Fatal("the nodes share a listener")
	}
	return n
}

// verdictOn is the verdict of node d's guard for name, for waitUntil.
func verdictOn(d *Daemon, name string) func() (bool, string) {
	return func() (bool, string) {
		v := d.Guard.Load().Check(name).Verdict
		return v != guard.Allow, "verdict " + v.String()
	}
}

// TestTwoNodesShareWhatTheyLearn: mail that goes out through node A teaches the shared
// history; node B rebuilds its guard when the history's generation moves, and holds a
// lookalike of the domain that only node A's mail made a known correspondent.
func TestTwoNodesShareWhatTheyLearn(t *testing.T) {
	n := startSharedNodes(t, "policy:\n  known: hold\n")
	if v := n.b.Guard.Load().Check("fabrikarn.com").Verdict; v != guard.Allow {
		t.Fatalf("node B: fabrikarn.com is %s before anything was learned", v)
	}
	msg := []byte("From: a@contoso.com\r\nSubject: x\r\n\r\nhi\r\n")
	// Mail to 50 people at fabrikam.com (the count from which an ordinary correspondent is
	// prominent enough for a visual slip of its name to be held, not only warned about).
	var rcpts []string
	for i := range 50 {
		rcpts = append(rcpts, fmt.Sprintf("b%d@fabrikam.com", i))
	}
	res, err := testenv.SMTPSend(n.a.Addr("relay"), "a@contoso.com", rcpts, msg)
	if err != nil || !res.Delivered() {
		t.Fatalf("through node A: %+v %v", res, err)
	}
	waitUntil(t, 20*time.Second, "node B's guard holds fabrikarn.com after node A's mail", func() (bool, string) {
		v := n.b.Guard.Load().Check("fabrikarn.com").Verdict
		return v == guard.Hold, "verdict " + v.String()
	})
	dec := n.b.Guard.Load().Check("fabrikarn.com")
	if len(dec.Findings) == 0 || dec.Verdict != guard.Hold || dec.Findings[0].Intended != "fabrikam.com" || !strings.Contains(dec.Reason, "50 messages went to fabrikam.com") {
		t.Fatalf("node B: %s %s %+v", dec.Verdict, dec.Reason, dec.Findings)
	}
	// Through node B's relay, the lookalike is held (answered 250 and kept), not sent.
	before := len(n.sink.Messages())
	res, err = testenv.SMTPSend(n.b.Addr("relay"), "a@contoso.com", []string{"b@fabrikarn.com"}, msg)
	if err != nil || !res.Delivered() {
		t.Fatalf("through node B: %+v %v", res, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	held, err := n.b.quarantine.List(ctx, quarantine.Filter{State: quarantine.Held})
	if err != nil || len(held) != 1 || len(held[0].Recipients) != 1 || held[0].Recipients[0].Address != "b@fabrikarn.com" {
		t.Fatalf("held on node B: %+v, %v", held, err)
	}
	got, err := n.sink.WaitFor(ctx, before+1) // the notice, nothing else
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range got[before:] {
		if strings.Contains(strings.Join(m.Rcpts, ","), "fabrikarn.com") {
			t.Fatalf("the lookalike went out: %v", m.Rcpts)
		}
	}
	// Node A's engine was rebuilt the same way (its own learning moved the generation).
	waitUntil(t, 20*time.Second, "node A's guard knows fabrikam.com", verdictOn(n.a, "fabrikarn.com"))
}
