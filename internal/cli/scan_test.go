package cli

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/scan"
)

// clilog is a test-only format, so that these tests depend on no real reader:
// "#clilog" then "TIME|SENDER|RECIPIENT|OUTCOME|MESSAGE" lines.
func init() {
	scan.Register(scan.Format{
		Name:   "clilog",
		Detect: func(head []byte) bool { return bytes.HasPrefix(head, []byte("#clilog\n")) },
		New:    func() scan.Reader { return clilogReader{} },
	})
}

type clilogReader struct{}

func (clilogReader) Read(r io.Reader, name string, emit func(scan.Record), skip func(scan.Problem)) error {
	sc := bufio.NewScanner(r)
	var n int64
	for sc.Scan() {
		n++
		if n == 1 {
			continue
		}
		f := strings.Split(sc.Text(), "|")
		if len(f) != 5 {
			skip(scan.Problem{Source: name, Line: n, Text: "not a clilog line"})
			continue
		}
		tm, err := time.Parse(time.RFC3339, f[0])
		if err != nil {
			skip(scan.Problem{Source: name, Line: n, Text: "bad time"})
			continue
		}
		rec := scan.Record{Time: tm, Sender: f[1], Recipient: f[2], Message: f[4], Source: name, Line: n}
		for o := scan.Unknown; o <= scan.Expired; o++ {
			if o.String() == f[3] {
				rec.Outcome = o
			}
		}
		emit(rec)
	}
	return sc.Err()
}

