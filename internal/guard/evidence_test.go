package guard

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/engine"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// evidenceEngine: contoso.com is the organisation's, fabrikam.com a known correspondent,
// bank.ml and fabrikarn.com allowed (fabrikarn.com trusted by the administrators).
func evidenceEngine(t testing.TB) *engine.Engine {
	t.Helper()
	eng, err := engine.New(engine.Inputs{
		Own:       testenv.Domains(t, "contoso.com"),
		Protected: testenv.Domains(t, "bank-army.mil"),
		Known:     []engine.KnownDomain{{Domain: testenv.Domains(t, "fabrikam.com")[0], Count: 1200}},
		Providers: testenv.Domains(t, "gmail.com"),
		Allow:     testenv.Domains(t, "fabrikarn.com", "bank-army.ml"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

func sampleEvidence() Evidence {
	var e Evidence
	e.AddRegistered("contoso.co", []string{"MX.Example.ML."})
	e.AddRegistered("bank-army.ml", []string{"mx.example.ml"}) // allowed: never flagged
	e.AddRegistered("gmial.com", []string{"mx1.farm.example", "mx2.farm.example"})
	e.AddRegistered("fabrikam.co", []string{"mx.farm.example"})
	e.AddFarm("mx.farm.example", 12)
	e.AddFarm("mx2.farm.example", 7)
	e.AddChangedOwner("fabrikam.com", Change{MovedTo: []string{"mx.farm.example"}, At: time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)})
	e.AddChangedOwner("fabrikarn.com", Change{CameBack: true}) // trusted: never flagged
	e.AddChangedOwner("gmail.com", Change{CameBack: true})
	return e
}

// A flagged recipient whose domain squat saw registered and accepting mail gets at least
// policy.registered_lookalike and says where the mail would go; a farm host says how many
// lookalikes it serves.
func TestRegisteredLookalikeIsStrengthened(t *testing.T) {
	p := DefaultPolicy()
	p.Protected, p.Provider, p.Known = Warn, Warn, Warn
	g := New(evidenceEngine(t), p).WithEvidence(sampleEvidence())
	for _, c := range []struct {
		rcpt, sentence string
		farm           string
	}{
		{"bob@contoso.co", "contoso.co is registered and accepts mail at mx.example.ml.", ""},
		{"bob@gmial.com", "gmial.com is registered and accepts mail at mx1.farm.example and mx2.farm.example; mx2.farm.example serves 7 lookalike domains.", "mx2.farm.example"},
		{"bob@fabrikam.co", "fabrikam.co is registered and accepts mail at mx.farm.example, which serves 12 lookalike domains.", "mx.farm.example"},
	} {
		d := g.Check(c.rcpt)
		if d.Verdict != Hold || !strings.HasPrefix(d.Reason, "Did you mean") || !strings.HasSuffix(d.Reason, " "+c.sentence) {
			t.Errorf("%s: %s %q; want hold ending %q", c.rcpt, d.Verdict, d.Reason, c.sentence)
		}
		if ev := d.Evidence; ev == nil || ev.Kind != Registered || ev.Live || ev.Verdict != Warn || ev.Farm != c.farm {
			t.Errorf("%s: evidence %+v", c.rcpt, d.Evidence)
		}
		if plain := New(evidenceEngine(t), p).Check(c.rcpt); plain.Verdict != Warn || plain.Evidence != nil {
			t.Errorf("%s without evidence: %s %+v", c.rcpt, plain.Verdict, plain.Evidence)
		}
	}
	// At least: a stronger verdict stays; registered_lookalike: allow raises nothing.
	p.Protected = Reject
	if d := New(evidenceEngine(t), p).WithEvidence(sampleEvidence()).Check("contoso.co"); d.Verdict != Reject {
		t.Errorf("reject was lowered to %s", d.Verdict)
	}
	p.RegisteredLookalike = Allow
	if d := New(evidenceEngine(t), p).WithEvidence(sampleEvidence()).Check("gmial.com"); d.Verdict != Warn || !strings.Contains(d.Reason, "is registered") {
		t.Errorf("registered_lookalike allow: %s %q; want the engine's warn, the fact still said", d.Verdict, d.Reason)
	}
}

// A known correspondent that changed hands is flagged with policy.changed_owner, the
// reason naming the change; one the administrators allowed or trusted never is.
func TestChangedOwnerIsFlagged(t *testing.T) {
	g := New(evidenceEngine(t), DefaultPolicy()).WithEvidence(sampleEvidence())
	d := g.Check("carol@fabrikam.com")
	want := "1,200 messages went to fabrikam.com. fabrikam.com's mail servers moved to mx.farm.example, which also serves 12 lookalike domains (seen 2 December 2026); it may have changed hands."
	if d.Verdict != Warn || d.Reason != want || d.Evidence == nil || d.Evidence.Kind != ChangedOwner || d.Evidence.Verdict != Allow {
		t.Errorf("fabrikam.com: %s %q %+v; want warn %q", d.Verdict, d.Reason, d.Evidence, want)
	}
	d = g.Check("x@gmail.com")
	if want := "gmail.com is a major mail provider. gmail.com stopped existing and was registered again; it may have changed hands."; d.Verdict != Warn || d.Reason != want {
		t.Errorf("gmail.com: %s %q; want warn %q", d.Verdict, d.Reason, want)
	}
	tg := g.WithTrusted([]string{"fabrikarn.com"})
	for _, rcpt := range []string{"fabrikarn.com", "bank-army.ml"} {
		if d := tg.Check(rcpt); d.Verdict != Allow || d.Evidence != nil || strings.Contains(d.Reason, "registered") {
			t.Errorf("%s (allowed): %s %q", rcpt, d.Verdict, d.Reason)
		}
	}
	p := DefaultPolicy()
	p.ChangedOwner = Hold
	if d := New(evidenceEngine(t), p).WithEvidence(sampleEvidence()).Check("fabrikam.com"); d.Verdict != Hold {
		t.Errorf("changed_owner hold: %s", d.Verdict)
	}
	p.ChangedOwner = Allow
	if d := New(evidenceEngine(t), p).WithEvidence(sampleEvidence()).Check("fabrikam.com"); d.Verdict != Allow || d.Evidence != nil {
		t.Errorf("changed_owner allow (off): %s %q", d.Verdict, d.Reason)
	}
	// An unflagged domain squat saw registered is not a lookalike: nothing changes.
	var e Evidence
	e.AddRegistered("contoso.com", []string{"mx.contoso.com"})
	if d := New(evidenceEngine(t), DefaultPolicy()).WithEvidence(e).Check("contoso.com"); d.Verdict != Allow || d.Evidence != nil {
		t.Errorf("own domain with a registration: %s %q", d.Verdict, d.Reason)
	}
}

// Monitor mode decides with the evidence and lets the mail pass.
func TestEvidenceInMonitorMode(t *testing.T) {
	p := DefaultPolicy()
	p.Monitor, p.Known = true, Warn
	g := New(evidenceEngine(t), p).WithEvidence(sampleEvidence())
	d := g.Check("bob@fabrikam.co")
	if d.Verdict != Hold || d.Enforced() != Allow || !d.Monitor || d.Evidence == nil {
		t.Errorf("monitor: %s enforced %s %+v", d.Verdict, d.Enforced(), d.Evidence)
	}
}

// The sender's own history still lets a habitual recipient pass, but a registered
// lookalike that accepts mail is then warned about, never silently let through.
func TestSenderHistoryAndRegisteredLookalike(t *testing.T) {
	h := &fakeHistory{rows: map[string]fakeRow{
		"alice@contoso.com fabrikam.co": familiar(40, 30),
		"alice@contoso.com fabrikam.cm": familiar(40, 30),
	}}
	g := New(evidenceEngine(t), DefaultPolicy()).WithEvidence(sampleEvidence()).WithSenders(SenderRule{History: h, Min: 5})
	d := g.CheckFrom(context.Background(), "alice@contoso.com", "bob@fabrikam.co")
	want := "You have written to fabrikam.co 40 times since 3 March 2026. fabrikam.co is registered and accepts mail at mx.farm.example, which serves 12 lookalike domains."
	if d.Verdict != Warn || d.Reason != want || d.Familiar == nil || d.Familiar.Verdict != Hold {
		t.Errorf("familiar registered lookalike: %s %q %+v; want warn %q", d.Verdict, d.Reason, d.Familiar, want)
	}
	if d := g.CheckFrom(context.Background(), "alice@contoso.com", "bob@fabrikam.cm"); d.Verdict != Allow || d.Familiar == nil {
		t.Errorf("familiar lookalike without evidence: %s %q", d.Verdict, d.Reason)
	}
	if d := g.CheckFrom(context.Background(), "mallory@contoso.com", "bob@fabrikam.co"); d.Verdict != Hold || d.Familiar != nil {
		t.Errorf("unfamiliar sender: %s %q", d.Verdict, d.Reason)
	}
}

// Names from DNS or a store that are not plain host names never reach a reason.
func TestEvidenceKeepsOnlyPlainHostNames(t *testing.T) {
	var e Evidence
	e.AddRegistered("contoso.co", []string{"mx\r\n550 evil", "MX.ok.example.", "", "mx.ok.example"})
	e.AddRegistered("gmial.com", []string{"bad host"})
	e.AddRegistered("bad domain", []string{"mx.ok.example"})
	e.AddFarm("farm.example", 1) // one lookalike is no farm
	e.AddChangedOwner("fabrikam.com", Change{})
	if r, f, c := e.Len(); r != 1 || f != 0 || c != 0 {
		t.Errorf("Len = %d, %d, %d; want 1, 0, 0", r, f, c)
	}
	d := New(evidenceEngine(t), DefaultPolicy()).WithEvidence(e).Check("contoso.co")
	if !strings.HasSuffix(d.Reason, "contoso.co is registered and accepts mail at mx.ok.example.") {
		t.Errorf("reason %q", d.Reason)
	}
	if got := hostList([]string{"a.example", "b.example", "c.example", "d.example", "e.example"}); got != "a.example, b.example, c.example and 2 more" {
		t.Errorf("hostList = %q", got)
	}
}

func FuzzHostText(f *testing.F) {
	for _, s := range []string{"mx.example.ml", "MX.EXAMPLE.", "mx\r\n.x", "", "_dmarc.x", strings.Repeat("a", 300), "é.example"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h := hostText(s)
		if h != s && h != "an unnamed host" {
			t.Fatalf("hostText(%q) = %q", s, h)
		}
		for _, c := range []byte(h) {
			if h != "an unnamed host" && (c < 0x21 || c > 0x7e) {
				t.Fatalf("hostText(%q) = %q holds byte %#x", s, h, c)
			}
		}
		if n := normName(s); n != "" && (hostText(n) != n || len(n) > maxHostText) {
			t.Fatalf("normName(%q) = %q is not plain", s, n)
		}
		if l := hostList([]string{s, s, s, s}); strings.ContainsAny(l, "\r\n") {
			t.Fatalf("hostList holds a line break: %q", l)
		}
	})
}

// The first example of docs/dns.md, word for word.
func TestEvidenceDocExample(t *testing.T) {
	eng, err := engine.New(engine.Inputs{Protected: testenv.Domains(t, "bank-army.mil")})
	if err != nil {
		t.Fatal(err)
	}
	var e Evidence
	e.AddRegistered("bank-army.ml", []string{"mx.example.ml"})
	d := New(eng, DefaultPolicy()).WithEvidence(e).Check("bank-army.ml")
	want := `Did you mean bank-army.mil? "ml" is one letter short of "mil"; bank-army.mil is protected. bank-army.ml is registered and accepts mail at mx.example.ml.`
	if d.Verdict != Hold || d.Reason != want {
		t.Errorf("%s %q\nwant hold %q", d.Verdict, d.Reason, want)
	}
}

// The JSON of a decision names the evidence, and only when there is some.
func TestEvidenceInJSON(t *testing.T) {
	g := New(evidenceEngine(t), DefaultPolicy()).WithEvidence(sampleEvidence())
	var got map[string]any
	if err := json.Unmarshal(g.Check("bob@fabrikam.co").AppendJSON(nil), &got); err != nil {
		t.Fatal(err)
	}
	ev, _ := got["evidence"].(map[string]any)
	if ev["kind"] != "registered" || ev["live"] != false || ev["farm"] != "mx.farm.example" || ev["farm_lookalikes"] != 12.0 ||
		ev["verdict_before"] != "hold" || fmt.Sprint(ev["hosts"]) != "[mx.farm.example]" {
		t.Errorf("evidence = %v", got["evidence"])
	}
	if b := g.Check("bob@fabrikam.de").AppendJSON(nil); strings.Contains(string(b), "evidence") || !json.Valid(b) {
		t.Errorf("no evidence: %s", b)
	}
}
