package guard

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/engine"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// fakeHistory is a SenderHistory in memory that counts the questions and can fail.
type fakeHistory struct {
	rows  map[string]fakeRow // "sender domain"
	err   error
	block bool // wait for the context to end, then answer its error
	asked atomic.Int64
}

type fakeRow struct {
	n           int64
	first, last time.Time
}

func (h *fakeHistory) Familiar(ctx context.Context, sender, domain string) (int64, time.Time, time.Time, error) {
	h.asked.Add(1)
	if h.block {
		<-ctx.Done()
		return 0, time.Time{}, time.Time{}, ctx.Err()
	}
	if h.err != nil {
		return 0, time.Time{}, time.Time{}, h.err
	}
	r := h.rows[sender+" "+domain]
	return r.n, r.first, r.last, nil
}

var march3 = time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)

func senderGuard(t *testing.T, h *fakeHistory, onErr func(string, string, error)) *Guard {
	t.Helper()
	in := engine.Inputs{
		Protected:           testenv.Domains(t, "army.mil"),
		ProtectedNamespaces: []string{"mil"},
		Own:                 testenv.Domains(t, "contoso.com"),
		Known:               []engine.KnownDomain{{Domain: testenv.Domains(t, "fabrikam.com")[0], Count: 100_000}},
		Providers:           testenv.Domains(t, "gmail.com"),
		BlockNamespaces:     []string{"ml"},
	}
	eng, err := engine.New(in)
	if err != nil {
		t.Fatal(err)
	}
	return New(eng, DefaultPolicy()).WithSenders(SenderRule{History: h, Min: 5, OnError: onErr})
}

func familiar(n int64, days int) fakeRow {
	return fakeRow{n: n, first: march3, last: march3.Add(time.Duration(days) * 24 * time.Hour)}
}

func TestFamiliarSenderIsAllowed(t *testing.T) {
	h := &fakeHistory{rows: map[string]fakeRow{
		"alice@contoso.com fabrikam.co": familiar(40, 30),
		"alice@contoso.com gmial.com":   familiar(5, 1),
	}}
	g := senderGuard(t, h, nil)
	var passed []string
	g.senders.OnPass = func(d Decision) { passed = append(passed, d.Familiar.Sender+" "+d.Input) }
	for _, c := range []struct{ rcpt, reason string }{
		{"bob@fabrikam.co", "You have written to fabrikam.co 40 times since 3 March 2026."},
		{"x@GMIAL.com", "You have written to gmial.com 5 times since 3 March 2026."},
	} {
		if plain := g.Check(c.rcpt); plain.Verdict != Hold {
			t.Fatalf("%s without the sender: %s, want hold (%s)", c.rcpt, plain.Verdict, plain.Reason)
		}
		// MAIL FROM in any form the adapters see it.
		for _, from := range []string{"alice@contoso.com", "<alice@CONTOSO.com>"} {
			d := g.CheckFrom(context.Background(), from, c.rcpt)
			if d.Verdict != Allow || d.Reason != c.reason || d.Familiar == nil || d.Familiar.Verdict != Hold || len(d.Findings) == 0 {
				t.Errorf("%s from %s: %s %q, familiar %+v; want allow %q with the findings kept", c.rcpt, from, d.Verdict, d.Reason, d.Familiar, c.reason)
			}
		}
	}
	if len(passed) != 4 || passed[0] != "alice@contoso.com bob@fabrikam.co" {
		t.Errorf("OnPass told of %q; want the four decisions", passed)
	}
	// Inspect takes the sender from the envelope.
	md := g.Inspect(Envelope{Sender: "alice@contoso.com", Recipients: []string{"bob@fabrikam.co", "carol@fabrikam.com"}})
	if md.Verdict != Allow {
		t.Errorf("Inspect: %s, want allow (%s)", md.Verdict, md.Reason())
	}
}

func TestUnfamiliarSenderIsStillFlagged(t *testing.T) {
	h := &fakeHistory{rows: map[string]fakeRow{
		"alice@contoso.com fabrikam.co": familiar(4, 30),                                           // below the threshold
		"dave@contoso.com fabrikam.co":  {n: 500, first: march3, last: march3.Add(13 * time.Hour)}, // one day
		"erin@contoso.com fabrikam.com": familiar(100, 30),                                         // another domain
		"Frank@contoso.com fabrikam.co": familiar(100, 30),                                         // the local part as written
	}}
	g := senderGuard(t, h, nil)
	for _, from := range []string{"alice@contoso.com", "dave@contoso.com", "erin@contoso.com", "frank@contoso.com", "bob@contoso.com", "", "<>", "contoso.com"} {
		if d := g.CheckFrom(context.Background(), from, "bob@fabrikam.co"); d.Verdict != Hold || d.Familiar != nil {
			t.Errorf("from %q: %s %q; want hold", from, d.Verdict, d.Reason)
		}
	}
}

