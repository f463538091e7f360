package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/dnsq"
	"github.com/rcptguard/rcptguard/internal/testenv"
	"github.com/rcptguard/rcptguard/internal/watch"
)

// watchZone1 and watchZone2 are DNS before and after: cntoso.com gets registered at the
// farm, and the known correspondent fabrikam.com's mail moves to the farm's host.
const watchZone1 = `com. 300 IN SOA ns.com. hostmaster.com. 1 3600 600 86400 300
contosso.com. 300 IN MX 10 mx1.farm.example.
c0ntoso.com. 300 IN MX 10 mx1.farm.example.
fabrikam.com. 300 IN MX 10 mx.fabrikam.com.
fabrikam.com. 300 IN NS ns1.fabrikam.com.
`

const watchZone2 = watchZone1 + `cntoso.com. 300 IN MX 10 mx1.farm.example.
`

// TestSquatWatchReportsChangesAndNotifies runs `squat --watch --notify` twice against a
// real DNS server whose zone changes in between: the first run is the baseline and mails
// nothing; the second reports the lookalike newly registered and receiving mail and the known correspondent
// whose mail moved to the farm, in the report and in a mail through the smarthost.
func TestSquatWatchReportsChangesAndNotifies(t *testing.T) {
	srv := testenv.StartDNS(t, testenv.DNSOptions{Zone: watchZone1})
	sink := testenv.StartSink(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "known.txt"), []byte("fabrikam.com 80\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "rcptguard.yaml")
	conf := fmt.Sprintf("own_domains: [contoso.com]\nknown_file: known.txt\ndata_dir: %s\nnotice:\n  smarthost: %s\n  from: rcptguard@contoso.com\n  org: Contoso\n", dir, sink.Addr())
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	squatWatch := func() (changes []map[string]any) {
		t.Helper()
		r := run(t, nil, "squat", "--config", cfg, "--resolver", srv.Addr(), "--known-top", "1", "--farm-min", "2",
			"--watch", "--notify", "mail-team@contoso.com", "--format", "json", "--progress", "never")
		if r.code == ExitUsage || r.stderr != "" {
			t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
		}
		var doc struct {
			Changes *struct {
				Since *string          `json:"since"`
				Items []map[string]any `json:"items"`
			} `json:"changes"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || doc.Changes == nil {
			t.Fatalf("%v: %s", err, r.stdout)
		}
		return doc.Changes.Items
	}
	if got := squatWatch(); len(got) != 0 {
		t.Errorf("the first run is the baseline, yet it reports %v", got)
	}
	if n := len(sink.Messages()); n != 0 {
		t.Errorf("%d mails after the first run, want none", n)
	}

	if err := srv.SetZone(strings.Replace(watchZone2, "mx.fabrikam.com.", "mx1.farm.example.", 1)); err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]any{}
	for _, c := range squatWatch() {
		got[c["domain"].(string)] = c
	}
	if c := got["cntoso.com"]; c == nil || c["kind"] != "now-receives" || c["watched"] != "lookalike" || c["of"] != "contoso.com" {
		t.Errorf("cntoso.com: %v (all: %v)", c, got)
	}
	if c := got["fabrikam.com"]; c == nil || c["kind"] != "mx-moved" || c["watched"] != "known" || c["may_have_changed_hands"] != true ||
		!strings.Contains(c["text"].(string), "mx1.farm.example") {
		t.Errorf("fabrikam.com: %v (all: %v)", c, got)
	}
	msgs := sink.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d mails after the second run, want 1", len(msgs))
	}
	m := msgs[0]
	body := string(m.Data)
	if len(m.Rcpts) != 1 || m.Rcpts[0] != "mail-team@contoso.com" || !strings.Contains(body, "cntoso.com") || !strings.Contains(body, "fabrikam.com") {
		t.Errorf("the mail: rcpts %v\n%s", m.Rcpts, body)
	}

	// A smarthost that refuses the mail: exit 2 with the reason, the changes still in the
	// report, and recorded: the next run does not report them again, but mails them, under
	// a heading of their own; the run after that mails nothing.
	if err := srv.SetZone(strings.Replace(watchZone2, "mx.fabrikam.com.", "mx1.farm.example.", 1) + "contoos.com. 300 IN MX 10 mx1.farm.example.\n"); err != nil {
		t.Fatal(err)
	}
	sink.SetFail(451, "4.3.0 try later")
	r := run(t, nil, "squat", "--config", cfg, "--resolver", srv.Addr(), "--known-top", "1", "--farm-min", "2",
		"--watch", "--notify", "mail-team@contoso.com", "--format", "json", "--progress", "never")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "--notify: mailing the changes to mail-team@contoso.com") ||
		!strings.Contains(r.stderr, "the report has the changes") || !strings.Contains(r.stdout, `"contoos.com"`) {
		t.Errorf("a refused notice: exit %d, stderr %q, stdout has contoos.com: %v", r.code, r.stderr, strings.Contains(r.stdout, `"contoos.com"`))
	}
	if n := len(sink.Messages()); n != 1 {
		t.Errorf("%d mails after the refused one, want still 1", n)
	}
	sink.SetFail(0, "")
	if got := squatWatch(); len(got) != 0 {
		t.Errorf("the run after a refused notice reports again: %v", got)
	}
	msgs = sink.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d mails after the run that followed the refused one, want 2", len(msgs))
	}
	body = strings.ReplaceAll(string(msgs[1].Data), "=\r\n", "")
	if !strings.Contains(body, "Not mailed before") || !strings.Contains(body, "contoos.com (lookalike of contoso.com)") ||
		!strings.Contains(body, "No watched domain changed since") || !strings.Contains(body, "2 changes") {
		t.Errorf("the mail of what was not mailed:\n%s", body)
	}
	if got := squatWatch(); len(got) != 0 {
		t.Errorf("a third run reports %v", got)
	}
	if n := len(sink.Messages()); n != 2 {
		t.Errorf("%d mails after a run with nothing new and nothing owed, want still 2", n)
	}

	// --notify without --watch, and --watch with a data folder that cannot be made.
	if r := run(t, nil, "squat", "--config", cfg, "--resolver", srv.Addr(), "--notify", "x@contoso.com"); r.code != ExitUsage || !strings.Contains(r.stderr, "--notify needs --watch") {
		t.Errorf("--notify alone: exit %d, stderr %q", r.code, r.stderr)
	}
	blocked := filepath.Join(dir, "file")
	os.WriteFile(blocked, nil, 0o600)
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("own_domains: [contoso.com]\ndata_dir: "+filepath.Join(blocked, "sub")+"\n"), 0o644)
	if r := run(t, nil, "squat", "--config", bad, "--resolver", srv.Addr(), "--watch"); r.code != ExitUsage || !strings.Contains(r.stderr, "--watch") || r.stdout != "" {
		t.Errorf("unusable data folder: exit %d, stderr %q, stdout %q", r.code, r.stderr, r.stdout)
	}
}

// TestSquatWatchKeepDays: a --watch run deletes the runs and domains older than
// --keep-days (400 by default); --keep-days 0 keeps them.
func TestSquatWatchKeepDays(t *testing.T) {
	srv := testenv.StartDNS(t, testenv.DNSOptions{Zone: watchZone1})
	for _, c := range []struct {
		args []string
		kept bool
	}{{nil, false}, {[]string{"--keep-days", "600"}, true}, {[]string{"--keep-days", "0"}, true}} {
		dir := t.TempDir()
		cfg := filepath.Join(dir, "rcptguard.yaml")
		if err := os.WriteFile(cfg, []byte("own_domains: [contoso.com]\ndata_dir: "+dir+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		st, err := watch.OpenSQLite(filepath.Join(dir, watch.FileName))
		if err != nil {
			t.Fatal(err)
		}
		old := watch.Entry{Domain: "c0nt0so.com", Of: "contoso.com", Technique: "homoglyph", Kind: watch.Lookalike,
			Facts: dnsq.Facts{Status: dnsq.NotRegistered}}
		if _, err := st.Record(context.Background(), time.Now().AddDate(0, 0, -500), []watch.Entry{old}); err != nil {
			t.Fatal(err)
		}
		st.Close()
		r := run(t, nil, append([]string{"squat", "--config", cfg, "--resolver", srv.Addr(), "--watch", "--progress", "never"}, c.args...)...)
		if r.code == ExitUsage || r.stderr != "" {
			t.Fatalf("%v: exit %d, stderr %q", c.args, r.code, r.stderr)
		}
		st, err = watch.OpenSQLite(filepath.Join(dir, watch.FileName))
		if err != nil {
			t.Fatal(err)
		}
		_, kept, err := st.Seen(context.Background(), old.Domain)
		st.Close()
		if err != nil || kept != c.kept {
			t.Errorf("%v: a domain last answered 500 days ago kept: %v (%v), want %v", c.args, kept, err, c.kept)
		}
	}
	if r := run(t, nil, "squat", "--watch", "--keep-days", "-1", "contoso.com"); r.code != ExitUsage || !strings.Contains(r.stderr, "--keep-days: -1 is not between 0 and 36500") {
		t.Errorf("--keep-days -1: exit %d, stderr %q", r.code, r.stderr)
	}
}
