package scan

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func sampleReport(t *testing.T, o Options) Report {
	ta := NewTally(testGuard(t), time.Time{}, time.Time{})
	ta.Add(
		Record{Time: at(0, 0), Sender: "alice.secret@corp.example", Recipient: "bob@gmai.com", Outcome: Sent, Message: "Q1", Source: "a"},
		Record{Time: at(2, 0), Sender: "carol.secret@corp.example", Recipient: "=cmd@gmial.com", Outcome: Bounced, Message: "Q2", Source: "a"},
		Record{Time: at(2, 0), Sender: "dan@corp.example", Recipient: "x@example.org", Outcome: Sent, Message: "Q3", Source: "a"},
	)
	ta.Skip(Problem{Source: "a", Line: 4, Text: "not a log line\x1b[2J"})
	return Build(ta, []SourceResult{{Name: "a", Format: "testlog", Records: 3, Problems: 1}}, o)
}

func TestWriteJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, sampleReport(t, Options{})); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"schema", "period", "totals", "sources", "domains", "senders", "per_day", "per_week", "prediction", "problems", "senders_redacted"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("no %q in the JSON report", k)
		}
	}
	if doc["schema"] != Schema || len(doc["domains"].([]any)) != 2 {
		t.Fatalf("JSON report %s", buf.String())
	}
	if p := doc["problems"].(map[string]any)["first"].([]any)[0].(map[string]any); p["source"] != "a" || p["line"] != 4.0 {
		t.Fatalf("problems %v", doc["problems"])
	}
	d := doc["domains"].([]any)[0].(map[string]any)
	if d["domain"] != "gmai.com" || d["outcomes"].(map[string]any)["sent"] != 1.0 || d["verdict"] != "hold" {
		t.Fatalf("first domain %v", d)
	}
}

func TestWriteCSV(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteCSV(&buf, sampleReport(t, Options{})); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || strings.Join(rows[0], ",") != strings.Join(CSVHeader, ",") || rows[1][0] != "gmai.com" || rows[1][1] != "hold" || rows[1][11] != "1" {
		t.Fatalf("CSV %q", rows)
	}
	for _, r := range rows {
		for _, c := range r {
			if c != "" && strings.ContainsRune("=+-@", rune(c[0])) {
				t.Errorf("cell %q would be a formula", c)
			}
		}
	}
}

func TestWriteText(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteText(&buf, sampleReport(t, Options{})); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"2 messages (2 recipients) went to 2 lookalike domains, from 2 senders; 1 recipients were accepted",
		"Lookalike domains", "gmai.com", "gmail.com", "Senders", "alice.secret@corp.example",
		"Flagged messages per week", "2026-W02", "Prediction for enforcement", "Domains driving it",
		"a:4: not a log line\\x1b[2J",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if strings.ContainsRune(out, 0x1b) {
		t.Error("an escape character reached the terminal")
	}
}

func TestRedactedReportHasNoLocalPart(t *testing.T) {
	r := sampleReport(t, Options{Redact: NewRedactor(nil)})
	for _, w := range []func(*bytes.Buffer, Report) error{
		func(b *bytes.Buffer, r Report) error { return WriteText(b, r) },
		func(b *bytes.Buffer, r Report) error { return WriteJSON(b, r) },
		func(b *bytes.Buffer, r Report) error { return WriteCSV(b, r) },
	} {
		var buf bytes.Buffer
		if err := w(&buf, r); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(buf.String(), "secret") || !strings.Contains(buf.String(), "@corp.example") {
			t.Fatalf("redacted report:\n%s", buf.String())
		}
	}
}