// However often the sender wrote to it, a lookalike of a protected or own domain, a
// typo in a protected namespace, a blocked domain, a nonexistent suffix or a homoglyph
// (gmаil.com, fabrikаm.com with a Cyrillic а) is decided as without the sender; the
// history is not even asked.
func TestSenderHistoryNeverLetsProtectedBlockedOrNonexistentPass(t *testing.T) {
	h := &fakeHistory{rows: map[string]fakeRow{}}
	for _, d := range []string{"army.ml", "armmy.mil", "contosso.com", "example.ml", "example.cmo", "xn--gmil-63d.com", "xn--fabrikm-7fg.com"} {
		h.rows["alice@contoso.com "+d] = familiar(10_000, 365)
	}
	g := senderGuard(t, h, nil)
	for d := range h.rows {
		rcpt := "x@" + strings.Fields(d)[1]
		want := g.Check(rcpt)
		got := g.CheckFrom(context.Background(), "alice@contoso.com", rcpt)
		if want.Verdict == Allow || got.Verdict != want.Verdict || got.Familiar != nil {
			t.Errorf("%s: %s (%s); want %s as without the sender", rcpt, got.Verdict, got.Reason, want.Verdict)
		}
	}
	if n := h.asked.Load(); n != 0 {
		t.Errorf("the history was asked %d times", n)
	}
}

// A store that went away never lets mail pass: the engine's verdict stands and the
// error is reported, also when the store does not answer in time.
func TestSenderHistoryErrorKeepsTheVerdict(t *testing.T) {
	for _, h := range []*fakeHistory{{err: errors.New("disk I/O error")}, {block: true}} {
		var reported atomic.Int64
		g := senderGuard(t, h, func(sender, domain string, err error) {
			if sender != "alice@contoso.com" || domain != "fabrikam.co" || err == nil {
				t.Errorf("OnError(%q, %q, %v)", sender, domain, err)
			}
			reported.Add(1)
		})
		g.senders.Timeout = 10 * time.Millisecond
		d := g.CheckFrom(context.Background(), "alice@contoso.com", "bob@fabrikam.co")
		if d.Verdict != Hold || d.Familiar != nil || reported.Load() != 1 {
			t.Errorf("block %v: %s %q, %d errors reported; want hold and one error", h.block, d.Verdict, d.Reason, reported.Load())
		}
	}
}

// The common case stays free of I/O: an allowed recipient never asks the history.
func TestSenderHistoryIsAskedOnlyAboutFlaggedRecipients(t *testing.T) {
	h := &fakeHistory{rows: map[string]fakeRow{}}
	g := senderGuard(t, h, nil)
	for _, r := range []string{"bob@fabrikam.com", "x@gmail.com", "y@wikipedia.org", "z@army.mil", "not an address"} {
		g.CheckFrom(context.Background(), "alice@contoso.com", r)
	}
	if n := h.asked.Load(); n != 0 {
		t.Errorf("asked %d times about recipients that were not flagged", n)
	}
	g.CheckFrom(context.Background(), "alice@contoso.com", "bob@fabrikam.co")
	if n := h.asked.Load(); n != 1 {
		t.Errorf("asked %d times about one flagged recipient", n)
	}
}

func TestSenderRuleOff(t *testing.T) {
	h := &fakeHistory{rows: map[string]fakeRow{"alice@contoso.com fabrikam.co": familiar(40, 30)}}
	g := senderGuard(t, h, nil)
	for _, off := range []*Guard{g.WithSenders(SenderRule{History: h}), g.WithSenders(SenderRule{Min: 5})} {
		if d := off.CheckFrom(context.Background(), "alice@contoso.com", "bob@fabrikam.co"); d.Verdict != Hold {
			t.Errorf("rule off: %s", d.Verdict)
		}
	}
	if d := g.CheckFrom(context.Background(), "alice@contoso.com", "bob@fabrikam.co"); d.Verdict != Allow {
		t.Errorf("WithSenders changed the guard it was called on: %s", d.Verdict)
	}
}