func clilog(t *testing.T, lines ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "mail.log")
	if err := os.WriteFile(p, []byte("#clilog\n"+strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

var scanLines = []string{
	"2026-01-05T09:00:00Z|alice.private@corp.example|bob@gmai.com|sent|Q1",
	"2026-01-05T09:00:00Z|alice.private@corp.example|x@example.org|sent|Q1",
	"2026-01-20T09:00:00Z|carol.private@corp.example|bob@outlok.com|bounced|Q2",
	"2026-02-03T09:00:00Z|dan@corp.example|x@example.org|sent|Q3",
	"broken",
}

func TestScanExitStatusAndText(t *testing.T) {
	log := clilog(t, scanLines...)
	r := run(t, nil, "scan", "--progress", "never", log)
	if r.code != ExitFlagged || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	for _, want := range []string{"3 messages (4 recipients) read from 1 source, 2026-01-05 to 2026-02-03 (30 days)",
		"2 messages (2 recipients) went to 2 lookalike domains", "gmai.com", "outlok.com", "alice.private@corp.example",
		log + ":6: not a clilog line"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("no %q in\n%s", want, r.stdout)
		}
	}
	clean := clilog(t, scanLines[1], scanLines[3])
	if r := run(t, nil, "scan", clean); r.code != ExitOK || !strings.Contains(r.stdout, "Nothing went to a lookalike domain") {
		t.Fatalf("clean log: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestScanConfigAllows(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "rcptguard.yaml")
	if err := os.WriteFile(cfg, []byte("allow: [gmai.com, outlok.com]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := run(t, nil, "scan", "--config", cfg, clilog(t, scanLines...))
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestScanJSONPeriodAndOutputFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "report.json")
	r := run(t, nil, "scan", "--format", "json", "-o", out, "--since", "2026-01-10", "--until", "2026-01-31", clilog(t, scanLines...))
	if r.code != ExitFlagged || r.stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep scan.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Schema != scan.Schema || rep.Totals.Records != 1 || rep.Totals.OutsidePeriod != 3 || len(rep.Domains) != 1 ||
		rep.Domains[0].Domain != "outlok.com" || rep.Domains[0].Outcomes.Bounced != 1 || rep.Problems.Total != 1 {
		t.Fatalf("report %s", data)
	}
}

func TestScanCSVFromCompressedStdin(t *testing.T) {
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	w.Write([]byte("#clilog\n" + strings.Join(scanLines, "\n") + "\n"))
	w.Close()
	r := run(t, &z, "scan", "--format", "csv", "-")
	if r.code != ExitFlagged {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	rows := lines(r.stdout)
	if len(rows) != 3 || !strings.HasPrefix(rows[0], "domain,verdict,") || !strings.HasPrefix(rows[1], "gmai.com,hold,") {
		t.Fatalf("CSV:\n%s", r.stdout)
	}
}

func TestScanRedactsSenders(t *testing.T) {
	log := clilog(t, scanLines...)
	key := filepath.Join(t.TempDir(), "key")
	os.WriteFile(key, []byte("a key of at least sixteen bytes"), 0o600)
	var outs []string
	for _, f := range []string{"text", "json", "csv", "json"} {
		r := run(t, nil, "scan", "--format", f, "--redact-senders", "--redact-key", key, log)
		if r.code != ExitFlagged || strings.Contains(r.stdout, "private") || !strings.Contains(r.stdout, "@corp.example") {
			t.Fatalf("%s: exit %d\n%s%s", f, r.code, r.stdout, r.stderr)
		}
		outs = append(outs, r.stdout)
	}
	if outs[1] != outs[3] {
		t.Error("the same key gave different names")
	}
	r := run(t, nil, "scan", "--format", "json", "--redact-senders", log)
	if r.code != ExitFlagged || strings.Contains(r.stdout, "private") || r.stdout == outs[1] {
		t.Fatalf("random key: exit %d\n%s", r.code, r.stdout)
	}
}

func TestScanErrors(t *testing.T) {
	log := clilog(t, scanLines...)
	unknown := filepath.Join(t.TempDir(), "what.txt")
	os.WriteFile(unknown, []byte("hello\n"), 0o600)
	r := run(t, nil, "scan", log, unknown)
	if r.code != ExitUsage || !strings.Contains(r.stderr, unknown+": no format recognised (expected one of: ") ||
		!strings.Contains(r.stderr, "clilog") || !strings.Contains(r.stdout, "gmai.com") {
		t.Fatalf("unknown source: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	for _, args := range [][]string{
		{"scan"},
		{"scan", "--format", "pdf", log},
		{"scan", "--since", "yesterday", log},
		{"scan", "--until", "2026-13-01", log},
		{"scan", "--since", "2026-02-01", "--until", "2026-01-01", log},
		{"scan", "--progress", "sometimes", log},
		{"scan", "--redact-key", log, log},
		{"scan", "--config", "/nonexistent.yaml", log},
		{"scan", "-", "-"},
		{"scan", "-o", "/nonexistent/dir/report", log},
	} {
		if r := run(t, nil, args...); r.code != ExitUsage || r.stderr == "" {
			t.Errorf("%q: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
}

func TestScanProgressAlways(t *testing.T) {
	r := run(t, nil, "scan", "--progress", "always", clilog(t, scanLines...))
	if r.code != ExitFlagged || !strings.Contains(r.stderr, "mail.log: ") || !strings.Contains(r.stderr, "lines") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if r := run(t, nil, "scan", clilog(t, scanLines...)); r.stderr != "" {
		t.Fatalf("progress on a non-terminal by default: %q", r.stderr)
	}
}

// TestScanReadsEveryFormat: every kind of source the readers know is told by its content
// and read, each by its own reader (the readers' own tests check every record);
// --aliases reads forwards; --format html writes the page.
func TestScanReadsEveryFormat(t *testing.T) {
	td := filepath.Join("..", "scan", "testdata")
	want := map[string]string{
		"postfix-syslog.log": "postfix", "postfix-rfc3339.log": "postfix", "exim-mainlog.log": "exim",
		"sendmail-maillog.log": "sendmail", "m365-messagetrace.csv": "m365", "exchange-tracking.log": "exchange",
		"exchange-export.csv": "exchange", "workspace-els.csv": "workspace", "mbox-broken.mbox": "mbox",
		"maildir": "maildir", "eml-folder": "eml",
	}
	var args []string
	for f := range want {
		args = append(args, filepath.Join(td, f))
	}
	r := run(t, nil, append([]string{"scan", "--format", "json"}, args...)...)
	if r.code == ExitUsage {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	var rep scan.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	for _, s := range rep.Sources {
		if f := want[filepath.Base(s.Name)]; s.Format != f || s.Error != "" || s.Records == 0 {
			t.Errorf("%s: format %q, %d records, error %q; want format %q with records", s.Name, s.Format, s.Records, s.Error, f)
		}
	}
	if len(rep.Sources) != len(want) {
		t.Errorf("%d sources in the report, want %d", len(rep.Sources), len(want))
	}

	al := run(t, nil, "scan", "--aliases", filepath.Join(td, "aliases-postfix.txt"))
	if al.code != ExitFlagged || !strings.Contains(al.stdout, "gmai.com") {
		t.Errorf("--aliases: exit %d, want 1 with gmai.com\n%s\n%s", al.code, al.stdout, al.stderr)
	}
	if plain := run(t, nil, "scan", filepath.Join(td, "aliases-postfix.txt")); plain.code != ExitUsage {
		t.Errorf("an alias map without --aliases: exit %d, want 2 (no format recognised)", plain.code)
	}
	page := run(t, nil, "scan", "--format", "html", filepath.Join(td, "postfix-syslog.log"))
	if page.code == ExitUsage || !strings.HasPrefix(page.stdout, "<!DOCTYPE html>") {
		t.Errorf("--format html: exit %d\n%.300s", page.code, page.stdout)
	}
}
