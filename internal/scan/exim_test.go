package scan

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// readSource runs one format's reader over a file of testdata (or over data).
func readSource(t testing.TB, f Format, name string, data []byte) ([]Record, []Problem, error) {
	t.Helper()
	if data == nil {
		var err error
		if data, err = os.ReadFile(filepath.Join("testdata", name)); err != nil {
			t.Fatal(err)
		}
	}
	var recs []Record
	var probs []Problem
	err := f.New().Read(bytes.NewReader(data), name, func(r Record) { recs = append(recs, r) }, func(p Problem) { probs = append(probs, p) })
	return recs, probs, err
}

// triples gives "sender>recipient=outcome" of every record, sorted, for comparison.
func triples(recs []Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, fmt.Sprintf("%s>%s=%s", r.Sender, r.Recipient, r.Outcome))
	}
	slices.Sort(out)
	return out
}

func wantTriples(t *testing.T, recs []Record, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := triples(recs); !slices.Equal(got, want) {
		t.Errorf("records:\n got  %q\n want %q", got, want)
	}
}

func findRecord(t *testing.T, recs []Record, rcpt string) Record {
	t.Helper()
	for _, r := range recs {
		if r.Recipient == rcpt {
			return r
		}
	}
	t.Fatalf("no record for %s", rcpt)
	return Record{}
}

func TestEximMainLog(t *testing.T) {
	recs, probs, err := readSource(t, EximFormat, "exim-mainlog.log", nil)
	if err != nil || len(probs) != 0 {
		t.Fatalf("err %v, problems %v", err, probs)
	}
	wantTriples(t, recs,
		"alice@contoso.com>bob@army.ml=sent",
		"alice@contoso.com>carol@army.ml=sent",
		"alice@contoso.com>dave@x.example=bounced",
		"alice@contoso.com>frank@contoso.com=sent",
		"erin@contoso.com>gina@slow.example=sent",
		"hank@contoso.com>ivy@down.example=deferred",
		"judy@contoso.com>kate@gmai.com=sent",
		"liam@contoso.com>mia@gone.example=expired",
	)
	bob := findRecord(t, recs, "bob@army.ml")
	if bob.Relay != "mx.army.ml [1.2.3.4]" || bob.Reply != "250 2.0.0 OK 1733306401" || bob.Message != "1vRkAb-000123-AB" || bob.Line != 2 || bob.Source != "exim-mainlog.log" {
		t.Errorf("bob: %+v", bob)
	}
	if want := time.Date(2026, 12, 4, 10, 0, 1, 0, time.Local); !bob.Time.Equal(want) {
		t.Errorf("bob's time %v, want %v", bob.Time, want)
	}
	dave := findRecord(t, recs, "dave@x.example")
	if !strings.HasPrefix(dave.Reply, "550 5.1.1 ") {
		t.Errorf("dave's reply %q", dave.Reply)
	}
	kate := findRecord(t, recs, "kate@gmai.com")
	if want := time.Date(2026, 12, 4, 9, 4, 1, 456e6, time.UTC); !kate.Time.Equal(want) || kate.Message != "1vRkEf-00000000500-IJKL" {
		t.Errorf("kate: time %v (want %v), message %q", kate.Time, want, kate.Message)
	}
	if ivy := findRecord(t, recs, "ivy@down.example"); ivy.Reply != "Connection refused" {
		t.Errorf("ivy's reply %q", ivy.Reply)
	}
}

func TestEximDetect(t *testing.T) {
	for name, want := range map[string]bool{
		"exim-mainlog.log": true, "sendmail-maillog.log": false, "m365-messagetrace.csv": false,
		"exchange-tracking.log": false, "workspace-els.csv": false,
	} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if got := EximFormat.Detect(data); got != want {
			t.Errorf("Detect(%s) = %v, want %v", name, got, want)
		}
	}
}

// TestEximOpenMessagesBounded: messages never completed are evicted past the bound, each
// a Problem, and their deferred recipients are still reported.
func TestEximOpenMessagesBounded(t *testing.T) {
	var b strings.Builder
	for i := range 10 {
		fmt.Fprintf(&b, "2026-12-04 10:00:00 1vRk%02d-000123-AB <= s%d@contoso.com S=1\n", i, i)
		fmt.Fprintf(&b, "2026-12-04 10:00:01 1vRk%02d-000123-AB == r%d@slow.example R=dnslookup T=remote_smtp defer (111): Connection refused\n", i, i)
	}
	var recs []Record
	var probs []Problem
	r := &eximReader{max: 3}
	if err := r.Read(strings.NewReader(b.String()), "x", func(r Record) { recs = append(recs, r) }, func(p Problem) { probs = append(probs, p) }); err != nil {
		t.Fatal(err)
	}
	if len(probs) != 7 {
		t.Errorf("%d problems, want 7 evictions: %v", len(probs), probs)
	}
	if len(recs) != 10 {
		t.Fatalf("%d records, want 10", len(recs))
	}
	for i, rec := range recs {
		if rec.Outcome != Deferred || rec.Sender != fmt.Sprintf("s%d@contoso.com", i) {
			t.Errorf("record %d: %+v", i, rec)
		}
	}
}

// TestLogReadersBadInput: an overlong line, binary garbage and invalid UTF-8 in an
// address are Problems with their line; the lines after them are still read.
func TestLogReadersBadInput(t *testing.T) {
	cases := []struct {
		f           Format
		good, good2 string
	}{
		{EximFormat,
			"2026-12-04 10:00:01 1vRkAb-000123-AB => bob@army.ml R=dnslookup T=remote_smtp H=mx.army.ml [1.2.3.4] C=\"250 OK\"",
			"2026-12-04 10:00:01 1vRkAb-000123-AB => carol@army.ml R=dnslookup T=remote_smtp H=mx.army.ml [1.2.3.4] C=\"250 OK\""},
		{SendmailFormat,
			"Dec  4 10:00:01 mail sendmail[1]: 4B4A0x1Q012345: to=<bob@army.ml>, mailer=esmtp, relay=mx.army.ml. [1.2.3.4], dsn=2.0.0, stat=Sent (ok)",
			"Dec  4 10:00:01 mail sendmail[1]: 4B4A0x1Q012345: to=<carol@army.ml>, mailer=esmtp, relay=mx.army.ml. [1.2.3.4], dsn=2.0.0, stat=Sent (ok)"},
	}
	for _, c := range cases {
		t.Run(c.f.Name, func(t *testing.T) {
			badUTF8 := strings.Replace(c.good, "bob@", "b\xffb@", 1)
			data := c.good + "\n" + strings.Repeat("x", 2<<20) + "\n" + "\x00\x01\x02garbage\x00\n" + badUTF8 + "\n" + c.good2 + "\n"
			recs, probs, err := readSource(t, c.f, "bad", []byte(data))
			if err != nil {
				t.Fatal(err)
			}
			wantTriples(t, recs, ">bob@army.ml=sent", ">carol@army.ml=sent")
			var lines []int64
			for _, p := range probs {
				lines = append(lines, p.Line)
				if p.Source != "bad" || p.Text == "" {
					t.Errorf("problem %+v", p)
				}
			}
			if !slices.Equal(lines, []int64{2, 3, 4}) {
				t.Errorf("problems on lines %v, want 2, 3, 4: %v", lines, probs)
			}
			if r := findRecord(t, recs, "carol@army.ml"); r.Line != 5 {
				t.Errorf("carol read on line %d, want 5", r.Line)
			}
		})
	}
}
