package notice

import (
	"context"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/dnsq"
	"github.com/rcptguard/rcptguard/internal/smtpout"
	"github.com/rcptguard/rcptguard/internal/testenv"
	"github.com/rcptguard/rcptguard/internal/watch"
)

func watchChanges() []watch.Change {
	reg := func(mx ...string) watch.Summary {
		return watch.Summary{Status: dnsq.Registered, CanReceive: len(mx) > 0, MX: mx}
	}
	return []watch.Change{
		{Domain: "army.ml", Of: "army.mil", Watched: watch.Lookalike, Kind: watch.NowReceives,
			Before: reg(), After: reg("mx.farm.example")},
		{Domain: "bank-army.ml\r\nBcc: evil@attacker.example", Of: "army.mil", Watched: watch.Lookalike, Kind: watch.MXMoved,
			Before: reg("mx1.parking.example"), After: reg("mx.farm.example")},
		{Domain: "fabrikam.com", Watched: watch.Known, Kind: watch.MXMoved, Owner: true, FarmHosts: []string{"mx.farm.example"},
			Before: reg("mx.fabrikam.com"), After: reg("mx.farm.example")},
	}
}

// TestSendWatchReport: the change mail goes through a real SMTP server and arrives as a
// plain-text message with one line per change, before and after MX, the change of hands
// first, and no header added by a name from DNS.
func TestSendWatchReport(t *testing.T) {
	sink := testenv.StartSink(t)
	s := &Sender{Smarthost: smtpout.Destination{Address: sink.Addr(), Hostname: "rcptguard.army.mil"}, Timeout: 10 * time.Second}
	since := time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC)
	r := WatchReport{To: "postmaster@army.mil", From: "rcptguard@army.mil", Org: "Army", Since: since, Changes: watchChanges()}
	if err := s.SendWatch(context.Background(), r, now); err != nil {
		t.Fatal(err)
	}
	msgs := sink.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages arrived, want 1", len(msgs))
	}
	m := msgs[0]
	if m.From != "" || len(m.Rcpts) != 1 || m.Rcpts[0] != "postmaster@army.mil" {
		t.Errorf("envelope: from %q rcpts %q", m.From, m.Rcpts)
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(m.Data)))
	if err != nil {
		t.Fatal(err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	if subject != "Army: Watched lookalike domains: 3 changes, 1 known correspondent may have changed hands" {
		t.Errorf("subject %q", subject)
	}
	for k, want := range map[string]string{"From": "rcptguard@army.mil", "To": "postmaster@army.mil",
		"Auto-Submitted": "auto-generated", "Content-Type": "text/plain; charset=utf-8", "Bcc": ""} {
		if got := msg.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	text := string(body)
	lines := strings.Split(text, "\r\n")
	want := []string{
		"3 changes to watched domains since the run of Thursday 3 December 2026, 06:00 UTC:",
		"",
		"  fabrikam.com (known correspondent): MX moved from mx.fabrikam.com to mx.farm.example, which also serves lookalikes (mx.farm.example): it may have changed hands",
		"  army.ml (lookalike of army.mil): now accepts mail at mx.farm.example",
		"  bank-army.ml\uFFFD\uFFFDBcc: evil@attacker.example (lookalike of army.mil): MX moved from mx1.parking.example to mx.farm.example",
	}
	if len(lines) < len(want) || strings.Join(lines[:len(want)], "\n") != strings.Join(want, "\n") {
		t.Errorf("body:\n%s", text)
	}
	for _, l := range lines {
		if strings.HasPrefix(l, "Bcc:") {
			t.Errorf("a name from DNS started a line: %q", l)
		}
	}
	if strings.Contains(strings.ReplaceAll(text, "\r\n", ""), "\n") || strings.Contains(strings.ReplaceAll(text, "\r\n", ""), "\r") {
		t.Error("bare CR or LF in the body")
	}
}

func TestComposeWatchRefusesBadAddressesAndSaysNothingChanged(t *testing.T) {
	for _, r := range []WatchReport{
		{To: "postmaster@army.mil\r\nBcc: x@y.example", From: "rcptguard@army.mil"},
		{To: "postmaster@army.mil", From: ""},
		{To: "Postmaster <postmaster@army.mil>", From: "rcptguard@army.mil"},
	} {
		if _, err := ComposeWatch(r, now); err == nil {
			t.Errorf("ComposeWatch(%q, %q) succeeded", r.To, r.From)
		}
	}
	raw, err := ComposeWatch(WatchReport{To: "postmaster@army.mil", From: "rcptguard@army.mil"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "No watched domain changed since the last run.") ||
		!strings.Contains(string(raw), "Subject: Watched lookalike domains: 0 changes\r\n") {
		t.Errorf("no changes:\n%s", raw)
	}
}

// TestComposeWatchEarlier: changes whose mail failed follow this run's, with their runs'
// times, under a heading of their own, counted in the subject; past maxEarlier the rest
// are counted, not listed.
func TestComposeWatchEarlier(t *testing.T) {
	at := time.Date(2026, 12, 3, 6, 15, 0, 0, time.UTC)
	var earlier []watch.Change
	for range maxEarlier + 2 {
		c := watchChanges()[0]
		c.At = at
		earlier = append(earlier, c)
	}
	raw, err := ComposeWatch(WatchReport{To: "postmaster@army.mil", From: "rcptguard@army.mil", Changes: watchChanges()[:1], Earlier: earlier}, now)
	if err != nil {
		t.Fatal(err)
	}
	msg := strings.ReplaceAll(string(raw), "=\r\n", "")
	for _, want := range []string{
		fmt.Sprintf("Subject: Watched lookalike domains: %d changes\r\n", maxEarlier+3),
		"1 change to watched domains since the last run:",
		fmt.Sprintf("Not mailed before (the mail of the runs that found them failed), %d changes:", maxEarlier+2),
		"  3 Dec 06:15 UTC: army.ml (lookalike of army.mil): now accepts mail at mx.farm.example\r\n",
		"  ... and 2 more, in the reports of those runs.\r\n",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("no %q in\n%.2000s", want, msg)
		}
	}
	if n := strings.Count(msg, "3 Dec 06:15 UTC: "); n != maxEarlier {
		t.Errorf("%d earlier lines, want %d", n, maxEarlier)
	}
}
