package daemon

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/dnsq"
	"github.com/rcptguard/rcptguard/internal/testenv"
	"github.com/rcptguard/rcptguard/internal/watch"
)

func receives(hosts ...string) dnsq.Facts {
	f := dnsq.Facts{Status: dnsq.Registered}
	for _, h := range hosts {
		f.MX = append(f.MX, dnsq.MX{Host: h, Pref: 10})
	}
	return f
}

// TestSquatFindingsReachTheGuard: what squat --watch recorded before the start is in the
// guard's reasons at once, and a later run reaches the guard without a reload.
func TestSquatFindingsReachTheGuard(t *testing.T) {
	dsn := testenv.StartPostgres(t)
	ctx := context.Background()
	st, err := watch.OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	lookalikes := []watch.Entry{
		{Domain: "contoso.co", Of: "contoso.com", Technique: "suffix-typo", Kind: watch.Lookalike, Facts: receives("mx1.farm.example")},
		{Domain: "contosso.com", Of: "contoso.com", Technique: "repetition", Kind: watch.Lookalike, Facts: receives("mx1.farm.example")},
		{Domain: "c0ntoso.com", Of: "contoso.com", Technique: "homoglyph", Kind: watch.Lookalike, Facts: receives("mx1.farm.example")},
	}
	run := func(at time.Time, knownMX string) {
		t.Helper()
		es := append(append([]watch.Entry{}, lookalikes...), watch.Entry{Domain: "fabrikam.com", Kind: watch.Known, Facts: receives(knownMX)})
		if _, err := st.Record(ctx, at, es); err != nil {
			t.Fatal(err)
		}
	}
	run(time.Now().Add(-time.Hour), "mx.fabrikam.com")

	d, _ := startSquatDaemon(t, t.TempDir(), "own_domains: [contoso.com]\ndata_dir: data\nquarantine:\n  postgres: "+dsn+
		"\nlisten:\n  policy: off\n  milter: off\n  http: 127.0.0.1:0\n  web: off\n  intake: off\n")
	check := func(rcpt string) string { return apiCheck(t, d, rcpt) }
	if got := check("bob@contoso.co"); !strings.Contains(got, `"verdict":"hold"`) || !strings.Contains(got, "contoso.co is registered and accepts mail at mx1.farm.example") {
		t.Errorf("a registered lookalike squat found before the start: %s", got)
	}
	if got := check("x@fabrikam.com"); !strings.Contains(got, `"verdict":"allow"`) {
		t.Fatalf("fabrikam.com before its mail moved: %s", got)
	}
	// The next watch run: fabrikam.com's mail moved to the farm's host.
	run(time.Now(), "mx1.farm.example")
	testenv.WaitFor(t, "the guard to learn that fabrikam.com may have changed hands", func() bool {
		got := check("x@fabrikam.com")
		return strings.Contains(got, `"verdict":"warn"`) && strings.Contains(got, "may have changed hands")
	})
}

// TestSquatFindingsFromWatchDB: without PostgreSQL the findings are read from watch.db in
// the data folder, which squat made (closed before the daemon opens it); a data folder
// without one is no error.
func TestSquatFindingsFromWatchDB(t *testing.T) {
	dir := t.TempDir()
	data := watchDB(t, dir, []watch.Entry{
		{Domain: "contoso.co", Of: "contoso.com", Technique: "suffix-typo", Kind: watch.Lookalike, Facts: receives("mx.parked.example")}})
	cfg := "own_domains: [contoso.com]\ndata_dir: " + data + "\nlisten:\n  policy: off\n  milter: off\n  http: 127.0.0.1:0\n  web: off\n  intake: off\n"
	d, _ := startDaemon(t, cfg)
	if got := d.Guard.Load().Check("bob@contoso.co"); !strings.Contains(got.Reason, "contoso.co is registered and accepts mail at mx.parked.example") {
		t.Errorf("reason %q", got.Reason)
	}
	empty, _ := startDaemon(t, strings.Replace(cfg, data, filepath.Join(dir, "other"), 1))
	if got := empty.Guard.Load().Check("bob@contoso.co"); strings.Contains(got.Reason, "is registered") || empty.squat == nil || empty.squat.store != nil {
		t.Errorf("without watch.db: reason %q", got.Reason)
	}
	if _, err := os.Stat(filepath.Join(dir, "other", watch.FileName)); !os.IsNotExist(err) {
		t.Errorf("the daemon made watch.db: %v", err)
	}
}

// TestSquatFindingsSharedMailHosts: a shared mail host (Google Workspace here) receiving
// the mail of three lookalikes is no farm for the guard; a host the administrators add to
// dns.shared_mail_hosts stops being one after a reload, without a new squat run.
func TestSquatFindingsSharedMailHosts(t *testing.T) {
	var es []watch.Entry
	for i, d := range []string{"contoso.co", "contosso.com", "c0ntoso.com", "contoso.cm", "contso.com", "cnotoso.com"} {
		mx := "aspmx.l.google.com"
		if i >= 3 {
			mx = "mx.hoster.example"
		}
		es = append(es, watch.Entry{Domain: d, Of: "contoso.com", Technique: "typo", Kind: watch.Lookalike, Facts: receives(mx)})
	}
	dir := t.TempDir()
	data := watchDB(t, dir, es)
	cfg := "own_domains: [contoso.com]\ndata_dir: " + data + "\nlisten:\n  policy: off\n  milter: off\n  http: 127.0.0.1:0\n  web: off\n  intake: off\n"
	d, path := startSquatDaemon(t, dir, cfg)
	registered, farms, _ := d.Guard.Load().Evidence().Len()
	if registered != 6 || farms != 1 {
		t.Errorf("evidence: %d registered, %d farms; want 6 and 1 (mx.hoster.example, not Google's)", registered, farms)
	}
	if got := d.Guard.Load().Check("bob@contso.com"); !strings.Contains(got.Reason, "which serves 3 lookalike domains") {
		t.Errorf("a lookalike at the farm: reason %q", got.Reason)
	}
	if got := d.Guard.Load().Check("bob@contoso.co"); strings.Contains(got.Reason, "lookalike domains") ||
		!strings.Contains(got.Reason, "contoso.co is registered and accepts mail at aspmx.l.google.com") {
		t.Errorf("a lookalike at Google: reason %q", got.Reason)
	}
	if err := os.WriteFile(path, []byte(cfg+"dns:\n  shared_mail_hosts: [Hoster.Example]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := d.Reload(); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, "the farm to go once hoster.example is shared", func() bool {
		registered, farms, _ := d.Guard.Load().Evidence().Len()
		return registered == 6 && farms == 0
	})
}

// watchDB makes dir/data with a watch.db holding one run of es, as squat --watch leaves it
// (closed), and returns the data folder.
func watchDB(t *testing.T, dir string, es []watch.Entry) string {
	t.Helper()
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	st, err := watch.OpenSQLite(filepath.Join(data, watch.FileName))
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.Record(context.Background(), time.Now(), es)
	if cerr := st.Close(); err != nil || cerr != nil {
		t.Fatal(err, cerr)
	}
	return data
}

// startSquatDaemon starts a daemon with the configuration cfg, written to dir, that looks
// for new squat runs every 20 ms; it returns the daemon and the configuration's path.
func startSquatDaemon(t *testing.T, dir, cfg string) (*Daemon, string) {
	t.Helper()
	path := filepath.Join(dir, "rcptguard.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	d := &Daemon{ConfigPath: path, SquatCheckEvery: 20 * time.Millisecond}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Shutdown(context.Background()) })
	return d, path
}
